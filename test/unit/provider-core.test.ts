/**
 * The provider core against the local provider server, through the real SDKs over real HTTP.
 */
import { z } from 'zod/v4';

import type { AiStepConfig } from '../../shared/aiStep';
import { Limiter } from '../../shared/concurrency';
import { costUsd, priceFor } from '../../shared/cost';
import { AnthropicClient } from '../../shared/providers/anthropic';
import { ProviderError } from '../../shared/providers/errors';
import { OpenAiClient } from '../../shared/providers/openai';
import type { ModelClient } from '../../shared/providers/types';
import { askStructured, type CallPolicy, InvalidAnswerError } from '../../shared/structured';
import {
	type ProviderServer,
	type Reply,
	quotaExceeded,
	rateLimited,
	sequence,
	serverError,
	startProviderServer,
} from '../provider-server';
import { aiStepNode } from './helpers/aiStepNode';
import { type OnError, providerCredentials, runNode } from './helpers/engine';

const always = (reply: Reply) => () => reply;

const schema = z.object({ label: z.enum(['billing', 'outage']), reason: z.string() });
const request = {
	instructions: 'Classify the ticket.',
	input: 'My invoice is wrong',
	schemaName: 'classification',
	schemaDescription: 'The classification',
	samples: 1,
	logprobs: false,
	maxTokens: 256,
};

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => server.reset());

function policy(overrides: Partial<CallPolicy> = {}): CallPolicy {
	return { retries: 3, reasks: 2, timeoutMs: 2000, limiter: new Limiter(4), baseDelayMs: 20, maxDelayMs: 200, ...overrides };
}

const clients: Array<[string, (key?: string) => ModelClient]> = [
	['openai', (key = 'sk-test-key') => new OpenAiClient({ apiKey: key, baseUrl: server.openaiBaseUrl }, 'gpt-4.1-mini', 1000)],
	['anthropic', (key = 'sk-ant-test-key') => new AnthropicClient({ apiKey: key, baseUrl: server.anthropicBaseUrl }, 'claude-haiku-4-5', 1000)],
];

describe.each(clients)('%s', (_name, makeClient) => {
	it('waits at least retry-after before retrying a 429', async () => {
		server.setResponder(sequence(rateLimited(1), { json: { label: 'billing', reason: 'invoice' } }));
		const answer = await askStructured(makeClient(), request, schema, policy());
		expect(answer.value.label).toBe('billing');
		expect(answer.attempts).toBe(2);
		const [first, second] = server.requests;
		expect(second.receivedAt - first.respondedAt!).toBeGreaterThanOrEqual(1000);
	});

	it('retries 500s and gives up after the retry budget', async () => {
		server.setResponder(always(serverError()));
		const error = await askStructured(makeClient(), request, schema, policy({ retries: 2 })).catch((e) => e);
		expect(error).toBeInstanceOf(ProviderError);
		expect(error.kind).toBe('server');
		expect(server.requests).toHaveLength(3);
	});

	it('does not retry 401 and never shows the API key', async () => {
		const secret = 'sk-live-SECRET-0123456789';
		server.setResponder(always({ status: 401, message: `Incorrect API key provided: ${secret}` }));
		const error = await askStructured(makeClient(secret), request, schema, policy({ secrets: [secret] })).catch((e) => e);
		expect(error.kind).toBe('auth');
		expect(server.requests).toHaveLength(1);
		expect(String(error.message)).not.toContain(secret);
		expect(String(error.stack)).not.toContain(secret);
		expect(JSON.stringify(server.requests[0].headers)).not.toContain(secret);
	});

	it('does not retry an exhausted quota', async () => {
		server.setResponder(always(quotaExceeded()));
		const error = await askStructured(makeClient(), request, schema, policy()).catch((e) => e);
		expect(error.kind).toBe('quota');
		expect(server.requests).toHaveLength(1);
	});

	it('fixes a schema violation by re-asking with the validation errors', async () => {
		server.setResponder(sequence({ json: { label: 'shipping', reason: 'x' } }, { json: { label: 'outage', reason: 'down' } }));
		const answer = await askStructured(makeClient(), request, schema, policy());
		expect(answer.value.label).toBe('outage');
		expect(answer.reasks).toBe(1);
		expect(server.requests).toHaveLength(2);
		expect(JSON.stringify(server.requests[1].body.messages)).toMatch(/label/);
		expect(JSON.stringify(server.requests[1].body.messages)).toMatch(/invalid/i);
	});

	it('ends a persistent violation in an error naming the field', async () => {
		server.setResponder(always({ json: { label: 'shipping', reason: 'x' } }));
		const error = await askStructured(makeClient(), request, schema, policy({ reasks: 2 })).catch((e) => e);
		expect(error).toBeInstanceOf(InvalidAnswerError);
		expect(error.fields).toEqual(['label']);
		expect(server.requests).toHaveLength(3);
	});

	it('retries a request that hangs past the timeout', async () => {
		server.setResponder(sequence({ hang: true }, { json: { label: 'billing', reason: 'ok' } }));
		const answer = await askStructured(makeClient(), request, schema, policy());
		expect(answer.value.label).toBe('billing');
		expect(answer.attempts).toBe(2);
	});

	it('puts the static instructions first and the item last', async () => {
		server.setResponder(always({ json: { label: 'billing', reason: 'r' } }));
		await askStructured(makeClient(), request, schema, policy());
		const recorded = server.requests[0];
		expect(recorded.systemText).toContain('Classify the ticket.');
		expect(recorded.userText).toBe('My invoice is wrong');
		const messages = recorded.body.messages as Array<{ role: string }>;
		expect(messages[messages.length - 1].role).toBe('user');
	});
});

