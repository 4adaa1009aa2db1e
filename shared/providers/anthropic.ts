import Anthropic from '@anthropic-ai/sdk';

import type { Usage } from '../contract';
import { readRateLimitHeaders } from '../pacing';
import { ProviderError } from './errors';
import type { Candidate, ModelClient, ModelRequest, ModelResponse, ProviderCredentials } from './types';

/**
 * Anthropic through its official SDK: structured output by forced tool use, the static instructions marked
 * for prompt caching, the item last. One answer per request (the Messages API has no `n`): the caller asks
 * k times for k samples, each request under the concurrency limit.
 */
export class AnthropicClient implements ModelClient {
	readonly provider = 'anthropic' as const;
	readonly supportsLogprobs = false;
	readonly samplesPerRequest = 1;
	private readonly sdk: Anthropic;

	constructor(
		credentials: ProviderCredentials,
		readonly model: string,
		timeoutMs: number,
	) {
		this.sdk = new Anthropic({
			apiKey: credentials.apiKey,
			baseURL: credentials.baseUrl || undefined,
			// retries, backoff and the concurrency limit are ours (they honour retry-after and count attempts)
			maxRetries: 0,
			timeout: timeoutMs,
		});
	}

	async request(req: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
		const messages: Anthropic.MessageParam[] = [{ role: 'user', content: req.input }];
		req.corrections.forEach((correction, i) => {
			const id = `toolu_reask_${i}`;
			messages.push({
				role: 'assistant',
				content: [{ type: 'tool_use', id, name: req.schemaName, input: safeObject(correction.answer) }],
			});
			messages.push({
				role: 'user',
				content: [
					{
						type: 'tool_result',
						tool_use_id: id,
						is_error: true,
						content: `That answer is invalid: ${correction.problems}. Call ${req.schemaName} again with a corrected answer.`,
					},
				],
			});
		});

		const { data: message, response } = await this.sdk.messages
			.create(
			{
				model: this.model,
				max_tokens: req.maxTokens,
				...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
				system: [{ type: 'text', text: req.instructions, cache_control: { type: 'ephemeral' } }],
				tools: [
					{
						name: req.schemaName,
						description: req.schemaDescription,
						input_schema: req.schema as Anthropic.Tool.InputSchema,
					},
				],
				tool_choice: { type: 'tool', name: req.schemaName },
				messages,
			},
				{ signal },
			)
			// the raw response too: its rate-limit headers pace the run (shared/pacing.ts)
			.withResponse();
		const u = message.usage;
		const cacheRead = u.cache_read_input_tokens ?? 0;
		const cacheWrite = u.cache_creation_input_tokens ?? 0;
		const usage: Usage = {
			// Anthropic reports cached tokens apart from input_tokens; we count all input tokens together
			inputTokens: u.input_tokens + cacheRead + cacheWrite,
			outputTokens: u.output_tokens,
			cachedInputTokens: cacheRead,
			cacheWriteTokens: cacheWrite,
			requests: 1,
		};
		const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
		if (message.stop_reason === 'refusal') {
			throw new ProviderError(`The model refused to answer: ${text || 'refused'}`, 'refusal');
		}
		const tool = message.content.find((b) => b.type === 'tool_use');
		const candidate: Candidate =
			tool && tool.type === 'tool_use'
				? { value: tool.input, text: JSON.stringify(tool.input) }
				: { value: parseJson(text), text };
		return { candidates: [candidate], usage, responseId: message.id, model: message.model, rateLimits: readRateLimitHeaders(response.headers) };
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

function safeObject(text: string): Record<string, unknown> {
	const value = parseJson(text);
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { answer: text };
}
