/**
 * The models and credentials users already have in n8n (issue 17), inside a real n8n installed from the packed
 * tarball: AI Classify, AI Extract and AI Decide (version 3) answered by n8n's own Chat Model sub-nodes (OpenAI,
 * Anthropic, Ollama) pointed at the local provider server, and on the SDK path with n8n's own `openAiApi` /
 * `anthropicApi` credentials. One n8n for the file.
 */
import { randomUUID } from 'node:crypto';

import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, startN8n, type N8n } from './harness';

jest.setTimeout(10 * 60_000);

const OPENAI_KEY = 'sk-e2e-chatmodel-openai-never-shown';
const ANTHROPIC_KEY = 'sk-ant-e2e-chatmodel-never-shown';
const SECRETS = [OPENAI_KEY, ANTHROPIC_KEY];

const tickets = [
	{ id: 1, text: 'I was charged twice on my last invoice. Please refund the charge.' },
	{ id: 2, text: 'The dashboard is down for everyone since this morning.' },
	{ id: 3, text: 'I cannot login to my account, the password reset fails.' },
];

type ModelSource =
	| { kind: 'chatModel'; subNode: 'openai' | 'anthropic' | 'ollama' }
	| { kind: 'credential'; provider: 'openai' | 'anthropic' };

const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
	id: randomUUID(),
	name,
	type,
	typeVersion,
	position: [0, 0],
	parameters,
	...extra,
});

function subNode(kind: 'openai' | 'anthropic' | 'ollama') {
	if (kind === 'openai') {
		return node(
			'Chat Model',
			'@n8n/n8n-nodes-langchain.lmChatOpenAi',
			1.3,
			// the local server speaks Chat Completions, not the Responses API (on by default from 1.3)
			{ model: { __rl: true, mode: 'id', value: 'gpt-4.1-mini' }, responsesApiEnabled: false, options: { maxRetries: 0 } },
			{ credentials: { openAiApi: { id: 'e2eN8nOpenAi01', name: 'n8n OpenAI (local)' } } },
		);
	}
	if (kind === 'anthropic') {
		return node(
			'Chat Model',
			'@n8n/n8n-nodes-langchain.lmChatAnthropic',
			1.3,
			{ model: { __rl: true, mode: 'id', value: 'claude-haiku-4-5' }, options: {} },
			{ credentials: { anthropicApi: { id: 'e2eN8nAnthro01', name: 'n8n Anthropic (local)' } } },
		);
	}
	return node(
		'Chat Model',
		'@n8n/n8n-nodes-langchain.lmChatOllama',
		1,
		{ model: 'llama3.2', options: {} },
		{ credentials: { ollamaApi: { id: 'e2eN8nOllama01', name: 'Ollama (local)' } } },
	);
}

/** What every AI node of the workflow gets for its model: Provider, and Credential or a connected Chat Model. */
function modelParameters(source: ModelSource, options: object): { parameters: object; extra: object } {
	if (source.kind === 'chatModel') return { parameters: { provider: 'chatModel', options }, extra: {} };
	const credentials =
		source.provider === 'openai'
			? { openAiApi: { id: 'e2eN8nOpenAi01', name: 'n8n OpenAI (local)' } }
			: { anthropicApi: { id: 'e2eN8nAnthro01', name: 'n8n Anthropic (local)' } };
	return {
		parameters: {
			provider: source.provider,
			credentialSource: 'n8n',
			[`${source.provider}Model`]: source.provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
			options,
		},
		extra: { credentials },
	};
}

