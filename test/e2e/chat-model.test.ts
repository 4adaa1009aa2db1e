/**
 * The models and credentials users already have in n8n (issue 17), inside a real n8n installed from the packed
 * tarball: AI Classify, AI Extract and AI Decide (version 3) answered by n8n's own Chat Model sub-nodes (OpenAI,
 * Anthropic, Ollama) pointed at the local provider server, and on the SDK path with n8n's own `openAiApi` /
 * `anthropicApi` credentials. One n8n for the file.
 */
import { randomUUID } from 'node:crypto';

import { autoResponder, type ProviderServer, type RecordedRequest, type Reply, type Responder, startProviderServer } from '../provider-server';
import { N8nExecutionError, nodeOutputs, sharedN8n, type N8n } from './harness';

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

/**
 * Imports and runs a workflow; its run data. When `n8n execute` printed a run this harness cannot read back
 * (the Chat Model sub-node's logged calls make it long), the run is read from n8n's own record of it instead
 * — and only a run n8n recorded as successful counts.
 */
async function run(workflow: object): Promise<any> {
	const id = await n8n.importWorkflow(workflow);
	try {
		return (await n8n.execute(id)).data;
	} catch (error) {
		if (!(error instanceof N8nExecutionError) || error.n8nError) throw error;
		const [execution] = await n8n.executions(id);
		if (execution?.status !== 'success') throw error;
		return execution.data.resultData.runData;
	}
}

