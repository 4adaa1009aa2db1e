/**
 * Pacing from the provider's rate-limit headers (shared/pacing.ts): the official SDKs over real HTTP to the
 * local provider server, which sends the headers and limits requests and tokens per window. The window is
 * shortened to a few seconds on both sides so a test does not wait minutes; figures are counts, never times.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { z } from 'zod/v4';

import { mapConcurrent, Limiter } from '../../shared/concurrency';
import { Pacer, parseDuration, readRateLimitHeaders } from '../../shared/pacing';
import { AnthropicClient } from '../../shared/providers/anthropic';
import { OpenAiClient } from '../../shared/providers/openai';
import type { ModelClient } from '../../shared/providers/types';
import { askStructured, type CallPolicy } from '../../shared/structured';
import { startProviderServer, type ProviderServer } from '../provider-server';

jest.setTimeout(120_000);

const KEY = 'sk-test-pacing-123';
const WINDOW_MS = 2_000;
const schema = z.object({ label: z.enum(['billing', 'technical']), reason: z.string() });

let server: ProviderServer;

beforeAll(async () => {
	server = await startProviderServer({ latencyMs: 20 });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => {
	server.setOptions({ latencyMs: 20, rpmLimit: undefined, tpmLimit: undefined, windowMs: WINDOW_MS });
	server.reset();
});

function client(provider: 'openai' | 'anthropic'): ModelClient {
	return provider === 'openai'
		? new OpenAiClient({ apiKey: KEY, baseUrl: server.openaiBaseUrl }, 'gpt-4.1-mini', 30_000)
		: new AnthropicClient({ apiKey: KEY, baseUrl: server.anthropicBaseUrl }, 'claude-haiku-4-5', 30_000);
}

/** `items` items through askStructured, `concurrency` in flight; with a pacer shared by all of them, or none. */
async function run(provider: 'openai' | 'anthropic', items: number, pacer: Pacer | undefined, retries: number) {
	const c = client(provider);
	const policy: CallPolicy = { retries, reasks: 0, timeoutMs: 30_000, limiter: new Limiter(5), pacer, baseDelayMs: 50, maxDelayMs: 500 };
	const outcomes = await mapConcurrent(items, 10, async (i) =>
		askStructured(
			c,
			{
				instructions: 'Classify the ticket as billing or technical.',
				input: `Ticket ${i}: my invoice was charged twice`,
				schemaName: 'classification',
				schemaDescription: 'Classification',
				samples: 1,
				logprobs: false,
				maxTokens: 256,
			},
			schema,
			policy,
		).then(
			() => 'ok',
			() => 'failed',
		),
	);
	const generation = server.requests.filter((r) => r.path !== '/v1/models');
	return {
		ok: outcomes.filter((o) => o === 'ok').length,
		requests: generation.length,
		rateLimited: generation.filter((r) => r.status === 429).length,
	};
}

describe('rate-limit headers', () => {
	it('reads OpenAI durations', () => {
		expect(parseDuration('120ms')).toBe(120);
		expect(parseDuration('1s')).toBe(1000);
		expect(parseDuration('6m0s')).toBe(360_000);
		expect(parseDuration('1m2.5s')).toBe(62_500);
		expect(parseDuration('2')).toBe(2000);
		expect(parseDuration('soon')).toBeUndefined();
	});

	it('the provider server sends OpenAI headers with limit, remaining and reset, read back through the SDK', async () => {
		server.setOptions({ rpmLimit: 10, tpmLimit: 10_000 });
		const sdk = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 0 });
		const { response } = await sdk.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
		const read = readRateLimitHeaders(response.headers, Date.now());
		expect(read?.requests).toMatchObject({ limit: 10, remaining: 9 });
		expect(read?.tokens?.limit).toBe(10_000);
		expect(read?.tokens?.remaining).toBeLessThan(10_000);
		expect(read?.requests?.resetMs).toBeGreaterThan(0);
		expect(read?.requests?.resetMs).toBeLessThanOrEqual(WINDOW_MS);
		expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s)$/);
	});

	it('the provider server sends Anthropic headers (reset as a time), read back through the SDK', async () => {
		server.setOptions({ rpmLimit: 10, tpmLimit: 10_000 });
		const sdk = new Anthropic({ apiKey: KEY, baseURL: server.anthropicBaseUrl, maxRetries: 0 });
		const { response } = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
		expect(Date.parse(response.headers.get('anthropic-ratelimit-requests-reset') ?? '')).not.toBeNaN();
		const read = readRateLimitHeaders(response.headers);
		expect(read?.requests).toMatchObject({ limit: 10, remaining: 9 });
		expect(read?.tokens?.limit).toBe(10_000);
	});

	it('the provider server limits tokens per window: a prompt that does not fit gets 429 with retry-after and the headers', async () => {
		server.setOptions({ tpmLimit: 100 });
		const sdk = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 0 });
		const call = () => sdk.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'x'.repeat(240) }] });
		await call(); // about 60 prompt tokens + the answer's
		const error = (await call().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
		expect(error).toBeInstanceOf(OpenAI.RateLimitError);
		expect(error.message).toMatch(/tokens per minute/);
		expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(error.headers?.get('x-ratelimit-limit-tokens')).toBe('100');
		expect(server.requests.map((r) => r.status)).toEqual([200, 429]);
	});

	it('no headers without a limit', async () => {
		const sdk = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 0 });
		const { response } = await sdk.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
		expect(readRateLimitHeaders(response.headers)).toBeUndefined();
	});
});

