/**
 * AI Classify → Confidence Gate inside a real n8n, installed from the packed tarball, talking to the local
 * provider server over real HTTP through the OpenAI and Anthropic credentials.
 */
import { randomUUID } from 'node:crypto';

import { jsonWithLogprobs, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

const tickets = [
	{ id: 1, text: 'I was charged twice on my last invoice' },
	{ id: 2, text: 'The dashboard is down for everyone' },
	{ id: 3, text: 'Maybe something about my account, not sure' },
	{ id: 4, text: 'Where is my parcel?' },
];

function workflow(provider: 'openai' | 'anthropic') {
	const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
		id: randomUUID(),
		name,
		type,
		typeVersion,
		position: [0, 0],
		parameters,
		...extra,
	});
	return {
		name: `e2e classify ${provider}`,
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Tickets', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ tickets }), options: {} }),
			node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'tickets', options: {} }),
			node(
				'AI Classify',
				'n8n-nodes-governed-ai.aiClassify',
				1,
				{
					provider,
					model: provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
					text: '={{ $json.text }}',
					categories: {
						category: [
							{ name: 'billing', description: 'Invoices, charges, refunds' },
							{ name: 'outage', description: 'Service down' },
							{ name: 'access', description: 'Login and accounts' },
						],
					},
					confidenceMethod: provider === 'openai' ? 'logprobs' : 'k-sample',
					samples: 3,
					threshold: 0.6,
				},
				{
					credentials:
						provider === 'openai'
							? { governedAiOpenAiApi: { id: 'e2eOpenAi00001', name: 'Local OpenAI' } }
							: { governedAiAnthropicApi: { id: 'e2eAnthropic01', name: 'Local Anthropic' } },
					onError: 'continueRegularOutput',
				},
			),
			node('Gate', 'n8n-nodes-governed-ai.confidenceGate', 1, { high: 0.9, low: 0.5 }),
		],
		connections: {
			Start: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
			Tickets: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: { main: [[{ node: 'AI Classify', type: 'main', index: 0 }]] },
			'AI Classify': {
				main: [0, 1, 2, 3].map(() => [{ node: 'Gate', type: 'main', index: 0 }]),
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer();
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'e2eOpenAi00001', name: 'Local OpenAI', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-never-shown', baseUrl: server.openaiBaseUrl } },
		{ id: 'e2eAnthropic01', name: 'Local Anthropic', type: 'governedAiAnthropicApi', data: { apiKey: 'sk-ant-e2e-never-shown', baseUrl: server.anthropicBaseUrl } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

test('OpenAI with log-probabilities: labels, confidence, routing and the gate inside n8n', async () => {
	server.reset();
	server.setResponder((req) => {
		if (req.userText.includes('charged')) return jsonWithLogprobs({ label: 'billing', reason: 'charged twice', evidence: ['charged twice'] }, { billing: -0.02 });
		if (req.userText.includes('down')) return jsonWithLogprobs({ label: 'outage', reason: 'down', evidence: ['is down'] }, { outage: -0.2 });
		if (req.userText.includes('account')) return jsonWithLogprobs({ label: 'access', reason: 'account', evidence: ['my account'] }, { access: -1.5 });
		return { json: { label: 'shipping', reason: 'parcel', evidence: [] } };
	});
	const id = await n8n.importWorkflow(workflow('openai'));
	const { data } = await n8n.execute(id);

	const classify = nodeOutputs(data, 'AI Classify');
	expect(classify.map((items) => items.map((i) => i.id))).toEqual([[1], [2], [], [3, 4]]);
	const billing = classify[0][0].ai.classify;
	expect(billing.answer).toBe('billing');
	expect(billing.confidence).toBeCloseTo(Math.exp(-0.02), 6);
	expect(billing.confidenceMethod).toBe('logprobs');
	expect(billing.provider).toBe('openai');
	expect(billing.usage.inputTokens).toBeGreaterThan(0);
	expect(billing.promptHash).toMatch(/^[0-9a-f]{64}$/);
	// the out-of-set label never reached a category output
	expect(classify[3][1].ai.classify.answer).toBeNull();
	expect(classify[3][1].ai.classify.reviewReason).toBe('no valid answer');

	// four branches feed the gate, so n8n runs it once per branch: gather every run
	const runs = (data.resultData?.runData ?? data)['Gate'].length as number;
	const gate = [0, 1, 2].map((output) => Array.from({ length: runs }, (_, run) => nodeOutputs(data, 'Gate', run)[output] ?? []).flat());
	// 1: 0.98 → Auto; 2: 0.82 → Review; 4: no answer, no confidence → Review; 3: 0.22 → Reject
	expect(gate.map((items) => items.map((i) => i.id).sort())).toEqual([[1], [2, 4], [3]]);
	expect(runs).toBe(3);
	expect(gate[0][0].gate.source).toBe('ai.classify');
	expect(JSON.stringify(data)).not.toContain('sk-e2e-never-shown');
});

test('Anthropic with k-sample agreement inside n8n', async () => {
	server.reset();
	let outageCalls = 0;
	server.setResponder((req) => {
		if (req.userText.includes('charged')) return { json: { label: 'billing', reason: 'r', evidence: [] } };
		// one of the three samples for this ticket disagrees
		if (req.userText.includes('down')) return { json: { label: ++outageCalls === 2 ? 'access' : 'outage', reason: 'r', evidence: [] } };
		return { json: { label: 'access', reason: 'r', evidence: [] } };
	});
	const id = await n8n.importWorkflow(workflow('anthropic'));
	const { data } = await n8n.execute(id);
	const classify = nodeOutputs(data, 'AI Classify');
	const all = classify.flat();
	expect(all).toHaveLength(4);
	const byId = Object.fromEntries(all.map((i) => [i.id, i.ai.classify]));
	expect(byId[1].confidence).toBe(1);
	expect(byId[1].confidenceMethod).toBe('k-sample');
	expect(byId[2].answer).toBe('outage');
	expect(byId[2].confidence).toBeCloseTo(2 / 3, 9);
	expect(server.requests.filter((r) => r.api === 'anthropic')).toHaveLength(12);
	expect(server.requests[0].body.system[0].cache_control).toEqual({ type: 'ephemeral' });
});