beforeAll(async () => {
	server = await startProviderServer();
	n8n = await sharedN8n();
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

function expectContract(result: any, step: string, priced: boolean) {
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
	// a local model (Ollama) has no list price: its cost is 0, not missing
	if (priced) expect(result.costUsd).toBeGreaterThan(0);
	else expect(result.costUsd).toBe(0);
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
		expectContract(json.ai.classify, 'classify', provider !== 'ollama');
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
		expectContract(json.ai.extract, 'extract', provider !== 'ollama');
		expect(json.ai.extract.provider).toBe(provider);
	}

	const decided = itemsOf(data, 'AI Decide');
	expect(decided).toHaveLength(3);
	for (const { json } of decided) {
		expect(json.ai.decide.error).toBeUndefined();
		expectContract(json.ai.decide, 'decide', provider !== 'ollama');
		expect(['refund', 'reply', 'escalate']).toContain(json.ai.decide.answer);
	}
	expect(decided.find((i) => i.json.id === 1)!.json.ai.decide.answer).toBe('refund');
	expect(JSON.stringify(data)).not.toMatch(new RegExp(SECRETS.join('|')));
}

describe("n8n's OpenAI Chat Model connected", () => {
	test('AI Classify (log-probabilities), AI Extract and AI Decide keep the item contract', async () => {
		server.reset();
		server.setResponder(autoResponder);
		const data = await run(workflow({ kind: 'chatModel', subNode: 'openai' }));
		expectThreeNodes(data, 'openai', 'logprobs');
		// the model's own JSON Schema support: strict response_format, log-probabilities asked of the model
		const completions = server.requests.filter((r) => r.path === '/v1/chat/completions');
		expect(completions.length).toBeGreaterThanOrEqual(9);
		expect(completions.every((r) => r.body.response_format?.type === 'json_schema')).toBe(true);
		expect(completions.some((r) => r.body.logprobs === true)).toBe(true);
	});
});

/**
 * A 429 storm: every distinct request is refused twice (retry-after 1 s) before it is answered. Ticket 3 is
 * answered with a label and an action outside the allowed sets, whatever is asked.
 */
function stormWithOutOfSetAnswers(): Responder {
	const refused = new Map<string, number>();
	return async (req: RecordedRequest, sample: number): Promise<Reply> => {
		const key = `${req.path}|${req.systemText.length}|${req.userText}`;
		const count = refused.get(key) ?? 0;
		if (count < 2) {
			refused.set(key, count + 1);
			return { status: 429, retryAfter: 1, message: 'Rate limit reached (storm)' };
		}
		const reply = await autoResponder(req, sample);
		// the whole conversation: a re-ask's last message is the correction, not the ticket
		if (!JSON.stringify(req.body).includes('cannot login') || !('json' in reply)) return reply;
		const json = { ...(reply.json as Record<string, unknown>) };
		if ('label' in json) json.label = 'shipping';
		if ('action' in json) json.action = 'wire_money';
		return { json };
	};
}

/** Through the storm: every item comes out once, the refused requests were retried, nothing failed. */
function expectStormSurvived(data: any, provider: string) {
	const stormed = server.requests.filter((r) => r.status === 429).length;
	expect(stormed).toBeGreaterThanOrEqual(2 * 9);
	for (const name of ['AI Classify', 'AI Extract', 'AI Decide']) {
		const items = itemsOf(data, name);
		expect(items.map((i) => i.json.id).sort()).toEqual([1, 2, 3]);
		for (const { json } of items) {
			const result = Object.values(json.ai).find((r: any) => r && typeof r === 'object' && 'decisionId' in r) as any;
			expect(result.error).toBeUndefined();
			expect(result.provider).toBe(provider);
			expect(result.attempts).toBeGreaterThanOrEqual(3);
		}
	}
	// the out-of-set label never leaves on a category output: ticket 3 is on Needs Review (output 3), answer null
	const classified = itemsOf(data, 'AI Classify');
	const outOfSet = classified.find((i) => i.json.id === 3)!;
	expect(outOfSet.output).toBe(3);
	expect(outOfSet.json.ai.classify.answer).toBeNull();
	expect(outOfSet.json.ai.classify.reviewReason).toBe('no valid answer');
	expect(classified.filter((i) => i.output < 3).map((i) => i.json.ai.classify.answer).sort()).toEqual(['billing', 'outage']);
	// and the out-of-set action is escalated, never routed to an action output
	const decided = itemsOf(data, 'AI Decide');
	const escalated = decided.find((i) => i.json.id === 3)!;
	expect(escalated.json.ai.decide.answer).toBe('escalate');
	expect(JSON.stringify(decided)).not.toContain('wire_money"');
	expect(JSON.stringify(data)).not.toMatch(new RegExp(SECRETS.join('|')));
}

describe("n8n's own openAiApi credential on the SDK path", () => {
	test('the three nodes keep the item contract, with the base URL of the credential', async () => {
		server.reset();
		server.setResponder(autoResponder);
		const data = await run(workflow({ kind: 'credential', provider: 'openai' }));
		expectThreeNodes(data, 'openai', 'logprobs');
		expect(server.requests.filter((r) => r.path === '/v1/chat/completions').length).toBeGreaterThanOrEqual(9);
	});
});

describe('through a 429 storm, with answers outside the allowed sets', () => {
	test("n8n's OpenAI Chat Model (which rethrows 429 at once): retried per item, 0 items lost", async () => {
		server.reset();
		server.setResponder(stormWithOutOfSetAnswers());
		const data = await run(workflow({ kind: 'chatModel', subNode: 'openai' }));
		expectStormSurvived(data, 'openai');
	});

	test("n8n's own openAiApi credential on the SDK path: retried per item, 0 items lost", async () => {
		server.reset();
		server.setResponder(stormWithOutOfSetAnswers());
		const data = await run(workflow({ kind: 'credential', provider: 'openai' }));
		expectStormSurvived(data, 'openai');
	});

	test("n8n's Anthropic Chat Model: retried per item, 0 items lost", async () => {
		server.reset();
		server.setResponder(stormWithOutOfSetAnswers());
		const data = await run(workflow({ kind: 'chatModel', subNode: 'anthropic' }));
		expectStormSurvived(data, 'anthropic');
	});
});

describe("n8n's Anthropic Chat Model connected", () => {
	test('structured output by forced tool use, k-sample confidence, the static prompt marked for caching', async () => {
		server.reset();
		server.setResponder(autoResponder);
		const data = await run(workflow({ kind: 'chatModel', subNode: 'anthropic' }));
		expectThreeNodes(data, 'anthropic', 'k-sample');
		const messages = server.requests.filter((r) => r.path === '/v1/messages');
		expect(messages.length).toBeGreaterThanOrEqual(9);
		expect(messages.every((r) => r.body.tool_choice?.type === 'tool' && r.toolName === r.body.tool_choice.name)).toBe(true);
		expect(messages.every((r) => JSON.stringify(r.body.system).includes('"cache_control"'))).toBe(true);
	});
});

describe("n8n's own anthropicApi credential on the SDK path", () => {
	test('the three nodes keep the item contract', async () => {
		server.reset();
		server.setResponder(autoResponder);
		const data = await run(workflow({ kind: 'credential', provider: 'anthropic' }));
		expectThreeNodes(data, 'anthropic', 'k-sample');
		expect(server.requests.filter((r) => r.path === '/v1/messages').length).toBeGreaterThanOrEqual(9);
	});
});

describe("n8n's Ollama Chat Model connected", () => {
	test("structured output through Ollama's format (JSON Schema) on /api/chat", async () => {
		server.reset();
		server.setResponder(autoResponder);
		const data = await run(workflow({ kind: 'chatModel', subNode: 'ollama' }));
		expectThreeNodes(data, 'ollama', 'k-sample');
		const chats = server.requests.filter((r) => r.path === '/api/chat');
		expect(chats.length).toBeGreaterThanOrEqual(9);
		expect(chats.every((r) => typeof r.body.format === 'object')).toBe(true);
	});
});