describe('pacing a run at the request limit', () => {
	for (const provider of ['openai', 'anthropic'] as const) {
		it(`${provider}: without pacing most requests past the limit bounce; with pacing almost none do`, async () => {
			server.setOptions({ rpmLimit: 8 });
			const unpaced = await run(provider, 24, undefined, 0);
			// 8 fit the window; the rest bounce (no retries here: every bounce is a failed item)
			expect(unpaced.rateLimited).toBeGreaterThanOrEqual(12);
			expect(unpaced.ok).toBeLessThan(24);

			server.reset();
			const pacer = new Pacer(WINDOW_MS);
			const paced = await run(provider, 24, pacer, 5);
			expect(paced.ok).toBe(24);
			// the first requests go out before any header has been seen, and a busy machine can shift an arrival:
			// at most a couple of bounces, against a dozen without pacing
			expect(paced.rateLimited).toBeLessThanOrEqual(2);
			expect(pacer.stats.delayed).toBeGreaterThan(0);
		});
	}
});

describe('pacing a run at the token limit', () => {
	it('keeps under tokens per window, learning what an answer costs from usage', async () => {
		// each request is about 90-100 tokens (prompt + answer): 600 per window admits about 6
		server.setOptions({ tpmLimit: 600 });
		const unpaced = await run('openai', 18, undefined, 0);
		expect(unpaced.rateLimited).toBeGreaterThanOrEqual(8);

		server.reset();
		const pacer = new Pacer(WINDOW_MS);
		const paced = await run('openai', 18, pacer, 5);
		expect(paced.ok).toBe(18);
		expect(paced.rateLimited).toBeLessThanOrEqual(2);
	});
});

describe('a 429 pauses the whole run', () => {
	it('every item waits out retry-after, not only the one that got it', () => {
		let now = 1_000;
		const pacer = new Pacer(60_000, () => now);
		expect(pacer.waitFor({ inputTokens: 10, outputTokens: 0 })).toBe(0);
		pacer.rateLimited(3_000);
		expect(pacer.waitFor({ inputTokens: 10, outputTokens: 0 })).toBe(3_000);
		now += 3_000;
		expect(pacer.waitFor({ inputTokens: 10, outputTokens: 0 })).toBe(0);
		expect(pacer.stats.rateLimited).toBe(1);
	});

	it('what the provider counted beyond this run (others on the key) fades out over a window', () => {
		let now = 0;
		const pacer = new Pacer(60_000, () => now);
		pacer.observe({ requests: { limit: 600, remaining: 0, resetMs: 60_000 } });
		// 600 per minute: one request every 100 ms
		expect(pacer.waitFor({ inputTokens: 0, outputTokens: 0 })).toBeCloseTo(100, 5);
		now = 100;
		expect(pacer.waitFor({ inputTokens: 0, outputTokens: 0 })).toBe(0);
	});

	it('answers out of order: a send counts from its answer on, and the window frees in that order', async () => {
		let now = 0;
		const pacer = new Pacer(1_000, () => now);
		pacer.observe({ requests: { limit: 2, remaining: 2 } });
		const first = await pacer.acquire({ inputTokens: 0, outputTokens: 0 });
		const second = await pacer.acquire({ inputTokens: 0, outputTokens: 0 });
		now = 100;
		second.settle({ inputTokens: 5, outputTokens: 5 });
		now = 500;
		first.settle({ inputTokens: 5, outputTokens: 5 });
		// full: the earlier answer (at 100 ms) leaves first, a window and the slack later
		expect(pacer.waitFor({ inputTokens: 0, outputTokens: 0 })).toBe(1_100 + 100 - 500);
		now = 1_200;
		expect(pacer.waitFor({ inputTokens: 0, outputTokens: 0 })).toBe(0);
	});
});
