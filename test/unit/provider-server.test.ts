/**
 * The local provider server, driven by the official SDKs over real HTTP. SDK retries are off
 * (maxRetries: 0) where the raw behaviour is under test.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { z } from 'zod/v4';

import {
	autoResponder,
	jsonWithLogprobs,
	perSample,
	quotaExceeded,
	rateLimited,
	sequence,
	startProviderServer,
	tokenize,
	tokensFor,
	type ProviderServer,
} from '../provider-server';
import { PromptCaches } from '../provider-server/prompt';

const KEY = 'sk-test-secret-123';

const classifySchema = {
	type: 'object',
	properties: {
		label: { type: 'string', enum: ['billing', 'technical', 'account'] },
		confidence: { type: 'number', minimum: 0, maximum: 1 },
		reason: { type: 'string' },
		evidence: { type: 'array', items: { type: 'string' } },
	},
	required: ['label', 'confidence', 'reason', 'evidence'],
	additionalProperties: false,
};

let server: ProviderServer;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
	server = await startProviderServer();
	anthropic = new Anthropic({ apiKey: KEY, baseURL: server.anthropicBaseUrl, maxRetries: 0 });
	openai = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 0 });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => {
	server.reset();
	server.setOptions({ latencyMs: 0, rpmLimit: undefined });
	server.setResponder(autoResponder);
});

function classifyTool() {
	return { name: 'classify', description: 'Record the label', input_schema: classifySchema as Anthropic.Tool.InputSchema };
}

describe('Anthropic Messages API', () => {
	it('answers a forced tool call with the scripted json as a tool_use block', async () => {
		server.setResponder(sequence({ json: { label: 'billing', confidence: 0.8, reason: 'r', evidence: ['x'] } }));
		const msg = await anthropic.messages.create({
			model: 'claude-sonnet-4-6',
			max_tokens: 512,
			system: [{ type: 'text', text: 'Classify the ticket.' }],
			messages: [{ role: 'user', content: 'I was charged twice.' }],
			tools: [classifyTool()],
			tool_choice: { type: 'tool', name: 'classify' },
		});
		expect(msg.stop_reason).toBe('tool_use');
		const block = msg.content[0];
		expect(block.type).toBe('tool_use');
		if (block.type !== 'tool_use') throw new Error('expected tool_use');
		expect(block.name).toBe('classify');
		expect(block.input).toEqual({ label: 'billing', confidence: 0.8, reason: 'r', evidence: ['x'] });
		const rec = server.requests[0];
		expect(rec.api).toBe('anthropic');
		expect(rec.systemText).toBe('Classify the ticket.');
		expect(rec.userText).toBe('I was charged twice.');
		expect(rec.schema).toEqual(classifySchema);
		expect(rec.status).toBe(200);
		expect(msg.usage.input_tokens).toBe(rec.promptTokens);
		expect(msg.usage.output_tokens).toBeGreaterThan(0);
	});

	it('counts cache_control blocks as cache creation the first time and cache read after', async () => {
		server.setResponder(sequence({ text: 'ok' }));
		const system = 'Policy. '.repeat(400);
		const call = (user: string) =>
			anthropic.messages.create({
				model: 'claude-sonnet-4-6',
				max_tokens: 100,
				system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
				messages: [{ role: 'user', content: user }],
			});
		const first = await call('first item');
		const second = await call('second item, a different one');
		const systemTokens = Math.ceil(system.length / 4);
		expect(first.usage.cache_creation_input_tokens).toBe(systemTokens);
		expect(first.usage.cache_read_input_tokens).toBe(0);
		expect(second.usage.cache_creation_input_tokens).toBe(0);
		expect(second.usage.cache_read_input_tokens).toBe(systemTokens);
		expect(second.usage.input_tokens).toBe(server.requests[1].promptTokens - systemTokens);
	});

	it('gives stop_reason refusal', async () => {
		server.setResponder(sequence({ refusal: 'I cannot help with that.' }));
		const msg = await anthropic.messages.create({
			model: 'claude-sonnet-4-6',
			max_tokens: 100,
			messages: [{ role: 'user', content: 'x' }],
		});
		expect(msg.stop_reason).toBe('refusal');
	});

	it('rejects bad-key with 401 and never records the key', async () => {
		const bad = new Anthropic({ apiKey: 'bad-key', baseURL: server.anthropicBaseUrl, maxRetries: 0 });
		await expect(
			bad.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
		).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
		await anthropic.models.list();
		expect(server.requests.map((r) => r.status)).toEqual([401, 200]);
		const recorded = JSON.stringify(server.requests);
		expect(recorded).not.toContain('bad-key');
		expect(recorded).not.toContain(KEY);
		// SDK 1.14 sends the key as a Bearer token; x-api-key (n8n's credential test) is redacted the same way.
		const headers = server.requests[1].headers;
		expect(headers.authorization ?? headers['x-api-key']).toBe('[redacted]');
	});

	it('answers 429 with retry-after in the Anthropic error shape', async () => {
		server.setResponder(sequence(rateLimited(7)));
		const err = await anthropic.messages
			.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
			.catch((e: unknown) => e);
		expect(err).toBeInstanceOf(Anthropic.RateLimitError);
		const apiErr = err as InstanceType<typeof Anthropic.RateLimitError>;
		expect(apiErr.status).toBe(429);
		expect(apiErr.headers?.get('retry-after')).toBe('7');
		expect((apiErr.error as { error: { type: string } }).error.type).toBe('rate_limit_error');
	});
});

describe('OpenAI Chat Completions API', () => {
	it('returns scripted token logprobs for a json_schema request', async () => {
		const answer = { label: 'billing', confidence: 0.8, reason: 'r', evidence: ['charged'] };
		server.setResponder(sequence(jsonWithLogprobs(answer, { billing: [-0.1, -0.05] })));
		const completion = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [
				{ role: 'system', content: 'Classify.' },
				{ role: 'user', content: 'I was charged twice.' },
			],
			response_format: { type: 'json_schema', json_schema: { name: 'classify', strict: true, schema: classifySchema } },
			logprobs: true,
			top_logprobs: 2,
		});
		const choice = completion.choices[0];
		expect(JSON.parse(choice.message.content ?? '')).toEqual(answer);
		const tokens = choice.logprobs?.content ?? [];
		expect(tokens.map((t) => t.token).join('')).toBe(choice.message.content);
		const billing = tokens.filter((t) => t.logprob !== 0);
		expect(billing.map((t) => t.token).join('')).toBe('billing');
		expect(billing.map((t) => t.logprob)).toEqual([-0.1, -0.05]);
		expect(server.requests[0].schema).toEqual(classifySchema);
	});

	it('calls the responder n times and returns n choices', async () => {
		server.setResponder(perSample({ json: { v: 0 } }, { json: { v: 1 } }, { json: { v: 2 } }));
		const completion = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'x' }],
			response_format: { type: 'json_object' },
			n: 3,
		});
		expect(completion.choices.map((c) => JSON.parse(c.message.content ?? ''))).toEqual([{ v: 0 }, { v: 1 }, { v: 2 }]);
		expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
	});

	it('answers quota exhaustion with 429 insufficient_quota', async () => {
		server.setResponder(sequence(quotaExceeded()));
		const err = await openai.chat.completions
			.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
			.catch((e: unknown) => e);
		expect(err).toBeInstanceOf(OpenAI.RateLimitError);
		const apiErr = err as InstanceType<typeof OpenAI.RateLimitError>;
		expect(apiErr.status).toBe(429);
		expect(apiErr.code).toBe('insufficient_quota');
		expect(apiErr.type).toBe('insufficient_quota');
	});

	it('rejects Bearer bad-key with 401 on completions and models', async () => {
		const bad = new OpenAI({ apiKey: 'bad-key', baseURL: server.openaiBaseUrl, maxRetries: 0 });
		await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
		const models = await openai.models.list();
		expect(models.data.length).toBeGreaterThan(1);
		expect(JSON.stringify(server.requests)).not.toMatch(/bad-key|sk-test/);
		expect(server.requests[0].headers.authorization).toBe('[redacted]');
	});

	it('aborts a hanging request on the SDK timeout', async () => {
		server.setResponder(sequence({ hang: true }));
		const started = Date.now();
		await expect(
			openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { timeout: 300 }),
			// Under jest the abort surfaces as the parent class (the AbortError check is realm-sensitive).
		).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
		expect(Date.now() - started).toBeGreaterThanOrEqual(250);
		expect(server.requests[0].status).toBeUndefined();
	});
});

describe('server behaviour', () => {
	it('records the largest number of requests in flight', async () => {
		server.setOptions({ latencyMs: 150 });
		server.setResponder(sequence({ text: 'ok' }));
		const call = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
		await Promise.all([call(), call(), call(), call()]);
		expect(server.maxInFlight).toBe(4);
		await call();
		await call();
		server.reset();
		await call();
		expect(server.maxInFlight).toBe(1);
	});

	it('enforces the rpm limit with retry-after', async () => {
		server.setOptions({ rpmLimit: 2 });
		server.setResponder(sequence({ text: 'ok' }));
		const call = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
		await call();
		await call();
		const err = (await call().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
		expect(err).toBeInstanceOf(OpenAI.RateLimitError);
		const retryAfter = Number(err.headers?.get('retry-after'));
		expect(Number.isInteger(retryAfter)).toBe(true);
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(60);
	});
});

describe('closing', () => {
	it('close() ends a hanging request instead of waiting for it', async () => {
		const own = await startProviderServer({ responder: { hang: true } });
		const client = new OpenAI({ apiKey: KEY, baseURL: own.openaiBaseUrl, maxRetries: 0, timeout: 30_000 });
		const pending = client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
		const outcome = pending.then(
			() => 'answered',
			(e: unknown) => e,
		);
		while (own.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
		await own.close();
		expect(await outcome).toBeInstanceOf(OpenAI.APIConnectionError);
	});
});

describe('tokens', () => {
	it('tokenises so that the tokens spell the text', () => {
		for (const s of ['{"label":"billing"}', 'Héllo  wörld, 12345!\n\ttab', '']) {
			expect(tokenize(s).join('')).toBe(s);
		}
		const t = tokensFor('{"a":"billing","b":"billing"}', { billing: [-0.1, -0.05] });
		expect(t.map((x) => x.token).join('')).toBe('{"a":"billing","b":"billing"}');
		expect(t.filter((x) => x.logprob !== 0).map((x) => x.token)).toEqual(['bill', 'ing']);
	});
});

describe('autoResponder', () => {
	const system = [
		'Classify the support ticket into one category.',
		'- billing: invoices, charges, refunds',
		'- technical_support: crashes, errors, bugs',
		'- account: login, password, profile',
	].join('\n');
	const classify = z.object({
		label: z.enum(['billing', 'technical_support', 'account']),
		confidence: z.number().min(0).max(1),
		reason: z.string(),
		evidence: z.array(z.string()),
	});
	const extract = z.object({
		invoice_number: z.object({ value: z.string().nullable(), evidence: z.string().nullable() }),
		total: z.number().nullable(),
		currency: z.enum(['EUR', 'USD']),
		vendorName: z.string().nullable(),
		purchase_order: z.string().nullable(),
		confidence: z.number(),
	});

	it('answers a classify-like schema validly, by keyword overlap with the descriptions', async () => {
		const user = 'Hello team. The app crashes with an error every morning. Please fix it.';
		const msg = await anthropic.messages.create({
			model: 'claude-haiku-4-5',
			max_tokens: 512,
			system,
			messages: [{ role: 'user', content: user }],
			tools: [{ name: 'classify', input_schema: z.toJSONSchema(classify) as Anthropic.Tool.InputSchema }],
			tool_choice: { type: 'tool', name: 'classify' },
		});
		const block = msg.content[0];
		if (block.type !== 'tool_use') throw new Error(`expected tool_use, got ${block.type}`);
		const answer = classify.parse(block.input);
		expect(answer.label).toBe('technical_support');
		expect(answer.confidence).toBe(0.9);
		expect(answer.evidence).toEqual(['The app crashes with an error every morning.']);
		for (const quote of answer.evidence) expect(user).toContain(quote);

		const none = await anthropic.messages.create({
			model: 'claude-haiku-4-5',
			max_tokens: 512,
			system,
			messages: [{ role: 'user', content: 'Good morning.' }],
			tools: [{ name: 'classify', input_schema: z.toJSONSchema(classify) as Anthropic.Tool.InputSchema }],
			tool_choice: { type: 'tool', name: 'classify' },
		});
		const fallback = classify.parse((none.content[0] as Anthropic.ToolUseBlock).input);
		expect(fallback).toMatchObject({ label: 'billing', confidence: 0.4 });
	});

	it('reads the item from the first user message when a re-ask adds turns', async () => {
		const tool = { name: 'classify', input_schema: z.toJSONSchema(classify) as Anthropic.Tool.InputSchema };
		const msg = await anthropic.messages.create({
			model: 'claude-haiku-4-5',
			max_tokens: 512,
			system,
			messages: [
				{ role: 'user', content: 'I was charged twice this month.' },
				{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'classify', input: { label: 'nope' } }] },
				{
					role: 'user',
					content: [{ type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: 'label: invalid enum value; fix the account field' }],
				},
			],
			tools: [tool],
			tool_choice: { type: 'tool', name: 'classify' },
		});
		expect(server.requests[0].userText).toBe('label: invalid enum value; fix the account field');
		const answer = classify.parse((msg.content[0] as Anthropic.ToolUseBlock).input);
		expect(answer.label).toBe('billing');
		expect(answer.evidence).toEqual(['I was charged twice this month.']);
	});

	it('answers an extract-like schema validly, quoting name: value pairs', async () => {
		const user = 'Invoice from Acme GmbH.\nInvoice number: INV-2024-001\nVendor name: Acme GmbH\nTotal: 1,250.50 EUR';
		const completion = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [
				{ role: 'system', content: 'Extract the invoice fields.' },
				{ role: 'user', content: user },
			],
			response_format: {
				type: 'json_schema',
				json_schema: { name: 'extract', strict: true, schema: z.toJSONSchema(extract) as Record<string, unknown> },
			},
		});
		const answer = extract.parse(JSON.parse(completion.choices[0].message.content ?? ''));
		expect(answer).toEqual({
			invoice_number: { value: 'INV-2024-001', evidence: 'Invoice number: INV-2024-001' },
			total: 1250.5,
			currency: 'EUR',
			vendorName: 'Acme GmbH',
			purchase_order: null,
			confidence: 0.9,
		});
	});

	it('finds the schema in the instructions of a json_object request', async () => {
		const schema = z.toJSONSchema(classify);
		const completion = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [
				{ role: 'system', content: `${system}\n\nAnswer with one JSON object that matches this JSON Schema:\n${JSON.stringify(schema)}` },
				{ role: 'user', content: 'I forgot my password.' },
			],
			response_format: { type: 'json_object' },
		});
		expect(classify.parse(JSON.parse(completion.choices[0].message.content ?? '')).label).toBe('account');
	});
});

describe('faithful rough edges', () => {
	it('rejects a strict schema that OpenAI would reject', async () => {
		const err = (await openai.chat.completions
			.create({
				model: 'gpt-4o-mini',
				messages: [{ role: 'user', content: 'x' }],
				response_format: {
					type: 'json_schema',
					json_schema: { name: 'loose', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } },
				},
			})
			.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
		expect(err).toBeInstanceOf(OpenAI.BadRequestError);
		expect(err.message).toContain('additionalProperties');
	});

	it('passes a schema-invalid answer through unchanged', async () => {
		server.setResponder(sequence({ json: { label: 'not-a-label' } }));
		const completion = await openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'x' }],
			response_format: { type: 'json_schema', json_schema: { name: 'c', strict: true, schema: classifySchema } },
		});
		expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ label: 'not-a-label' });
	});

	it('answers malformed JSON that the SDK cannot parse', async () => {
		server.setResponder(sequence({ malformed: true }));
		await expect(
			anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
		).rejects.toThrow();
		expect(server.requests[0].status).toBe(200);
	});

	it('reports OpenAI automatic caching for a repeated long prefix', async () => {
		server.setResponder(sequence({ text: 'ok' }));
		const system = 'Static instructions that stay the same for every item. '.repeat(100);
		const call = (user: string) =>
			openai.chat.completions.create({
				model: 'gpt-4o-mini',
				messages: [
					{ role: 'system', content: system },
					{ role: 'user', content: user },
				],
			});
		const first = await call('item one');
		const second = await call('item two');
		expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
		const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
		expect(cached).toBeGreaterThanOrEqual(1024);
		expect(cached % 128).toBe(0);
		expect(cached).toBeLessThanOrEqual(second.usage?.prompt_tokens ?? 0);
	});

	it('counts OpenAI cached tokens as the longest 128-token block shared with any of the last 500 prompts', () => {
		// the brute force the cache must agree with: longest common prefix with each remembered prompt
		const commonPrefix = (a: string, b: string) => {
			const max = Math.min(a.length, b.length);
			let i = 0;
			while (i + 256 <= max && a.slice(i, i + 256) === b.slice(i, i + 256)) i += 256;
			while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
			return i;
		};
		const expected = (seen: string[], prompt: string) => {
			let best = 0;
			for (const earlier of seen) best = Math.max(best, commonPrefix(earlier, prompt));
			const tokens = Math.floor(best / 4);
			return tokens < 1024 ? 0 : 1024 + Math.floor((tokens - 1024) / 128) * 128;
		};
		let seed = 11;
		const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
		const stem = 'static instructions, the same for every item. '.repeat(200);
		const caches = new PromptCaches();
		const seen: string[] = [];
		let hits = 0;
		for (let i = 0; i < 700; i++) {
			// prompts that part from the shared stem at varied points, some before the first block ends
			const system = stem.slice(0, 3000 + random(6000)) + `variant ${random(5)} `.repeat(random(300));
			const user = `item ${i}`;
			const prompt = `gpt-4.1-mini\u0000${system}\u0000${user}`;
			const cached = caches.openai('gpt-4.1-mini', [{ text: system }, { text: user }]);
			expect({ i, cached }).toEqual({ i, cached: expected(seen.slice(-500), prompt) });
			if (cached > 0) hits++;
			seen.push(prompt);
		}
		expect(hits).toBeGreaterThan(100);
		expect(caches.openai('another-model', [{ text: stem }, { text: 'x' }])).toBe(0);
	});

	it('sequence gives one reply per request and retries take the next', async () => {
		server.setResponder(sequence(rateLimited(0), { text: 'second' }));
		const retrying = new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseUrl, maxRetries: 1 });
		const completion = await retrying.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
		expect(completion.choices[0].message.content).toBe('second');
		expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
	});
});
