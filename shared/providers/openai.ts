import OpenAI from 'openai';

import type { Usage } from '../contract';
import { readRateLimitHeaders } from '../pacing';
import { ProviderError } from './errors';
import type { Candidate, ModelClient, ModelRequest, ModelResponse, ProviderCredentials } from './types';

/**
 * OpenAI and OpenAI-compatible servers (Azure OpenAI, Ollama, vLLM, LM Studio) through the official SDK:
 * strict `json_schema` output, falling back to JSON mode with the schema in the prompt for servers that
 * reject `json_schema`. k samples use `n`; log-probabilities are requested when the confidence needs them.
 */
export class OpenAiClient implements ModelClient {
	readonly provider = 'openai' as const;
	readonly supportsLogprobs = true;
	readonly samplesPerRequest = 128;
	private readonly sdk: OpenAI;

	constructor(
		credentials: ProviderCredentials,
		readonly model: string,
		timeoutMs: number,
		private readonly jsonMode: 'json_schema' | 'json_object' = 'json_schema',
	) {
		this.sdk = new OpenAI({
			apiKey: credentials.apiKey,
			baseURL: credentials.baseUrl || undefined,
			organization: credentials.organization || undefined,
			maxRetries: 0,
			timeout: timeoutMs,
		});
	}

	async request(req: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
		try {
			return await this.send(req, signal, this.jsonMode);
		} catch (error) {
			const e = error as { status?: number; message?: string };
			// compatible servers without structured outputs reject response_format.json_schema with a 400
			// (but an invalid schema of ours must surface, not hide behind JSON mode)
			const message = String(e.message);
			if (
				this.jsonMode === 'json_schema' &&
				e.status === 400 &&
				/response_format|json_schema/i.test(message) &&
				/not supported|unsupported|unknown|unrecognized|not allowed|invalid value/i.test(message) &&
				!/invalid schema/i.test(message)
			) {
				return await this.send(req, signal, 'json_object');
			}
			throw error;
		}
	}

	private async send(req: ModelRequest, signal: AbortSignal, mode: 'json_schema' | 'json_object'): Promise<ModelResponse> {
		const system =
			mode === 'json_schema'
				? req.instructions
				: `${req.instructions}\n\nAnswer with one JSON object that matches this JSON Schema:\n${JSON.stringify(req.schema)}`;
		const messages: OpenAI.ChatCompletionMessageParam[] = [
			{ role: 'system', content: system },
			{ role: 'user', content: req.input },
		];
		for (const correction of req.corrections) {
			messages.push({ role: 'assistant', content: correction.answer });
			messages.push({ role: 'user', content: `That answer is invalid: ${correction.problems}. Answer again with corrected JSON.` });
		}
		const { data: completion, response } = await this.sdk.chat.completions
			.create(
			{
				model: this.model,
				messages,
				max_completion_tokens: req.maxTokens,
				...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
				...(req.samples > 1 ? { n: req.samples } : {}),
				// only the chosen tokens' log-probabilities are used: no top_logprobs, 6× less to parse per answer
				...(req.logprobs ? { logprobs: true } : {}),
				response_format:
					mode === 'json_schema'
						? { type: 'json_schema', json_schema: { name: req.schemaName, description: req.schemaDescription, schema: req.schema, strict: true } }
						: { type: 'json_object' },
			},
				{ signal },
			)
			// the raw response too: its rate-limit headers pace the run (shared/pacing.ts)
			.withResponse();
		const u = completion.usage;
		const usage: Usage = {
			inputTokens: u?.prompt_tokens ?? 0,
			outputTokens: u?.completion_tokens ?? 0,
			cachedInputTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
			cacheWriteTokens: 0,
			requests: 1,
		};
		const candidates: Candidate[] = completion.choices.map((choice) => {
			const text = choice.message.content ?? '';
			return {
				value: parseJson(text),
				text,
				logprobs: choice.logprobs?.content ?? undefined,
				refusal: choice.message.refusal ?? undefined,
			};
		});
		if (candidates.length === 0) throw new ProviderError('The provider returned no answer', 'server');
		if (candidates[0].refusal) throw new ProviderError(`The model refused to answer: ${candidates[0].refusal}`, 'refusal');
		return {
			candidates,
			usage,
			responseId: completion.id,
			model: completion.model || this.model,
			rateLimits: readRateLimitHeaders(response.headers),
		};
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}