it('marks the static Anthropic prompt for caching, and the usage reports cache reads', async () => {
	server.setResponder(always({ json: { label: 'billing', reason: 'r' } }));
	const client = clients[1][1]();
	const long = { ...request, instructions: 'Classify the ticket. '.repeat(400) };
	const first = await askStructured(client, long, schema, policy());
	const second = await askStructured(client, long, schema, policy());
	expect(server.requests[0].body.system[0].cache_control).toEqual({ type: 'ephemeral' });
	expect(first.usage.cacheWriteTokens).toBeGreaterThan(0);
	expect(second.usage.cachedInputTokens).toBeGreaterThan(0);
	expect(second.usage.inputTokens).toBeGreaterThanOrEqual(second.usage.cachedInputTokens);
});

it('computes cost as usage × price, cached tokens at the cache price', () => {
	const usage = { inputTokens: 1_000_000, outputTokens: 200_000, cachedInputTokens: 400_000, cacheWriteTokens: 0, requests: 1 };
	// gpt-4.1-mini: $0.40 input, $0.10 cached input, $1.60 output per million
	expect(costUsd(usage, priceFor('gpt-4.1-mini'))).toBeCloseTo(0.6 * 0.4 + 0.4 * 0.1 + 0.2 * 1.6, 9);
	// dated ids find their family; an override wins
	expect(priceFor('claude-sonnet-4-5-20250929')?.output).toBe(15);
	expect(costUsd(usage, priceFor('my-local-model', { input: 1, output: 2 }))).toBeCloseTo(0.6 * 1 + 0.2 * 2, 9);
	expect(costUsd(usage, priceFor('my-local-model'))).toBe(0);
});

it('the cost on a result matches the usage the server reported', async () => {
	server.setResponder(always({ json: { label: 'billing', reason: 'r' } }));
	const client = clients[0][1]();
	const answer = await askStructured(client, request, schema, policy());
	const recorded = server.requests[0];
	expect(answer.usage.inputTokens).toBe(recorded.promptTokens);
	expect(costUsd(answer.usage, priceFor('gpt-4.1-mini'))).toBeCloseTo(
		((answer.usage.inputTokens - answer.usage.cachedInputTokens) * 0.4 + answer.usage.cachedInputTokens * 0.1 + answer.usage.outputTokens * 1.6) / 1e6,
		12,
	);
});

/** runAiStep inside n8n's engine, as the AI nodes run it. */
function runStep(config: AiStepConfig, items: Array<{ text: string }>, parameters: Record<string, unknown>, options: { onError?: OnError; apiKey?: string } = {}) {
	return runNode({
		node: aiStepNode(config, 2),
		items,
		parameters: { resultKey: 'extract', ...parameters },
		credentials: providerCredentials(server, { openai: options.apiKey ?? 'sk-test-key' }),
		onError: options.onError,
	});
}

