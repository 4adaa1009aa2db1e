/**
 * Audit Log inside a real n8n: with zero configuration after an AI result (`ai.latest`), concurrent
 * executions of one n8n append to the default file sink under the user folder; the stream is gap-free and
 * Verify (another workflow) finds the chain valid; Report renders.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import { startN8n, type N8n } from './harness';

jest.setTimeout(900_000);

const AI_ITEMS = `
const n = Number($input.first().json.body.n);
const tag = String($input.first().json.body.tag);
const out = [];
for (let i = 0; i < n; i++) {
	const label = ['billing', 'technical', 'other'][i % 3];
	out.push({ json: { text: tag + ' ticket ' + i, ai: { latest: 'classify', classify: {
		decisionId: tag + '-' + i, step: 'classify', answer: label, confidence: (i % 10) / 10, confidenceMethod: 'logprobs',
		reason: 'r', evidence: [], needsReview: i % 10 < 5, provider: 'openai', model: 'gpt-4o-mini',
		usage: { inputTokens: 100, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
		costUsd: 0.0001, attempts: 1, latencyMs: 10, promptHash: 'p', at: new Date().toISOString() } } } });
}
return out;
`;

function webhookWorkflow(path: string, middle: object[], connections: Record<string, unknown>) {
	return {
		name: `audit ${path}`,
		nodes: [
			{
				id: randomUUID(),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
			},
			...middle,
		],
		connections,
		settings: { executionOrder: 'v1' },
	};
}

const appendWorkflow = webhookWorkflow(
	'audit-append',
	[
		{ id: randomUUID(), name: 'AI Items', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: AI_ITEMS } },
		// zero configuration: every parameter at its default
		{ id: randomUUID(), name: 'Audit Log', type: 'n8n-nodes-governed-ai.auditLog', typeVersion: 1, position: [440, 0], parameters: {} },
	],
	{
		Webhook: { main: [[{ node: 'AI Items', type: 'main', index: 0 }]] },
		'AI Items': { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] },
	},
);

const checkWorkflow = (operation: 'verify' | 'report') =>
	webhookWorkflow(
		`audit-${operation}`,
		[
			{
				id: randomUUID(),
				name: 'Audit Log',
				type: 'n8n-nodes-governed-ai.auditLog',
				typeVersion: 1,
				position: [220, 0],
				parameters: operation === 'report' ? { operation, window: 'all' } : { operation },
			},
		],
		{ Webhook: { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } },
	);

async function post(n8n: N8n, path: string, body: unknown): Promise<any> {
	for (let attempt = 0; ; attempt++) {
		const res = await n8n.webhook(path, body);
		if (res.status === 200) return await res.json();
		// a freshly activated webhook can take a moment to register
		if (res.status !== 404 || attempt > 20) throw new Error(`${path}: ${res.status} ${await res.text()}`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

test('zero-config Audit Log in n8n: concurrent executions keep one valid, gap-free chain', async () => {
	// Its own n8n, not sharedN8n(): it counts every record of the zero-config `default` stream and then tampers with it.
	const n8n = await startN8n();
	try {
		for (const workflow of [appendWorkflow, checkWorkflow('verify'), checkWorkflow('report')]) {
			await n8n.activate(await n8n.importWorkflow(workflow));
		}
		const executions = 6;
		const perExecution = 20;
		const answers = await Promise.all(
			Array.from({ length: executions }, (_, e) => post(n8n, 'audit-append', { n: perExecution, tag: `e${e}` })),
		);
		const stamped = answers.flat();
		expect(stamped).toHaveLength(executions * perExecution);
		for (const item of stamped) {
			expect(item.text).toMatch(/ticket/);
			expect(item.ai.latest).toBe('classify');
			expect(item.audit).toMatchObject({ stream: 'default', recordId: expect.any(String), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
		}
		const sequences = stamped.map((i) => i.audit.sequence).sort((a: number, b: number) => a - b);
		expect(sequences).toEqual(Array.from({ length: executions * perExecution }, (_, i) => i + 1));

		const file = join(n8n.userFolder, '.n8n', 'governed-ai-audit', 'default.jsonl');
		const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
		expect(lines).toHaveLength(executions * perExecution);
		const first = JSON.parse(lines[0]);
		expect(first).toMatchObject({ nodeName: 'Audit Log', step: 'classify', model: 'gpt-4o-mini', workflowId: expect.any(String) });
		expect(first.executionId).toEqual(expect.any(String));

		const [verified] = await post(n8n, 'audit-verify', {});
		expect(verified).toMatchObject({ valid: true, records: executions * perExecution, firstBad: null });

		const [report] = await post(n8n, 'audit-report', {});
		expect(report.records).toBe(executions * perExecution);
		expect(report.volume.byLabel).toEqual({ billing: 42, technical: 42, other: 36 }); // per execution i%3: 7, 7, 6
		expect(report.html).toMatch(/^<!DOCTYPE html>/);

		// tamper with one line: Verify in n8n names it
		lines[57] = lines[57].replace(/"answer":"[a-z]+"/, '"answer":"tampered"');
		await fs.writeFile(file, lines.join('\n') + '\n');
		const [tampered] = await post(n8n, 'audit-verify', {});
		expect(tampered).toMatchObject({ valid: false, firstBad: { problem: 'edited', sequence: 58 } });
	} catch (error) {
		console.log(n8n.logs().split('\n').slice(-80).join('\n'));
		throw error;
	} finally {
		await n8n.stop();
	}
});
