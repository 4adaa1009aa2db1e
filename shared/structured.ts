/**
 * Structured output, never regex-on-prose: the model answers into a JSON Schema made from a zod schema,
 * the answer is validated with zod, and an invalid answer is sent back with the validation errors a bounded
 * number of times. Transient failures (429, 5xx, timeouts, resets) are retried with backoff that honours
 * `retry-after`; the rest fail at once.
 */
import { sleep } from 'n8n-workflow';
import { z } from 'zod/v4';

import type { Usage } from './contract';
import { addUsage, emptyUsage } from './cost';
import type { Limiter } from './concurrency';
import { estimateTokens, type Pacer, readRateLimitHeaders } from './pacing';
import { classifyFailure, ProviderError } from './providers/errors';
import type { Correction, ModelClient, ModelRequest, ModelResponse, TokenLogprob } from './providers/types';

// A pure cache: a zod schema always converts to the same JSON Schema, and the entry dies with the schema.
const converted = new WeakMap<z.ZodType, Record<string, unknown>>();

/** The JSON Schema a model is asked to fill, from the zod schema that validates its answer. */
export function toModelSchema(schema: z.ZodType): Record<string, unknown> {
	let json = converted.get(schema);
	if (!json) {
		json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
		delete json.$schema;
		converted.set(schema, json);
	}
	return json;
}

export interface CallPolicy {
	/** retries of transient failures for one request (0 = none) */
	retries: number;
	/** re-asks after an invalid answer (0 = none) */
	reasks: number;
	timeoutMs: number;
	limiter: Limiter;
	/** paces the run's requests by the provider's rate-limit headers (shared/pacing.ts); shared by its items */
	pacer?: Pacer;
	baseDelayMs?: number;
	maxDelayMs?: number;
	/** values that must never appear in an error message (the API key) */
	secrets?: string[];
}

export interface Answer<T> {
	value: T;
	/** every valid sample, the answer first (k-sample confidence counts them) */
	samples: T[];
	logprobs?: TokenLogprob[];
	text: string;
	usage: Usage;
	/** HTTP requests made, retries and re-asks included */
	attempts: number;
	reasks: number;
	latencyMs: number;
	responseId?: string;
	model: string;
	/** another item of the run asked the same and this is its answer (no request of this item's own) */
	reused?: boolean;
	/** the answer came from a request for several items (shared/batch): how many, and whether this one was asked again alone */
	batch?: { items: number; askedAlone?: boolean };
	/** the result cache held this answer (stored at `cachedAt`, ISO 8601): no request was made */
	cached?: boolean;
	cachedAt?: string;
}

/** A model answer that stayed invalid after every re-ask. Names the fields that were wrong. */
export class InvalidAnswerError extends Error {
	/** what the requests cost before the answer was given up on (re-asks and retries count like any usage) */
	usage?: Usage;
	attempts?: number;

	constructor(
		readonly problems: string,
		readonly fields: string[],
		readonly lastAnswer: string,
	) {
		super(`The model's answer stayed invalid after re-asking: ${problems}`);
		this.name = 'InvalidAnswerError';
	}

	/** The same failure naming the user's fields (e.g. `total`) instead of the answer's paths (`records.0.total.value`). */
	naming(fieldOf: (path: string) => string): InvalidAnswerError {
		const fields = [...new Set(this.fields.map(fieldOf))];
		const named = new InvalidAnswerError(this.problems, fields, this.lastAnswer);
		named.message = `The model's answer stayed invalid after re-asking, for ${fields.length === 1 ? 'field' : 'fields'} ${fields.join(', ')}: ${this.problems}`;
		named.usage = this.usage;
		named.attempts = this.attempts;
		return named;
	}
}

export function backoffMs(retry: number, base: number, max: number): number {
	const exp = Math.min(max, base * 2 ** retry);
	// "equal jitter": at least half the exponential step, so backoff never collapses to zero
	return exp / 2 + Math.random() * (exp / 2);
}

/** One request with retries; the concurrency slot is held only while the request is in flight. */
async function requestWithRetry(
	client: ModelClient,
	req: ModelRequest,
	policy: CallPolicy,
): Promise<{ response: ModelResponse; attempts: number }> {
	let attempts = 0;
	for (;;) {
		attempts++;
		try {
			const response = await policy.limiter.run(() => pacedRequest(client, req, policy.pacer));
			return { response, attempts };
		} catch (error) {
			const failure = classifyFailure(error, policy.secrets);
			if (failure.kind === 'rate-limit') {
				policy.pacer?.rateLimited(failure.retryAfterMs, readRateLimitHeaders((error as { headers?: Headers }).headers));
			}
			if (!failure.retryable || attempts > policy.retries) {
				(failure as ProviderError & { attempts?: number }).attempts = attempts;
				throw failure;
			}
			const wait = Math.max(
				failure.retryAfterMs ?? 0,
				backoffMs(attempts - 1, policy.baseDelayMs ?? 500, policy.maxDelayMs ?? 30_000),
			);
			await sleep(wait);
		}
	}
}

