/** Public types of the local provider server. Other helpers code against these names: keep them. */

export type ApiKind = 'anthropic' | 'openai';

export interface ProviderServerOptions {
	/** Port on 127.0.0.1; 0 (the default) picks a free one. */
	port?: number;
	/** Added before every response, errors included. */
	latencyMs?: number;
	/** Requests per minute over a sliding 60 s window; above it the answer is 429 with retry-after. */
	rpmLimit?: number;
	/**
	 * Tokens per minute over the same sliding 60 s window: a request's prompt tokens count from its arrival, its
	 * output tokens from its answer; a request whose prompt would not fit gets 429 with retry-after.
	 */
	tpmLimit?: number;
	/** Length of the rate-limit window, ms; 60,000 (a minute, as the providers count) unless a test shortens it. */
	windowMs?: number;
	/** Send the rate-limit headers (OpenAI `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`) when a limit is set; default true. */
	rateLimitHeaders?: boolean;
	/** Produces the answer to each request (a fixed Reply answers every request alike); default `autoResponder`. */
	responder?: Responder | Reply;
}

export interface ProviderServer {
	/** http://127.0.0.1:PORT */
	url: string;
	/** baseURL for the Anthropic SDK. */
	anthropicBaseUrl: string;
	/** baseURL for the OpenAI SDK (…/v1). */
	openaiBaseUrl: string;
	/** Every request received, in arrival order (cleared in place by reset()). */
	requests: RecordedRequest[];
	/** The largest number of requests being handled at once since start or the last reset(). */
	readonly maxInFlight: number;
	/** A Responder, or one fixed Reply for every request. */
	setResponder(r: Responder | Reply): void;
	setOptions(o: Partial<ProviderServerOptions>): void;
	/** Clears requests, maxInFlight, the rate-limit windows and the prompt caches. */
	reset(): void;
	/** Stops listening and ends hanging requests. */
	close(): Promise<void>;
}

export interface RecordedRequest {
	api: ApiKind;
	/** Request path without the query string, e.g. /v1/messages. */
	path: string;
	method: string;
	/** Lower-case header names; API keys replaced by "[redacted]". */
	headers: Record<string, string>;
	/** The parsed JSON body (undefined for GET or a body that is not JSON). */
	body: any;
	receivedAt: number;
	respondedAt?: number;
	status?: number;
	/** The system / developer instructions as text. */
	systemText: string;
	/** The text of the last user message. */
	userText: string;
	/** Estimated input tokens: ceil(chars / 4) over tools, schema, system and messages. */
	promptTokens: number;
	/** Output tokens of the answer (set once answered with content). */
	outputTokens?: number;
	/** The JSON schema the request asks to fill (forced tool input_schema, output_config or response_format), if any. */
	schema?: object;
	/** Name of the tool the answer must call, when the request forces (or offers exactly one) tool. */
	toolName?: string;
	/** Names of every tool the request offers (Anthropic tools, OpenAI function tools), in order. */
	tools: string[];
	/** Tool results the conversation sends back (OpenAI `tool` messages, Anthropic `tool_result` blocks). */
	toolResults: ToolResult[];
	/** The model id the request named. */
	model?: string;
	/** OpenAI `n` (1 when absent; always 1 for Anthropic). */
	n: number;
	/** True when the request asks for JSON (schema, json_object or a tool). */
	wantsJson: boolean;
	/** 0-based arrival index. */
	index: number;
}

/** A tool's result as the client sent it back to the model. */
export interface ToolResult {
	toolCallId: string;
	content: string;
}

export interface TokenLogprob {
	token: string;
	logprob: number;
	top_logprobs?: { token: string; logprob: number }[];
}

interface ReplyCommon {
	/** Extra delay before this answer, on top of latencyMs. */
	delayMs?: number;
}

export type JsonReply = ReplyCommon & { json: unknown; logprobs?: TokenLogprob[] };
export type TextReply = ReplyCommon & { text: string; logprobs?: TokenLogprob[] };
export type ErrorReply = ReplyCommon & { status: number; retryAfter?: number; errorType?: string; message?: string };
export type MalformedReply = ReplyCommon & { malformed: true };
export type HangReply = ReplyCommon & { hang: true };
export type RefusalReply = ReplyCommon & { refusal: string };
/**
 * The model calls a tool the request offers, by name, with these arguments (an agent's turn; unlike a
 * `json` reply, which fills the forced or first tool). An unknown name gives a 500 naming it.
 */
export type ToolCallReply = ReplyCommon & { toolCall: { name: string; arguments: unknown; id?: string } };

export type Reply = JsonReply | TextReply | ErrorReply | MalformedReply | HangReply | RefusalReply | ToolCallReply;

/** Called once per answer: once per request, or n times (sampleIndex 0..n-1) for an OpenAI `n` request. */
export type Responder = (req: RecordedRequest, sampleIndex: number) => Reply | Promise<Reply>;
