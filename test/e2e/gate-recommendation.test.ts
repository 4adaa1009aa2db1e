/**
 * Confidence Gate version 3 routing by the latest recommendation, inside a real n8n (the packed package, the
 * shared n8n; the audit file store in a temp folder of this file's own, so no other file sees it).
 *
 * One workflow, started by a webhook: reviewed decisions (billing: 40 approved at confidence 0.95, 5 approved and 5 rejected
 * at 0.80; tech: 5 approved at 0.99) → Audit Log v2 appends them → Audit Log v3 Report, Record Recommendation
 * on, target precision 0.9 → five items to gate → a version 3 gate (Thresholds From: Latest Recommendation) and
 * a version 2 gate side by side, both typed "Auto at or Above" 0.85, "Reject Below" 0.4.
 *
 * Hand count (Wilson 95 % lower bound of n of n agreeing: n / (n + 3.8415)): billing at 0.95 has 40 of 40,
 * bound 0.912 ≥ 0.9, while at 0.80 45 of 50 (share 0.9) falls short: recommended 0.95. tech: 5 of 5, bound
 * 0.566: no threshold. So v3 sends billing 0.97 and 0.95 to Auto, billing 0.90 (which the typed 0.85 would
 * pass) and tech 0.99 (no recommendation) to Review, billing 0.30 to Reject; v2 routes by 0.85 as before.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AuditRecord } from '../../nodes/AuditLog/record';
import { aiItem, gate, review } from '../unit/audit-helpers';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

jest.setTimeout(900_000);

let n8n: N8n;
let folder: string;

beforeAll(async () => {
	folder = await fs.mkdtemp(join(tmpdir(), 'governed-ai-e2e-gate-reco-'));
	n8n = await sharedN8n();
});

afterAll(async () => {
	await n8n?.stop();
	await fs.rm(folder, { recursive: true, force: true });
});

function reviewed(): Array<Record<string, unknown>> {
	const rows: Array<[string, number, 'approved' | 'rejected']> = [
		...Array.from({ length: 40 }, (): [string, number, 'approved'] => ['billing', 0.95, 'approved']),
		...Array.from({ length: 10 }, (_, i): [string, number, 'approved' | 'rejected'] => ['billing', 0.8, i < 5 ? 'approved' : 'rejected']),
		...Array.from({ length: 5 }, (): [string, number, 'approved'] => ['tech', 0.99, 'approved']),
	];
	return rows.map(([label, confidence, decision], i) =>
		aiItem(`ticket ${i}`, { answer: label, confidence }, { gate: gate('review', confidence, label), review: review(decision) }),
	);
}

const toGate = [
	{ id: 'b97', label: 'billing', confidence: 0.97 },
	{ id: 'b95', label: 'billing', confidence: 0.95 },
	{ id: 'b90', label: 'billing', confidence: 0.9 },
	{ id: 'b30', label: 'billing', confidence: 0.3 },
	{ id: 't99', label: 'tech', confidence: 0.99 },
];

function workflow(stream: string, filePath: string, path: string) {
	const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
		id: randomUUID(),
		name,
		type,
		typeVersion,
		position: [0, 0],
		parameters,
		...extra,
	});
	const store = { stream, sink: 'file', filePath };
	const gateParameters = { source: 'expression', confidence: '={{ $json.confidence }}', label: '={{ $json.label }}', high: 0.85, low: 0.4, ...store };
	const to = (name: string) => ({ main: [[{ node: name, type: 'main', index: 0 }]] });
	return {
		name: `e2e gate recommendation ${stream}`,
		nodes: [
			node('Start', 'n8n-nodes-base.webhook', 2, { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'allEntries', options: {} }, { webhookId: randomUUID() }),
			node('Reviewed', 'n8n-nodes-base.code', 2, { jsCode: `return ${JSON.stringify(reviewed())}.map((json) => ({ json }));` }),
			node('Audit Log', 'n8n-nodes-governed-ai.auditLog', 2, { operation: 'append', ...store }),
			node('Report', 'n8n-nodes-governed-ai.auditLog', 3, { operation: 'report', ...store, window: 'all', targetPrecision: 0.9, recordRecommendation: true }),
			node('To Gate', 'n8n-nodes-base.code', 2, { jsCode: `return ${JSON.stringify(toGate)}.map((json) => ({ json }));` }),
			node('Gate v3', 'n8n-nodes-governed-ai.confidenceGate', 3, { ...gateParameters, thresholdsFrom: 'recommendation' }),
			node('Gate v2', 'n8n-nodes-governed-ai.confidenceGate', 2, gateParameters),
		],
		connections: {
			Start: to('Reviewed'),
			Reviewed: to('Audit Log'),
			'Audit Log': to('Report'),
			Report: to('To Gate'),
			'To Gate': { main: [[{ node: 'Gate v3', type: 'main', index: 0 }, { node: 'Gate v2', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** Runs the webhook workflow once and returns its execution, with its data, from n8n's public API. */
