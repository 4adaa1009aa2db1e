/**
 * Human Checkpoint as an AI Agent's "Human review" tool gate, in a real n8n 2.x:
 * Webhook → Code (an item an earlier checkpoint already approved: `approved: true`) → AI Agent, with
 * n8n's OpenAI Chat Model (credential pointed at the local provider server, which calls the tool and
 * answers with text once the tool's result comes back) and n8n's HTTP Request Tool (calling a server
 * started here, which counts every call), gated by Human Checkpoint (`humanCheckpointHitlTool`, the
 * node type n8n generates for a `sendAndWait` node).
 *
 * Proves: approve → the tool runs exactly once and the agent finishes with its result; reject → the
 * tool never runs and the model is told, with the reviewer's comment; the time limit → the tool never
 * runs (although the agent's input carries `approved: true`); GET on the review link decides nothing;
 * a replayed decision after the end runs nothing. The notification and the page name the tool, show its
 * input and n8n's Message.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';

import { reviewSchema } from '../../shared/contract';
import { callToolThenAnswer, startProviderServer, type ProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';
import { startNotificationListener, type NotificationListener } from './notifications';

jest.setTimeout(15 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TOOL = 'lookup_order';
const WAIT_MS = 120_000;
const HTTP_TIMEOUT_MS = 60_000;

/** The tool's backend: answers GET /orders/<id> and counts the calls per order id. */
async function startOrderServer() {
	const hits: string[] = [];
	const server = http.createServer((req, res) => {
		const match = /^\/orders\/([^/?]+)/.exec(req.url ?? '');
		if (!match) {
			res.writeHead(404).end();
			return;
		}
		const id = decodeURIComponent(match[1]);
		hits.push(id);
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ order: id, status: 'shipped', carrier: 'DHL' }));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
		callsFor: (id: string) => hits.filter((h) => h === id).length,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}


function agentWorkflow(name: string, hookPath: string, orders: string, notificationUrl: string, timeLimit: boolean) {
	const node = (nodeName: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
		id: randomUUID(),
		name: nodeName,
		type,
		typeVersion,
		position: [0, 0],
		parameters,
		...extra,
	});
	return {
		name,
		nodes: [
			node('Webhook', 'n8n-nodes-base.webhook', 2, { httpMethod: 'POST', path: hookPath, responseMode: 'onReceived', options: {} }, { webhookId: randomUUID() }),
			node('Earlier Approval', 'n8n-nodes-base.code', 2, {
				// As if an earlier Human Checkpoint had approved the request: `approved: true` on the agent's input.
				jsCode: 'return $input.all().map((item) => ({ json: { question: item.json.body.question, approved: true } }));',
			}),
			node('AI Agent', '@n8n/n8n-nodes-langchain.agent', 3.1, {
				promptType: 'define',
				text: '={{ $json.question }}',
				options: { systemMessage: 'You answer questions about orders. Use the lookup_order tool.' },
			}),
			node(
				'OpenAI Chat Model',
				'@n8n/n8n-nodes-langchain.lmChatOpenAi',
				1.2,
				{ model: { __rl: true, mode: 'list', value: 'gpt-4o-mini' }, options: { maxRetries: 0 } },
				{ credentials: { openAiApi: { id: 'e2eAgentOpenAi1', name: 'Local OpenAI (n8n)' } } },
			),
			node(TOOL, 'n8n-nodes-base.httpRequestTool', 4.2, {
				toolDescription: 'Looks up the status of an order by its id',
				url: `=${orders}/orders/{{ $fromAI('orderId', 'The order id, e.g. A-1001', 'string') }}`,
				options: {},
			}),
			node(
				'Human Checkpoint',
				'n8n-nodes-governed-ai.humanCheckpointHitlTool',
				1,
				{
					title: 'Approve the agent’s tool call',
					notificationUrl,
					...(timeLimit ? { limitWaitTime: true, resumeAmount: 0.05, resumeUnit: 'minutes' } : {}),
				},
				{ webhookId: randomUUID() },
			),
		],
		connections: {
			Webhook: { main: [[{ node: 'Earlier Approval', type: 'main', index: 0 }]] },
			'Earlier Approval': { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'OpenAI Chat Model': { ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]] },
			[TOOL]: { ai_tool: [[{ node: 'Human Checkpoint', type: 'ai_tool', index: 0 }]] },
			'Human Checkpoint': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

function executionIdOf(reviewUrl: string): string {
	return new URL(reviewUrl).pathname.split('/').filter(Boolean)[1];
}

async function postForm(url: string, form: Record<string, string>) {
	return await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(form).toString(),
		signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
	});
}