describe('a node run (runAiStep)', () => {
	const config: AiStepConfig = {
		step: 'extract',
		defaultKey: 'extract',
		outputCount: 2,
		reviewOutput: 1,
		process: async (item, input) => {
			const text = item.prepareText(input.json.text, 'Text');
			const answer = await askStructured(item.client, { ...request, input: text }, z.object({ amount: z.number(), reason: z.string() }), item.policy);
			return {
				output: 0,
				result: item.result(
					{ answer: answer.value, confidence: null, confidenceMethod: 'none', reason: answer.value.reason, evidence: [], needsReview: false },
					answer,
					{ step: 'test' },
				),
			};
		},
	};
	const run = (params: Record<string, unknown>, texts: unknown[], continueOnFail = false) =>
		runStep(
			config,
			texts.map((text) => ({ text: text as string })),
			{ provider: 'openai', model: 'gpt-4.1-mini', options: { retries: 3, ...(params.options as object) }, ...params },
			{ onError: continueOnFail ? 'continueRegularOutput' : undefined },
		);

	it('never has more requests in flight than the concurrency limit, and loses no item', async () => {
		server.setOptions({ latencyMs: 60 });
		server.setResponder(always({ json: { amount: 1, reason: 'r' } }));
		const outputs = await run({ options: { concurrency: 3 } }, Array.from({ length: 20 }, (_, i) => `ticket ${i}`));
		server.setOptions({ latencyMs: 0 });
		expect(server.maxInFlight).toBe(3);
		expect(outputs[0]).toHaveLength(20);
		expect(outputs[0].map((o) => o.pairedItem)).toEqual(Array.from({ length: 20 }, (_, i) => ({ item: i })));
	});

	it('keeps k Anthropic samples per item under the same limit', async () => {
		const samples: number[] = [];
		server.setOptions({ latencyMs: 40 });
		server.setResponder(always({ json: { amount: 1, reason: 'r' } }));
		await runNode({
			node: aiStepNode({
				step: 'extract',
				defaultKey: 'extract',
				outputCount: 2,
				reviewOutput: 1,
				process: async (item) => {
					const answer = await askStructured(item.client, { ...request, samples: 5 }, z.object({ amount: z.number(), reason: z.string() }), item.policy);
					samples.push(answer.samples.length);
					return { output: 0, result: item.result({ answer: 1, confidence: null, confidenceMethod: 'none', reason: '', evidence: [], needsReview: false }, answer, {}) };
				},
			}, 2),
			items: Array.from({ length: 6 }, (_, i) => ({ text: `t${i}` })),
			parameters: { provider: 'anthropic', model: 'claude-haiku-4-5', resultKey: 'extract', options: { concurrency: 2 } },
			credentials: providerCredentials(server),
		});
		server.setOptions({ latencyMs: 0 });
		expect(samples).toEqual([5, 5, 5, 5, 5, 5]);
		expect(server.requests).toHaveLength(30);
		expect(server.maxInFlight).toBe(2);
	});

	it('redacts e-mail, phone, card and IBAN before the request is sent', async () => {
		server.setResponder(always({ json: { amount: 1, reason: 'r' } }));
		const text =
			'Mail jane.doe@example.com or call +44 20 7946 0958. Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, account 12345678.';
		await run({ options: { redact: ['email', 'phone', 'card', 'iban', 'account'] } }, [text]);
		const sent = server.requests[0].userText;
		for (const secret of ['jane.doe@example.com', '7946 0958', '4111 1111 1111 1111', 'GB82 WEST', '12345678']) {
			expect(sent).not.toContain(secret);
		}
		expect(sent).toContain('[EMAIL]');
		expect(sent).toContain('[CARD]');
		expect(sent).toContain('[IBAN]');
	});

	it('a persistent schema violation fails with an error naming the item and the field', async () => {
		server.setResponder(always({ json: { amount: 'twelve', reason: 'r' } }));
		const error = await run({ options: { reasks: 1 } }, ['fine', 'also fine']).catch((e) => e);
		expect(error.message).toMatch(/Item 0/);
		expect(error.message).toMatch(/amount/);
	});

	it('with Continue On Fail, failed items go to the review output with the error, none lost', async () => {
		server.setResponder((req) => (req.userText.includes('bad') ? { json: { amount: 'x', reason: 'r' } } : { json: { amount: 2, reason: 'r' } }));
		const outputs = await run({ options: { reasks: 0 } }, ['good', 'bad', 'good'], true);
		expect(outputs[0]).toHaveLength(2);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].pairedItem).toEqual({ item: 1 });
		expect((outputs[1][0].json.ai as any).extract.error).toMatch(/amount/);
		// on the regular output the failure is in ai.extract.error: an item `error` would make n8n's engine
		// replace the item's json with { error }
		expect(outputs[1][0].error).toBeUndefined();
		expect(outputs[1][0].json).toMatchObject({ text: 'bad' });
	});

	it('empty and oversized text fail naming the item and field', async () => {
		server.setResponder(always({ json: { amount: 1, reason: 'r' } }));
		await expect(run({}, ['ok', '   '])).rejects.toThrow(/Text is empty/);
		await expect(run({ options: { maxInputChars: 10 } }, ['this text is far too long'])).rejects.toThrow(/too long/);
		expect(server.requests.length).toBeLessThanOrEqual(1);
	});

	it('never puts the API key in an item or error', async () => {
		const secret = 'sk-live-VERYSECRET-987654321';
		server.setResponder(always({ status: 401, message: `Incorrect API key provided: ${secret}` }));
		const outputs = await runStep(
			{
				step: 'extract',
				defaultKey: 'extract',
				outputCount: 2,
				reviewOutput: 1,
				process: async (item) => {
					await askStructured(item.client, request, schema, item.policy);
					throw new Error('unreachable');
				},
			},
			[{ text: 'hello' }],
			{ provider: 'openai', model: 'gpt-4.1-mini', options: {} },
			{ onError: 'continueErrorOutput', apiKey: secret },
		);
		// with the error output on, the failed item reaches it with the message in json.error
		const failed = outputs[2][0];
		expect(failed.json.error).toMatch(/^Item 0: /);
		expect(JSON.stringify(outputs)).not.toContain(secret);
		expect(String(failed.json.error)).not.toContain(secret);
		expect(JSON.stringify(failed.json.ai)).not.toContain(secret);
	});
});
