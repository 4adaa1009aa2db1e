/**
 * Inside a real n8n (the packed tarball installed): AI Classify version 3 learns from the corrections in the
 * Audit Log's file store (the requests the provider server received carry them, masked), and Audit Log
 * version 2's Report recommends thresholds from the same store.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildDraft, type AuditDraft } from '../../nodes/AuditLog/record';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { aiItem, review } from '../unit/audit-helpers';
import { jsonWithLogprobs, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
	id: randomUUID(),
	name,
	type,
	typeVersion,
	position: [0, 0],
	parameters,
	...extra,
});

let server: ProviderServer;
let n8n: N8n;
let folder: string;

beforeAll(async () => {
	server = await startProviderServer();
	folder = await fs.mkdtemp(join(tmpdir(), 'e2e-learning-'));
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'e2eOpenAi00001', name: 'Local OpenAI', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-never-shown', baseUrl: server.openaiBaseUrl } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
	if (folder) await fs.rm(folder, { recursive: true, force: true });
});

test('AI Classify version 3 sends the corrections in its store to the model, masked; Audit Log version 2 reports thresholds', async () => {
	const filePath = join(folder, '{stream}.jsonl');
	const workflow = {
		name: 'e2e learning from corrections',
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Tickets', 'n8n-nodes-base.set', 3.4, {
				mode: 'raw',
				jsonOutput: JSON.stringify({ tickets: [{ text: 'Ticket 100: I was charged twice' }, { text: 'Ticket 101: the site is down' }] }),
				options: {},
			}),
			node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'tickets', options: {} }),
			node(
				'AI Classify',
				'n8n-nodes-governed-ai.aiClassify',
				3,
				{
					provider: 'openai',
					openaiModel: 'gpt-4.1-mini',
					text: '={{ $json.text }}',
					categories: { category: ['billing', 'outage', 'access'].map((name) => ({ name, description: `${name} tickets` })) },
					confidenceMethod: 'logprobs',
					routing: 'single',
					learnFromCorrections: true,
					correctionsFilePath: filePath,
					correctionsStream: 'learn',
				},
				{ credentials: { governedAiOpenAiApi: { id: 'e2eOpenAi00001', name: 'Local OpenAI' } } },
			),
			node('Report', 'n8n-nodes-governed-ai.auditLog', 2, {
				operation: 'report',
				filePath,
				stream: 'learn',
				window: 'all',
				targetPrecision: 0.5,
				reviewCostUsd: 3,
			}),
		],
		connections: {
			Start: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
			Tickets: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: { main: [[{ node: 'AI Classify', type: 'main', index: 0 }]] },
			'AI Classify': { main: [[{ node: 'Report', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
	const workflowId = await n8n.importWorkflow(workflow);

	// the store: 20 corrections this workflow's AI Classify got from a person, the text logged with personal data
	const drafts: AuditDraft[] = [];
	for (let n = 1; n <= 20; n++) {
		const to = ['billing', 'outage', 'access'][n % 3];
		const json = aiItem(`ticket ${n}`, { answer: 'outage', confidence: 0.5 + n / 50 });
		json.review = { ...review('edited'), edits: { 'ai.classify.answer': { from: 'outage', to } } };
		const draft = buildDraft(json, { workflowId, executionId: String(n), nodeName: 'Audit Log', itemIndex: 0, now: new Date(Date.UTC(2026, 10, 1, 0, n)) });
		drafts.push({ ...draft, input: { text: `Ticket ${n}: from zoe${n}@example.com about ${to}` } });
	}
	await new FileSink(filePath).append('learn', drafts);

	server.reset();
	server.setResponder(() => jsonWithLogprobs({ label: 'billing', reason: 'r', evidence: [] }, { billing: -0.01 }));
	const { data } = await n8n.execute(workflowId);

	expect(server.requests).toHaveLength(2);
	for (const request of server.requests) {
		for (let n = 1; n <= 20; n++) expect(request.systemText).toContain(`Ticket ${n}: from [EMAIL] about`);
		expect(request.systemText).not.toContain('@example.com');
	}
	const [[first]] = nodeOutputs(data, 'AI Classify');
	expect(first.ai.classify.corrections).toMatchObject({ stream: 'learn', count: 20, maxExamples: 20, maxTokens: 2000 });
	expect(first.ai.classify.corrections.tokens).toBeLessThanOrEqual(2000);

	// every correction is an edit, so nothing is right: no threshold meets even 50 %, and the report says why
	const [[report]] = nodeOutputs(data, 'Report');
	expect(report.recommendation).toMatchObject({ targetPrecision: 0.5, thresholds: {} });
	expect(report.recommendation.overall).toMatchObject({ threshold: null, reviewedTotal: 20 });
	expect(report.calibrationByMethod.logprobs).toMatchObject({ reviewed: 20, correct: 0, accuracy: 0 });
	expect(report.savings).toMatchObject({ reviewCostUsd: 3, autoRouted: 0 });
	expect(report.html).toContain('<h2>Recommended thresholds</h2>');
	expect(JSON.stringify(data)).not.toContain('sk-e2e-never-shown');
}, 600_000);