/** The gate's output as the agent reads it: runData[gate][run].data.ai_tool[0]. */
function gateOutput(execution: any): any[] {
	const runs = execution.data?.resultData?.runData?.['Human Checkpoint'] ?? [];
	const last = runs[runs.length - 1];
	return (last?.data?.ai_tool?.[0] ?? []).map((item: any) => item.json);
}

function agentAnswer(execution: any): string {
	return String(nodeOutputs(execution, 'AI Agent')[0][0].output);
}

describe('Human Checkpoint gating an AI Agent tool in n8n', () => {
	let n8n: N8n;
	let provider: ProviderServer;
	let orders: Awaited<ReturnType<typeof startOrderServer>>;
	let listener: NotificationListener;
	let workflowPath: string;
	let timedPath: string;

	/** The provider requests of one run (its order id is in the question). */
	const requestsFor = (orderId: string) => provider.requests.filter((r) => r.userText.includes(orderId));

	async function waitForStatus(id: string, statuses: string[], timeoutMs = WAIT_MS): Promise<any> {
		return await n8n.waitForExecution((e) => String(e.id) === id && statuses.includes(e.status), timeoutMs);
	}

	async function executionById(id: string): Promise<any> {
		const found = (await n8n.executions()).find((e) => String(e.id) === id);
		if (!found) throw new Error(`execution ${id} not found`);
		return found;
	}

	/** Asks the agent about one order and returns the review the gate started. */
	async function ask(hookPath: string, orderId: string) {
		let res = await n8n.webhook(hookPath, { question: `Where is order ${orderId}?` });
		for (let i = 0; res.status === 404 && i < 80; i++) {
			await sleep(250);
			res = await n8n.webhook(hookPath, { question: `Where is order ${orderId}?` });
		}
		if (res.status !== 200) throw new Error(`starting the workflow: HTTP ${res.status} ${await res.text()}\n${n8n.logs().slice(-8000)}`);
		let notification: any;
		try {
			notification = await listener.find((n) => JSON.stringify(n?.items ?? []).includes(orderId), orderId, WAIT_MS);
		} catch (error) {
			throw new Error(`${(error as Error).message}\n${n8n.logs().slice(-8000)}`);
		}
		const id = executionIdOf(notification.reviewUrl);
		await waitForStatus(id, ['waiting']);
		return { notification, id, reviewUrl: notification.reviewUrl as string };
	}

	beforeAll(async () => {
		provider = await startProviderServer();
		// The model calls the tool for the order named in the question, then answers with what came back.
		// The model calls the tool for the order named in the question (arguments in the gate's shape:
		// the tool's input under toolParameters), then answers with whatever came back.
		provider.setResponder(
			callToolThenAnswer(
				(req) => ({
					name: TOOL,
					arguments: { toolParameters: { orderId: /[A-Z]-\d+/.exec(req.userText)?.[0] ?? 'unknown' }, hitlParameters: {} },
				}),
				(results) => `Final answer: ${results.map((r) => r.content).join(' | ')}`,
			),
		);
		orders = await startOrderServer();
		listener = await startNotificationListener();
		n8n = await sharedN8n();
		await n8n.importCredentials([
			{ id: 'e2eAgentOpenAi1', name: 'Local OpenAI (n8n)', type: 'openAiApi', data: { apiKey: 'sk-local-e2e', url: provider.openaiBaseUrl, header: false } },
		]);
		const suffix = Date.now().toString(36);
		workflowPath = `agent-gate-${suffix}`;
		timedPath = `agent-gate-timed-${suffix}`;
		for (const [name, hookPath, timed] of [
			['e2e agent gate', workflowPath, false],
			['e2e agent gate with a time limit', timedPath, true],
		] as const) {
			const id = await n8n.importWorkflow(agentWorkflow(name, hookPath, orders.url, listener.url, timed));
			await n8n.activate(id);
		}
	});
	afterAll(async () => {
		await n8n?.stop();
		await listener?.close();
		await orders?.close();
		await provider?.close();
	});

	it('approve: the tool runs once with the model’s input and the agent answers with its result; GET and a replay decide nothing', async () => {
		const { notification, id, reviewUrl } = await ask(workflowPath, 'A-1001');

		// The model saw the gated tool; it has not run yet.
		expect(requestsFor('A-1001')[0].tools).toContain(TOOL);
		expect(orders.callsFor('A-1001')).toBe(0);

		// The notification names the tool, its input and n8n's Message.
		expect(notification.text).toContain(`wants to run ${TOOL}`);
		expect(notification.text).toContain(reviewUrl);
		expect(notification.items).toHaveLength(1);
		expect(notification.items[0]).toMatchObject({ tool: TOOL, input: { orderId: 'A-1001' }, answer: null });
		expect(notification.items[0].message).toContain(`The agent wants to run this tool: ${TOOL}`);
		// n8n's default Message renders the input object as "[object Object]"; the node shows the input there.
		expect(notification.items[0].message).toContain('{"orderId":"A-1001"}');
		expect(notification.items[0].message).not.toContain('[object Object]');

		// GET shows the tool call and decides nothing.
		const page = await fetch(reviewUrl, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain(TOOL);
		expect(html).toContain('A-1001');
		expect(html).toContain('The agent wants to run this tool');
		expect(html).not.toContain('none on this item');
		expect(html).toContain('name="decision_0"');
		await sleep(2000);
		expect((await executionById(id)).status).toBe('waiting');
		expect(orders.callsFor('A-1001')).toBe(0);

		const decided = await postForm(reviewUrl, { reviewer: 'ada@example.com', decision_0: 'approve', comment_0: 'Fine to look up' });
		expect(decided.status).toBe(200);
		expect(await decided.text()).toContain('1 approved');
		const finished = await waitForStatus(id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		expect(orders.callsFor('A-1001')).toBe(1);
		expect(agentAnswer(finished)).toContain('Final answer:');
		expect(agentAnswer(finished)).toContain('shipped');
		// The model got the tool's result back, and nothing else.
		const last = requestsFor('A-1001').at(-1)!;
		expect(last.toolResults).toHaveLength(1);
		expect(last.toolResults[0].content).toContain('shipped');

		// The gate answered the agent on its first output: approved, with the reviewer and the tool call.
		const [gate] = gateOutput(finished);
		expect(gate).toMatchObject({ approved: true, toolCall: { name: TOOL, input: { orderId: 'A-1001' } } });
		expect(reviewSchema.parse(gate.review)).toMatchObject({ decision: 'approved', reviewer: 'ada@example.com', comment: 'Fine to look up' });

		// A replayed decision after the end changes nothing and runs nothing.
		const replay = await postForm(reviewUrl, { reviewer: 'eve@example.com', decision_0: 'approve' });
		expect(await replay.text()).not.toContain('Decisions recorded');
		await sleep(2000);
		expect(orders.callsFor('A-1001')).toBe(1);
		expect((await executionById(id)).stoppedAt).toBe(finished.stoppedAt);
	});

	it('reject: the tool never runs and the model is told, with the reviewer’s comment', async () => {
		const { id, reviewUrl } = await ask(workflowPath, 'B-2002');
		const decided = await postForm(reviewUrl, { reviewer: 'ada@example.com', decision_0: 'reject', comment_0: 'Ask the customer for the invoice number first' });
		expect(decided.status).toBe(200);
		expect(await decided.text()).toContain('1 rejected');
		const finished = await waitForStatus(id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		await sleep(1000);
		expect(orders.callsFor('B-2002')).toBe(0);

		const last = requestsFor('B-2002').at(-1)!;
		expect(last.toolResults).toHaveLength(1);
		expect(last.toolResults[0].content).toContain('reviewed your planned tool call');
		expect(last.toolResults[0].content).toContain('Ask the customer for the invoice number first');
		expect(last.toolResults[0].content).not.toContain('shipped');
		expect(agentAnswer(finished)).toContain('Ask the customer for the invoice number first');
		const [gate] = gateOutput(finished);
		expect(gate).toMatchObject({ approved: false, review: { decision: 'rejected', reviewer: 'ada@example.com' } });
	});

	it('time limit: the tool never runs, although the agent’s input carries approved: true', async () => {
		const { id, reviewUrl } = await ask(timedPath, 'C-3003');
		expect(new URL(reviewUrl).searchParams.get('until')).toBeTruthy();
		// n8n's wait tracker polls once a minute.
		const finished = await waitForStatus(id, ['success', 'error', 'crashed'], 240_000);
		await sleep(1000);
		expect(orders.callsFor('C-3003')).toBe(0);
		console.log(`time limit: execution ${finished.status}; agent: ${JSON.stringify(finished.data?.resultData?.runData?.['AI Agent']?.at(-1)?.data?.main?.[0]?.[0]?.json ?? null)}; gate: ${JSON.stringify(gateOutput(finished))}`);
		expect(finished.status).toBe('success');
		const gate = gateOutput(finished);
		expect(gate).toHaveLength(1);
		expect(gate[0].approved).toBe(false);
		expect(gate[0].review).toBeUndefined();
		// the model is told the call was rejected (not handed the user's question as feedback)
		const last = requestsFor('C-3003').at(-1)!;
		expect(last.toolResults).toHaveLength(1);
		expect(last.toolResults[0].content).toContain('User rejected the tool call to lookup_order');
		expect(agentAnswer(finished)).toContain('User rejected the tool call');
		const late = await postForm(reviewUrl, { reviewer: 'ada@example.com', decision_0: 'approve' });
		expect(await late.text()).not.toContain('Decisions recorded');
		await sleep(2000);
		expect(orders.callsFor('C-3003')).toBe(0);
	});
});
