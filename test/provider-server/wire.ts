/**
 * Turning replies into the two providers' response bodies, following the SDK response types
 * (@anthropic-ai/sdk Message, openai ChatCompletion).
 */
import { tokenize } from './tokens';
import type { ErrorReply, RecordedRequest, Reply, TokenLogprob, ToolCallReply } from './types';
import { estimateTokens } from './prompt';

export type ContentReply = Extract<Reply, { json: unknown } | { text: string } | { refusal: string } | { toolCall: unknown }>;

export function isContentReply(r: Reply): r is ContentReply {
	return 'json' in r || 'text' in r || 'refusal' in r || 'toolCall' in r;
}

/** An OpenAI assistant message that calls one tool. */
function toolCallMessage(id: string, name: string, args: string) {
	return { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id, type: 'function', function: { name, arguments: args } }] };
}

/** The id of a scripted tool call: the reply's own, else one made from the request and choice index. */
function toolCallId(reply: ToolCallReply, prefix: string, req: RecordedRequest, index: number): string {
	return reply.toolCall.id ?? `${prefix}_${req.index}_${index}`;
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
	400: 'invalid_request_error',
	401: 'authentication_error',
	402: 'billing_error',
	403: 'permission_error',
	404: 'not_found_error',
	413: 'request_too_large',
	429: 'rate_limit_error',
	500: 'api_error',
	529: 'overloaded_error',
};

const OPENAI_ERRORS: Record<number, { type: string; code: string | null }> = {
	400: { type: 'invalid_request_error', code: null },
	401: { type: 'invalid_request_error', code: 'invalid_api_key' },
	403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
	404: { type: 'invalid_request_error', code: 'model_not_found' },
	413: { type: 'invalid_request_error', code: 'request_too_large' },
	429: { type: 'requests', code: 'rate_limit_exceeded' },
	500: { type: 'server_error', code: null },
	503: { type: 'server_error', code: null },
};

export function anthropicError(e: ErrorReply): object {
	let type = e.errorType ?? ANTHROPIC_ERROR_TYPES[e.status] ?? (e.status >= 500 ? 'api_error' : 'invalid_request_error');
	// Anthropic has no "insufficient_quota"; its nearest is billing_error (credit balance too low).
	if (type === 'insufficient_quota') type = 'billing_error';
	return { type: 'error', error: { type, message: e.message ?? defaultMessage(e.status, type) } };
}