/** One request, started when the run's pacer says it fits under the provider's limits (inside a concurrency slot). */
async function pacedRequest(client: ModelClient, req: ModelRequest, pacer: Pacer | undefined): Promise<ModelResponse> {
	if (!pacer) return await client.request(req, new AbortController().signal);
	const input = estimateTokens(
		req.instructions,
		req.input,
		JSON.stringify(req.schema),
		...req.corrections.flatMap((c) => [c.answer, c.problems]),
	);
	const ticket = await pacer.acquire(pacer.expectedCost(input));
	let response: ModelResponse;
	try {
		response = await client.request(req, new AbortController().signal);
	} catch (error) {
		ticket.settle();
		throw error;
	}
	pacer.observe(response.rateLimits);
	ticket.settle({ inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens });
	return response;
}

/**
 * k samples: one request where the provider returns several answers (OpenAI `n`), else k requests, each
 * taking its own concurrency slot, so the server never sees more requests in flight than the limit.
 */
async function sampledRequest(
	client: ModelClient,
	req: ModelRequest,
	policy: CallPolicy,
): Promise<{ response: ModelResponse; attempts: number }> {
	const samples = Math.max(1, req.samples);
	if (samples <= client.samplesPerRequest) return await requestWithRetry(client, req, policy);
	const parts = await Promise.all(
		Array.from({ length: Math.ceil(samples / client.samplesPerRequest) }, (_, i) =>
			requestWithRetry(client, { ...req, samples: Math.min(client.samplesPerRequest, samples - i * client.samplesPerRequest) }, policy),
		),
	);
	return {
		response: {
			candidates: parts.flatMap((p) => p.response.candidates),
			usage: parts.reduce((sum, p) => addUsage(sum, p.response.usage), emptyUsage()),
			responseId: parts[0].response.responseId,
			model: parts[0].response.model,
		},
		attempts: parts.reduce((sum, p) => sum + p.attempts, 0),
	};
}

function describeIssues(error: z.ZodError): { problems: string; fields: string[] } {
	const fields = error.issues.map((issue) => (issue.path.length ? issue.path.join('.') : '(answer)'));
	const problems = error.issues
		.map((issue) => `${issue.path.length ? issue.path.join('.') : 'answer'}: ${issue.message}`)
		.join('; ');
	return { problems, fields: [...new Set(fields)] };
}

/**
 * Asks for one answer that `schema` accepts. `check` adds rules a JSON Schema cannot express (an evidence
 * quote that must occur in the text…); it returns a problem description or undefined.
 */
export async function askStructured<S extends z.ZodType>(
	client: ModelClient,
	request: Omit<ModelRequest, 'corrections' | 'schema'>,
	schema: S,
	policy: CallPolicy,
	check?: (value: z.infer<S>) => string | undefined,
	/** the JSON Schema the model fills, when it is stricter than `schema` (several items: each entry is checked later) */
	modelSchema?: Record<string, unknown>,
): Promise<Answer<z.infer<S>>> {
	const started = Date.now();
	const corrections: Correction[] = [];
	const jsonSchema = modelSchema ?? toModelSchema(schema);
	let usage = emptyUsage();
	let attempts = 0;
	for (let reask = 0; ; reask++) {
		const { response, attempts: used } = await sampledRequest(
			client,
			{ ...request, schema: jsonSchema, corrections: [...corrections] },
			policy,
		);
		attempts += used;
		usage = addUsage(usage, response.usage);
		const [first, ...rest] = response.candidates;
		const parsed = schema.safeParse(first.value);
		let problems: { problems: string; fields: string[] } | undefined;
		if (first.value === undefined) {
			problems = { problems: 'the answer was not valid JSON', fields: ['(answer)'] };
		} else if (!parsed.success) {
			problems = describeIssues(parsed.error);
		} else if (check) {
			const extra = check(parsed.data);
			if (extra) problems = { problems: extra, fields: [] };
		}
		if (!problems && parsed.success) {
			const samples: Array<z.infer<S>> = [parsed.data];
			for (const candidate of rest) {
				const sample = schema.safeParse(candidate.value);
				if (sample.success && (!check || !check(sample.data))) samples.push(sample.data);
			}
			return {
				value: parsed.data,
				samples,
				logprobs: first.logprobs,
				text: first.text,
				usage,
				attempts,
				reasks: reask,
				latencyMs: Date.now() - started,
				responseId: response.responseId,
				model: response.model,
			};
		}
		if (reask >= policy.reasks) {
			const error = new InvalidAnswerError(problems!.problems, problems!.fields, first.text);
			error.usage = usage;
			error.attempts = attempts;
			throw error;
		}
		corrections.push({ answer: first.text, problems: problems!.problems });
	}
}
