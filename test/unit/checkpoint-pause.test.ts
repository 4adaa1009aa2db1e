/**
 * The pause half's link and time-limit logic, inside n8n's execution engine (n8n-core): the real context
 * signs the link (getSignedResumeUrl), resolves $execution.resumeUrl and reads the node's parameters. (The
 * real pause and resume are proven in e2e.)
 */
import type { IExecuteFunctions, INodeParameters } from 'n8n-workflow';

import { HumanCheckpoint } from '../../nodes/HumanCheckpoint/HumanCheckpoint.node';
import { buildLinkParams, readLinkParams } from '../../nodes/HumanCheckpoint/link';
import { buildReviewUrl, readTimeLimit } from '../../nodes/HumanCheckpoint/pause';
import { probeNode, runNode } from './helpers/engine';

const properties = new HumanCheckpoint().description.properties;
const NODE_ID = 'node-1/ä';

/** Runs `body` with the execution context n8n gives a node with the Checkpoint's parameters. */
async function inEngine<T>(parameters: INodeParameters, body: (ctx: IExecuteFunctions) => T): Promise<T> {
	let value: T | undefined;
	await runNode({ node: probeNode(properties, (ctx) => (value = body(ctx))), parameters, nodeId: NODE_ID, executionId: '42' });
	return value as T;
}

/** The context of an n8n version without link signing (1.x before getSignedResumeUrl): the same, minus that. */
const withoutSigning = (ctx: IExecuteFunctions) => Object.create(ctx, { getSignedResumeUrl: { value: undefined } }) as IExecuteFunctions;

describe('review link and time limit at pause time', () => {
	const params = buildLinkParams([{ a: 1 }], new Date('2026-01-01T00:00:00.000Z'));

	it('uses n8n signing when the context has it', async () => {
		const [url, signed] = await inEngine({}, (ctx) => [buildReviewUrl(ctx, params), ctx.getSignedResumeUrl({ ...params } as unknown as Record<string, string>)]);
		expect(url).toBe(signed);
		const parsed = new URL(url);
		expect(parsed.pathname).toBe(`/webhook-waiting/42/${encodeURIComponent(NODE_ID)}`);
		expect(parsed.searchParams.get('signature')).toMatch(/^[0-9a-f]{64}$/);
		parsed.searchParams.delete('signature');
		expect(readLinkParams(Object.fromEntries(parsed.searchParams))).toEqual(params);
	});

	it('falls back to $execution.resumeUrl + node id on n8n versions without signing', async () => {
		const [url, resumeUrl] = await inEngine({}, (ctx) => [buildReviewUrl(withoutSigning(ctx), params), String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0))]);
		// n8n 2.40's resumeUrl carries the execution's resume token as ?signature=…; the node id goes on the path
		const resume = new URL(resumeUrl);
		const parsed = new URL(url);
		expect(parsed.origin + parsed.pathname).toBe(`${resume.origin}${resume.pathname}/node-1%2F%C3%A4`);
		expect(parsed.searchParams.get('signature')).toBe(resume.searchParams.get('signature'));
		parsed.searchParams.delete('signature');
		expect(readLinkParams(Object.fromEntries(parsed.searchParams))).toEqual(params);
	});

	it('computes the time limit, none when off, and refuses a non-positive amount', async () => {
		const now = new Date('2026-01-01T00:00:00.000Z');
		expect(await inEngine({}, (ctx) => readTimeLimit(ctx, now))).toBeUndefined();
		const limit = await inEngine({ limitWaitTime: true, resumeAmount: 1.5, resumeUnit: 'hours' }, (ctx) => readTimeLimit(ctx, now));
		expect(limit?.toISOString()).toBe('2026-01-01T01:30:00.000Z');
		await expect(inEngine({ limitWaitTime: true, resumeAmount: 0, resumeUnit: 'minutes' }, (ctx) => readTimeLimit(ctx, now))).rejects.toThrow(
			'Time limit must be a positive number of minutes, hours or days (got 0 minutes)',
		);
	});
});
