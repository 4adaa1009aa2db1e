import Anthropic from '@anthropic-ai/sdk';

import type { Usage } from '../contract';
import { ProviderError } from './errors';
import type { Candidate, ModelClient, ModelRequest, ModelResponse, ProviderCredentials } from './types';

/**
 * Anthropic through its official SDK: structured output by forced tool use, the static instructions marked
 * for prompt caching, the item last. k samples are k requests (the Messages API has no `n`).
 */
export class AnthropicClient implements ModelClient {
	readonly provider = 'anthropic' as const;
	readonly supportsLogprobs = false;
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

		const one = async (): Promise<{ candidate: Candidate; usage: Usage; id: string; model: string }> => {
			const message = await this.sdk.messages.create(
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
			);
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
			if (message.stop_reason === 'refusal') {
				const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
				return { candidate: { value: undefined, text, refusal: text || 'refused' }, usage, id: message.id, model: message.model };
			}
			const tool = message.content.find((b) => b.type === 'tool_use');
			if (tool && tool.type === 'tool_use') {
				return { candidate: { value: tool.input, text: JSON.stringify(tool.input) }, usage, id: message.id, model: message.model };
			}
			const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
			return { candidate: { value: parseJson(text), text }, usage, id: message.id, model: message.model };
		};

		const answers = await Promise.all(Array.from({ length: Math.max(1, req.samples) }, one));
		const usage = answers.reduce<Usage>(
			(sum, a) => ({
				inputTokens: sum.inputTokens + a.usage.inputTokens,
				outputTokens: sum.outputTokens + a.usage.outputTokens,
				cachedInputTokens: sum.cachedInputTokens + a.usage.cachedInputTokens,
				cacheWriteTokens: sum.cacheWriteTokens + a.usage.cacheWriteTokens,
				requests: sum.requests + 1,
			}),
			{ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 0 },
		);
		if (answers[0].candidate.refusal) {
			throw new ProviderError(`The model refused to answer: ${answers[0].candidate.refusal}`, 'refusal');
		}
		return { candidates: answers.map((a) => a.candidate), usage, responseId: answers[0].id, model: answers[0].model };
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