async function runOnce(workflowId: string, path: string): Promise<any> {
	await n8n.activate(workflowId);
	for (let attempt = 0; ; attempt++) {
		const res = await n8n.webhook(path, {});
		if (res.status === 200) break;
		// a webhook can take a moment to register on a busy machine
		if (res.status !== 404 || attempt > 40) throw new Error(`${path}: ${res.status} ${await res.text()}\n${n8n.logs().slice(-3000)}`);
		await new Promise((r) => setTimeout(r, 500));
	}
	for (let attempt = 0; ; attempt++) {
		const done = (await n8n.executions(workflowId)).find((e) => !['new', 'running', 'waiting'].includes(e.status));
		if (done) {
			if (done.status !== 'success') throw new Error(`execution ${done.id}: ${done.status} ${JSON.stringify(done.data?.resultData?.error ?? null)}`);
			return done;
		}
		if (attempt > 120) throw new Error(`workflow ${workflowId}: no finished execution\n${n8n.logs().slice(-3000)}`);
		await new Promise((r) => setTimeout(r, 1000));
	}
}

test('the report records a recommendation; a version 3 gate routes by it and says so; a version 2 gate beside it routes as before', async () => {
	const stream = 'reco';
	const path = `gate-reco-${randomUUID()}`;
	const data = await runOnce(await n8n.importWorkflow(workflow(stream, join(folder, '{stream}.jsonl'), path)), path);

	const [[report]] = nodeOutputs(data, 'Report');
	expect(report.recommendation.thresholds).toEqual({ billing: 0.95 });
	expect(report.recommendation.byLabel.tech).toMatchObject({ threshold: null, reviewedTotal: 5 });

	// the stream: 55 decisions, then the recommendation record, chained after them
	const lines = (await fs.readFile(join(folder, `${stream}.jsonl`), 'utf8')).trim().split('\n');
	const stored = lines.map((line) => JSON.parse(line) as AuditRecord);
	expect(stored).toHaveLength(56);
	const recommendation = stored[55];
	expect(recommendation).toMatchObject({
		kind: 'recommendation',
		sequence: 56,
		prevHash: stored[54].hash,
		nodeName: 'Report',
		recommendation: { targetPrecision: 0.9, thresholds: { billing: 0.95 }, window: { from: null, to: null } },
	});
	expect(report.recordedRecommendation).toEqual({ recordId: recommendation.recordId, sequence: 56, at: recommendation.at });

	const ids = (items: any[]) => items.map((item) => item.id);
	const [auto, toReview, reject] = nodeOutputs(data, 'Gate v3');
	expect(ids(auto)).toEqual(['b97', 'b95']);
	expect(ids(toReview)).toEqual(['b90', 't99']);
	expect(ids(reject)).toEqual(['b30']);
	const source = { recordId: recommendation.recordId, at: recommendation.at, targetPrecision: 0.9, window: { from: null, to: null } };
	for (const item of [...auto, toReview[0], ...reject]) {
		expect(item.gate).toMatchObject({ thresholdSource: 'recommendation', high: 0.95, low: 0.4, recommendation: source });
	}
	expect(toReview[1].gate).toMatchObject({ thresholdSource: 'no-recommendation', high: 0.85, recommendation: source });
	expect(toReview[1].gate.reason).toMatch(/has no threshold for "tech"/);

	const [auto2, review2, reject2] = nodeOutputs(data, 'Gate v2');
	expect(ids(auto2)).toEqual(['b97', 'b95', 'b90', 't99']);
	expect(review2).toEqual([]);
	expect(ids(reject2)).toEqual(['b30']);
	for (const item of [...auto2, ...reject2]) {
		expect(item.gate.high).toBe(0.85);
		expect(item.gate).not.toHaveProperty('thresholdSource');
		expect(item.gate).not.toHaveProperty('recommendation');
	}
});
