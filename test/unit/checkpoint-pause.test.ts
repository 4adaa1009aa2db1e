/** The pause half's link and time-limit logic, with a stubbed context (the real pause is proven in e2e). */
import type { IExecuteFunctions } from 'n8n-workflow';
import { buildLinkParams, readLinkParams } from '../../shared/review/link';
import { buildReviewUrl, readTimeLimit } from '../../shared/review/pause';

function context(params: Record<string, unknown>, extra: Record<string, unknown> = {}): IExecuteFunctions {
	return {
		getNodeParameter: (name: string, _i: number, fallback: unknown) => (name in params ? params[name] : fallback),
		getNode: () => ({ id: 'node-1/ä', name: 'Human Checkpoint' }),
		evaluateExpression: (expression: string) => {
			if (expression !== '{{ $execution.resumeUrl }}') throw new Error(`unexpected expression ${expression}`);
			return 'https://n8n.example.com/webhook-waiting/42';
		},
		...extra,
	} as unknown as IExecuteFunctions;
}

describe('review link and time limit at pause time', () => {
	const params = buildLinkParams([{ a: 1 }], new Date('2026-01-01T00:00:00.000Z'));

	it('uses n8n signing when the context has it', () => {
		const calls: unknown[] = [];
		const ctx = context({}, { getSignedResumeUrl: (p: Record<string, string>) => (calls.push(p), 'signed') });
		expect(buildReviewUrl(ctx, params)).toBe('signed');
		expect(calls).toEqual([params]);
	});

	it('falls back to $execution.resumeUrl + node id on n8n versions without signing', () => {
		const url = new URL(buildReviewUrl(context({}), params));
		expect(url.origin + url.pathname).toBe('https://n8n.example.com/webhook-waiting/42/node-1%2F%C3%A4');
		expect(readLinkParams(Object.fromEntries(url.searchParams))).toEqual(params);
	});

	it('computes the time limit, none when off, and refuses a non-positive amount', () => {
		const now = new Date('2026-01-01T00:00:00.000Z');
		expect(readTimeLimit(context({}), now)).toBeUndefined();
		expect(readTimeLimit(context({ limitWaitTime: true, resumeAmount: 1.5, resumeUnit: 'hours' }), now)?.toISOString()).toBe('2026-01-01T01:30:00.000Z');
		expect(() => readTimeLimit(context({ limitWaitTime: true, resumeAmount: 0, resumeUnit: 'minutes' }), now)).toThrow(
			'Time limit must be a positive number of minutes, hours or days (got 0 minutes)',
		);
	});
});