export function openaiError(e: ErrorReply): object {
	const known = OPENAI_ERRORS[e.status] ?? { type: e.status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
	let { type, code } = known;
	if (e.errorType === 'insufficient_quota') {
		type = 'insufficient_quota';
		code = 'insufficient_quota';
	} else if (e.errorType) {
		type = e.errorType;
	}
	const message =
		e.message ??
		(type === 'insufficient_quota'
			? 'You exceeded your current quota, please check your plan and billing details.'
			: defaultMessage(e.status, type));
	return { error: { message, type, param: null, code } };
}

function defaultMessage(status: number, type: string): string {
	if (status === 401) return 'invalid x-api-key';
	if (status === 429) return 'Rate limit reached for requests (local provider server).';
	if (status === 529) return 'Overloaded';
	return `${type} (local provider server, HTTP ${status})`;
}

function replyContent(reply: ContentReply): string {
	if ('json' in reply) return JSON.stringify(reply.json);
	if ('text' in reply) return reply.text;
	if ('toolCall' in reply) return JSON.stringify(reply.toolCall.arguments ?? {});
	return reply.refusal;
}

const MODEL_FALLBACK = { anthropic: 'claude-sonnet-4-6', openai: 'gpt-4o-mini' };

export function anthropicMessage(
	req: RecordedRequest,
	reply: ContentReply,
	cache: { read: number; creation: number },
): object {
	const id = String(req.index).padStart(6, '0');
	let content: object[];
	let stopReason: string;
	let stopDetails: object | null = null;
	let outputText: string;
	if ('refusal' in reply) {
		content = [{ type: 'text', text: reply.refusal, citations: null }];
		stopReason = 'refusal';
		stopDetails = { type: 'refusal', category: null, explanation: reply.refusal };
		outputText = reply.refusal;
	} else if ('toolCall' in reply) {
		const input = reply.toolCall.arguments ?? {};
		content = [{ type: 'tool_use', id: toolCallId(reply, 'toolu_local', req, 0), name: reply.toolCall.name, input, caller: { type: 'direct' } }];
		stopReason = 'tool_use';
		outputText = JSON.stringify(input);
	} else if ('json' in reply && req.toolName !== undefined) {
		content = [{ type: 'tool_use', id: `toolu_local_${id}`, name: req.toolName, input: reply.json, caller: { type: 'direct' } }];
		stopReason = 'tool_use';
		outputText = JSON.stringify(reply.json);
	} else {
		outputText = replyContent(reply);
		content = [{ type: 'text', text: outputText, citations: null }];
		stopReason = 'end_turn';
	}
	return {
		id: `msg_local_${id}`,
		type: 'message',
		role: 'assistant',
		model: req.model ?? MODEL_FALLBACK.anthropic,
		content,
		stop_reason: stopReason,
		stop_sequence: null,
		stop_details: stopDetails,
		container: null,
		usage: {
			input_tokens: req.promptTokens - cache.read - cache.creation,
			output_tokens: estimateTokens(outputText),
			cache_creation_input_tokens: cache.creation,
			cache_read_input_tokens: cache.read,
			cache_creation: { ephemeral_5m_input_tokens: cache.creation, ephemeral_1h_input_tokens: 0 },
			server_tool_use: null,
			service_tier: 'standard',
			inference_geo: null,
		},
	};
}

function withBytes(t: { token: string; logprob: number }) {
	return { token: t.token, logprob: t.logprob, bytes: Array.from(Buffer.from(t.token, 'utf8')) };
}

function logprobContent(tokens: TokenLogprob[], topK: number) {
	return tokens.map((t) => ({
		...withBytes(t),
		// Real top_logprobs lists the k most likely tokens, the chosen one included.
		top_logprobs: (t.top_logprobs ?? [{ token: t.token, logprob: t.logprob }]).slice(0, topK).map(withBytes),
	}));
}

export function openaiCompletion(req: RecordedRequest, replies: ContentReply[], cachedTokens: number): object {
	const body = req.body ?? {};
	const wantLogprobs = body.logprobs === true;
	const topK = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
	const forcedByName = typeof body.tool_choice === 'object' && body.tool_choice !== null;
	let completionTokens = 0;
	const choices = replies.map((reply, index) => {
		let message: Record<string, unknown>;
		let finishReason = 'stop';
		let logprobs: object | null = null;
		if ('refusal' in reply) {
			message = { role: 'assistant', content: null, refusal: reply.refusal, annotations: [] };
			completionTokens += estimateTokens(reply.refusal);
			if (wantLogprobs) {
				const tokens = tokenize(reply.refusal).map((token) => ({ token, logprob: 0 }));
				logprobs = { content: null, refusal: logprobContent(tokens, topK) };
			}
		} else if ('toolCall' in reply) {
			const args = JSON.stringify(reply.toolCall.arguments ?? {});
			completionTokens += estimateTokens(args);
			message = toolCallMessage(toolCallId(reply, 'call_local', req, index), reply.toolCall.name, args);
			finishReason = 'tool_calls';
			if (wantLogprobs) logprobs = { content: null, refusal: null };
		} else if ('json' in reply && req.toolName !== undefined) {
			const args = JSON.stringify(reply.json);
			completionTokens += estimateTokens(args);
			message = toolCallMessage(`call_local_${req.index}_${index}`, req.toolName, args);
			// A named tool_choice ends with "stop" on the real API; "required"/"auto" with "tool_calls".
			finishReason = forcedByName ? 'stop' : 'tool_calls';
			if (wantLogprobs) logprobs = { content: null, refusal: null };
		} else {
			const content = replyContent(reply);
			completionTokens += estimateTokens(content);
			message = { role: 'assistant', content, refusal: null, annotations: [] };
			if (wantLogprobs) {
				const tokens = reply.logprobs ?? tokenize(content).map((token) => ({ token, logprob: 0 }));
				logprobs = { content: logprobContent(tokens, topK), refusal: null };
			}
		}
		return { index, message, finish_reason: finishReason, logprobs };
	});
	return {
		id: `chatcmpl-local-${String(req.index).padStart(6, '0')}`,
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model: req.model ?? MODEL_FALLBACK.openai,
		choices,
		usage: {
			prompt_tokens: req.promptTokens,
			completion_tokens: completionTokens,
			total_tokens: req.promptTokens + completionTokens,
			prompt_tokens_details: { cached_tokens: Math.min(cachedTokens, req.promptTokens), audio_tokens: 0 },
			completion_tokens_details: {
				reasoning_tokens: 0,
				audio_tokens: 0,
				accepted_prediction_tokens: 0,
				rejected_prediction_tokens: 0,
			},
		},
		service_tier: 'default',
		system_fingerprint: 'fp_local_provider_server',
	};
}

export const MODELS = {
	anthropic: ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-7'],
	openai: ['gpt-4.1-mini', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5-mini'],
};

export function modelsList(api: 'anthropic' | 'openai'): object {
	if (api === 'anthropic') {
		const data = MODELS.anthropic.map((id) => ({
			type: 'model',
			id,
			display_name: id,
			created_at: '2025-01-01T00:00:00Z',
		}));
		return { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id };
	}
	return {
		object: 'list',
		data: MODELS.openai.map((id) => ({ id, object: 'model', created: 1735689600, owned_by: 'local-provider-server' })),
	};
}