/** Tickets → Split → AI Classify, AI Extract and AI Decide side by side, all version 3, on one model source. */
function workflow(source: ModelSource, options: object = { retries: 8, concurrency: 3 }, which = ['classify', 'extract', 'decide']) {
	const { parameters, extra } = modelParameters(source, options);
	const ai = { ...extra, onError: 'continueRegularOutput' };
	const nodes: any[] = [
		node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
		node('Tickets', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ tickets }), options: {} }),
		node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'tickets', options: {} }),
	];
	const connections: Record<string, any> = {
		Start: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
		Tickets: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
		Split: { main: [[]] },
	};
	const add = (name: string, type: string, own: object) => {
		nodes.push(node(name, `n8n-nodes-governed-ai.${type}`, 3, { ...parameters, ...own }, ai));
		connections.Split.main[0].push({ node: name, type: 'main', index: 0 });
	};
	if (which.includes('classify')) {
		add('AI Classify', 'aiClassify', {
			text: '={{ $json.text }}',
			categories: {
				category: [
					{ name: 'billing', description: 'Invoices, charges, refunds' },
					{ name: 'outage', description: 'Service down, dashboard unavailable' },
					{ name: 'access', description: 'Login, password and accounts' },
				],
			},
			confidenceMethod: 'auto',
			samples: 3,
			threshold: 0.5,
		});
	}
	if (which.includes('extract')) {
		add('AI Extract', 'aiExtract', {
			text: '={{ $json.text }}',
			schemaSource: 'fields',
			fields: { field: [{ name: 'topic', type: 'string', description: 'What the ticket is about', required: true }] },
			records: 'one',
		});
	}
	if (which.includes('decide')) {
		add('AI Decide', 'aiDecide', {
			context: '={{ $json.text }}',
			policy: 'Refund double charges; anything else goes to a person.',
			actions: { action: [{ name: 'refund', description: 'Refund the charge' }, { name: 'reply', description: 'Answer the customer' }] },
			threshold: 0.5,
		});
	}
	if (source.kind === 'chatModel') {
		nodes.push(subNode(source.subNode));
		connections['Chat Model'] = {
			ai_languageModel: [
				nodes.filter((n) => n.type.startsWith('n8n-nodes-governed-ai.')).map((n) => ({ node: n.name, type: 'ai_languageModel', index: 0 })),
			],
		};
	}
	return {
		name: `e2e chat model ${JSON.stringify(source)} ${randomUUID().slice(0, 8)}`,
		nodes,
		connections,
		settings: { executionOrder: 'v1' },
	};
}

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer();
	n8n = await startN8n();
	await n8n.importCredentials([
		// n8n's own credential types, as a user already has them
		{ id: 'e2eN8nOpenAi01', name: 'n8n OpenAI (local)', type: 'openAiApi', data: { apiKey: OPENAI_KEY, url: server.openaiBaseUrl, header: false } },
		{ id: 'e2eN8nAnthro01', name: 'n8n Anthropic (local)', type: 'anthropicApi', data: { apiKey: ANTHROPIC_KEY, url: server.anthropicBaseUrl } },
		{ id: 'e2eN8nOllama01', name: 'Ollama (local)', type: 'ollamaApi', data: { baseUrl: server.url } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

/** Every item of every output of a node, with the output it left on. */
function itemsOf(data: any, name: string): Array<{ output: number; json: any }> {
	return nodeOutputs(data, name).flatMap((items, output) => items.map((json: any) => ({ output, json })));
}

function expectContract(result: any, step: string) {
	expect(result).toEqual(
		expect.objectContaining({
			step,
			decisionId: expect.any(String),
			reason: expect.any(String),
			evidence: expect.any(Array),
			model: expect.any(String),
			costUsd: expect.any(Number),
			attempts: expect.any(Number),
			promptHash: expect.stringMatching(/^[0-9a-f]{64}$/),
		}),
	);
	expect(result.usage.inputTokens).toBeGreaterThan(0);
	expect(result.usage.outputTokens).toBeGreaterThan(0);
	expect(result.costUsd).toBeGreaterThan(0);
}

/** The three nodes' results for a run on the autoResponder: the contract, and the labels/actions it gives. */
function expectThreeNodes(data: any, provider: string, confidenceMethod: string) {
	const classified = itemsOf(data, 'AI Classify');
	expect(classified.map((i) => [i.json.id, i.output]).sort()).toEqual([
		[1, 0],
		[2, 1],
		[3, 2],
	]);
	for (const { json } of classified) {
		expectContract(json.ai.classify, 'classify');
		expect(json.ai.classify.provider).toBe(provider);
		expect(json.ai.classify.confidenceMethod).toBe(confidenceMethod);
		expect(json.ai.classify.confidence).toBeGreaterThan(0.5);
		expect(json.ai.classify.error).toBeUndefined();
	}
	expect(classified.find((i) => i.json.id === 1)!.json.ai.classify.answer).toBe('billing');
	expect(classified.find((i) => i.json.id === 1)!.json.ai.classify.evidence.join(' ')).toMatch(/charged|invoice|refund/);

	const extracted = itemsOf(data, 'AI Extract');
	expect(extracted).toHaveLength(3);
	for (const { json } of extracted) {
		expect(json.ai.extract.error).toBeUndefined();
		expectContract(json.ai.extract, 'extract');
		expect(json.ai.extract.provider).toBe(provider);
	}

	const decided = itemsOf(data, 'AI Decide');
	expect(decided).toHaveLength(3);
	for (const { json } of decided) {
		expect(json.ai.decide.error).toBeUndefined();
		expectContract(json.ai.decide, 'decide');
		expect(['refund', 'reply', 'escalate']).toContain(json.ai.decide.answer);
	}
	expect(decided.find((i) => i.json.id === 1)!.json.ai.decide.answer).toBe('refund');
	expect(JSON.stringify(data)).not.toMatch(new RegExp(SECRETS.join('|')));
}

describe("n8n's OpenAI Chat Model connected", () => {
	test('AI Classify (log-probabilities), AI Extract and AI Decide keep the item contract', async () => {
		server.reset();
		server.setResponder(autoResponder);
		const { data } = await n8n.execute(await n8n.importWorkflow(workflow({ kind: 'chatModel', subNode: 'openai' })));
		expectThreeNodes(data, 'openai', 'logprobs');
		// the model's own JSON Schema support: strict response_format, log-probabilities asked of the model
		const completions = server.requests.filter((r) => r.path === '/v1/chat/completions');
		expect(completions.length).toBeGreaterThanOrEqual(9);
		expect(completions.every((r) => r.body.response_format?.type === 'json_schema')).toBe(true);
		expect(completions.some((r) => r.body.logprobs === true)).toBe(true);
	});
});
