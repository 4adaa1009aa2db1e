/**
 * The local provider server as an agent's model: it calls a tool the request offers (OpenAI Chat
 * Completions tool_calls, Anthropic tool_use), records the tool results sent back, and answers with text
 * once a result is there. Driven by the official SDKs over real HTTP.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { callToolThenAnswer, startProviderServer, type ProviderServer } from '../provider-server';

const KEY = 'sk-test-secret-123';

let server: ProviderServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
	server = await startProviderServer();
	openai = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 0 });
	anthropic = new Anthropic({ apiKey: KEY, baseURL: server.anthropicBaseUrl, maxRetries: 0 });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => server.reset());

const openAiTools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
	{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
	{ type: 'function', function: { name: 'lookup_order', description: 'Order status', parameters: { type: 'object', properties: { orderId: { type: 'string' } } } } },
];

const agent = () =>
	callToolThenAnswer(
		(req) => ({ name: 'lookup_order', arguments: { orderId: /[A-Z]-\d+/.exec(req.userText)?.[0] ?? 'none' } }),
		(results) => `Answer from: ${results.map((r) => `${r.toolCallId}=${r.content}`).join('; ')}`,
	);

describe('tool calls, OpenAI Chat Completions', () => {
	it('calls the named tool (not the first) with the scripted arguments, then answers with text once the result comes back', async () => {
		server.setResponder(agent());
		const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Where is order A-17?' };
		const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [question], tools: openAiTools });
		const choice = first.choices[0];
		expect(choice.finish_reason).toBe('tool_calls');
		expect(choice.message.content).toBeNull();
		const call = choice.message.tool_calls?.[0];
		expect(call?.type).toBe('function');
		if (call?.type !== 'function') throw new Error('expected a function tool call');
		expect(call.function.name).toBe('lookup_order');
		expect(JSON.parse(call.function.arguments)).toEqual({ orderId: 'A-17' });
		expect(call.id).toMatch(/^call_local_/);
		expect(server.requests[0].tools).toEqual(['get_weather', 'lookup_order']);
		expect(server.requests[0].toolResults).toEqual([]);

		const second = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			tools: openAiTools,
			messages: [question, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"status":"shipped"}' }],
		});
		expect(second.choices[0].finish_reason).toBe('stop');
		expect(second.choices[0].message.tool_calls).toBeUndefined();
		expect(second.choices[0].message.content).toBe(`Answer from: ${call.id}={"status":"shipped"}`);
		expect(server.requests[1].toolResults).toEqual([{ toolCallId: call.id, content: '{"status":"shipped"}' }]);
		// the user text is still the question, not the tool result
		expect(server.requests[1].userText).toBe('Where is order A-17?');
	});

	it('keeps a scripted call id and counts the arguments as output tokens', async () => {
		server.setResponder({ toolCall: { name: 'get_weather', arguments: { city: 'Oslo' }, id: 'call_fixed' } });
		const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], tools: openAiTools });
		const call = completion.choices[0].message.tool_calls?.[0];
		expect(call?.id).toBe('call_fixed');
		expect(completion.usage?.completion_tokens).toBe(Math.ceil(JSON.stringify({ city: 'Oslo' }).length / 4));
	});

	it('answers 500 naming the tool when the script calls one the request does not offer', async () => {
		server.setResponder({ toolCall: { name: 'delete_everything', arguments: {} } });
		const call = openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], tools: openAiTools });
		await expect(call).rejects.toMatchObject({ status: 500 });
		await expect(
			openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], tools: openAiTools }),
		).rejects.toThrow(/delete_everything.*offered: get_weather, lookup_order/);
	});
});

describe('tool calls, Anthropic Messages', () => {
	it('answers with a tool_use block for the named tool, then text once a tool_result comes back', async () => {
		server.setResponder(agent());
		const tools: Anthropic.Tool[] = [
			{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
			{ name: 'lookup_order', description: 'Order', input_schema: { type: 'object', properties: { orderId: { type: 'string' } } } },
		];
		const question: Anthropic.MessageParam = { role: 'user', content: 'Where is order B-2?' };
		const first = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [question], tools });
		expect(first.stop_reason).toBe('tool_use');
		const block = first.content[0];
		if (block.type !== 'tool_use') throw new Error(`expected tool_use, got ${block.type}`);
		expect(block.name).toBe('lookup_order');
		expect(block.input).toEqual({ orderId: 'B-2' });

		const second = await anthropic.messages.create({
			model: 'claude-haiku-4-5',
			max_tokens: 100,
			tools,
			messages: [
				question,
				{ role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
				{ role: 'user', content: [{ type: 'tool_result', tool_use_id: block.id, content: 'in transit' }] },
			],
		});
		expect(second.stop_reason).toBe('end_turn');
		expect(second.content[0]).toMatchObject({ type: 'text', text: `Answer from: ${block.id}=in transit` });
		expect(server.requests[1].toolResults).toEqual([{ toolCallId: block.id, content: 'in transit' }]);
	});
});
