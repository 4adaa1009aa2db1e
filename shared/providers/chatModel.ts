/**
 * A Chat Model sub-node connected to an AI node (n8n's `ai_languageModel` connection: OpenAI, Anthropic, Ollama,
 * Gemini, Bedrock, … Chat Model). n8n hands over a LangChain chat model object; this package does not bundle
 * LangChain and types the object structurally, using only what every LangChain chat model has (`invoke`) and
 * what most have (`bindTools`, `_llmType`).
 *
 * Structured output goes through the model's own JSON support:
 *  - OpenAI and compatible (`_llmType() === 'openai'`): `response_format` json_schema (strict), so the answer is
 *    message content and carries token log-probabilities when asked (`logprobs` on the model);
 *  - Ollama: the `format` option with the JSON Schema;
 *  - any other model with tool calling (Anthropic, Gemini, Bedrock, Mistral, Groq, …): one tool forced by name;
 *  - a model with none of these: the schema in the instructions and JSON read from the text.
 * The answer is validated and re-asked by the caller (shared/structured.ts) as on the SDK path. Usage comes from
 * the message's `usage_metadata`, the model name from its `response_metadata`. k samples are k requests.
 */
import type { Usage } from '../contract';
import { classifyFailure, ProviderError } from './errors';
import type { Candidate, ModelClient, ModelRequest, ModelResponse, TokenLogprob } from './types';

/** What a LangChain chat model's `invoke` resolves to (an AIMessage), as far as it is read here. */
export interface ChatModelMessage {
	content?: unknown;
	id?: string;
	tool_calls?: Array<{ name?: string; args?: unknown }>;
	usage_metadata?: {
		input_tokens?: number;
		output_tokens?: number;
		input_token_details?: { cache_read?: number; cache_creation?: number };
	};
	response_metadata?: Record<string, unknown>;
}

export interface ChatModelRunnable {
	invoke(input: unknown, options?: Record<string, unknown>): Promise<ChatModelMessage>;
}

/** The structural type of a LangChain BaseChatModel handed over by n8n. */
export interface ChatModelLike extends ChatModelRunnable {
	_llmType?(): string;
	bindTools?(tools: unknown[], kwargs?: Record<string, unknown>): ChatModelRunnable;
	model?: string;
	modelName?: string;
	logprobs?: boolean;
	/** LangChain's ChatOpenAI (1.x) delegates Chat Completions requests to this inner model */
	completions?: { logprobs?: boolean };
	apiKey?: string;
	anthropicApiKey?: string;
	openAIApiKey?: string;
}

export function isChatModel(value: unknown): value is ChatModelLike {
	return typeof value === 'object' && value !== null && typeof (value as ChatModelLike).invoke === 'function';
}

/** The model family, from LangChain's `_llmType()` ('openai', 'anthropic', 'ollama', 'google-genai', …). */
export function chatModelFamily(model: ChatModelLike): string {
	try {
		const type = model._llmType?.();
		return typeof type === 'string' && type ? type : 'chat-model';
	} catch {
		return 'chat-model';
	}
}

/** The API keys the model object holds, so error messages can be scrubbed of them. */
export function chatModelSecrets(model: ChatModelLike): string[] {
	return [model.apiKey, model.anthropicApiKey, model.openAIApiKey].filter((k): k is string => typeof k === 'string' && k.length >= 4);
}

type Mode = 'response_format' | 'format' | 'tool' | 'prompt';

export class ChatModelClient implements ModelClient {
	readonly provider: string;
	readonly model: string;
	readonly supportsLogprobs: boolean;
	readonly samplesPerRequest = 1;
	private mode: Mode;

	constructor(
		private readonly chatModel: ChatModelLike,
		private readonly timeoutMs: number,
	) {
		const family = chatModelFamily(chatModel);
		this.provider = family;
		this.model = String(chatModel.model ?? chatModel.modelName ?? family);
		this.mode =
			family === 'openai'
				? 'response_format'
				: family === 'ollama'
					? 'format'
					: typeof chatModel.bindTools === 'function'
						? 'tool'
						: 'prompt';
		this.supportsLogprobs = family === 'openai';
	}

	async request(req: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
		try {
			return await this.send(req, signal, this.mode);
		} catch (error) {
			// an OpenAI-compatible server without structured outputs rejects response_format with a 400: ask for
			// JSON in the instructions instead, for this and the run's later requests (as the SDK path falls back)
			if (
				this.mode === 'response_format' &&
				error instanceof ProviderError &&
				error.kind === 'bad-request' &&
				/response_format|json_schema/i.test(error.message) &&
				/not supported|unsupported|unknown|unrecognized|not allowed|invalid value/i.test(error.message) &&
				!/invalid schema/i.test(error.message)
			) {
				this.mode = 'prompt';
				return await this.send(req, signal, 'prompt');
			}
			throw error;
		}
	}

	private async send(req: ModelRequest, signal: AbortSignal, mode: Mode): Promise<ModelResponse> {
		const system =
			mode === 'prompt'
				? `${req.instructions}\n\nAnswer with one JSON object that matches this JSON Schema, and nothing else:\n${JSON.stringify(req.schema)}`
				: req.instructions;
		const messages: Array<{ role: string; content: unknown }> = [
			{
				role: 'system',
				// Anthropic caches the static part of the prompt when it is marked, as on the SDK path
				content: this.provider === 'anthropic' ? [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }] : system,
			},
			{ role: 'user', content: req.input },
		];
		for (const correction of req.corrections) {
			messages.push({ role: 'assistant', content: correction.answer });
			messages.push({
				role: 'user',
				content: `That answer is invalid: ${correction.problems}. Answer again with a corrected ${mode === 'tool' ? `call of ${req.schemaName}` : 'JSON object'}.`,
			});
		}
		const options: Record<string, unknown> = { signal, timeout: this.timeoutMs };
		let runnable: ChatModelRunnable = this.chatModel;
		if (mode === 'response_format') {
			options.response_format = {
				type: 'json_schema',
				json_schema: { name: req.schemaName, description: req.schemaDescription, schema: req.schema, strict: true },
			};
			// LangChain's ChatOpenAI reads `logprobs` from the model (its inner Chat Completions model), not from the
			// call options: n8n builds the object for this run, so setting it changes no one else's requests
			if (req.logprobs) {
				this.chatModel.logprobs = true;
				if (this.chatModel.completions && typeof this.chatModel.completions === 'object') this.chatModel.completions.logprobs = true;
			}
		} else if (mode === 'format') {
			options.format = req.schema;
		} else if (mode === 'tool') {
			runnable = this.chatModel.bindTools!(
				[{ type: 'function', function: { name: req.schemaName, description: req.schemaDescription, parameters: req.schema } }],
				{ tool_choice: req.schemaName },
			);
		}
		let message: ChatModelMessage;
		try {
			message = await runnable.invoke(messages, options);
		} catch (error) {
			throw chatModelFailure(error, chatModelSecrets(this.chatModel));
		}
		const meta = message.response_metadata ?? {};
		const text = contentText(message.content);
		if (meta.stop_reason === 'refusal' || typeof meta.refusal === 'string') {
			throw new ProviderError(`The model refused to answer: ${String(meta.refusal ?? text) || 'refused'}`, 'refusal');
		}
		const call = message.tool_calls?.find((c) => c.name === req.schemaName) ?? message.tool_calls?.[0];
		const candidate: Candidate =
			call && call.args !== undefined
				? { value: call.args, text: JSON.stringify(call.args) }
				: { value: parseJson(text), text, logprobs: logprobsOf(meta) };
		return {
			candidates: [candidate],
			usage: usageOf(message),
			responseId: typeof message.id === 'string' ? message.id : typeof meta.id === 'string' ? meta.id : undefined,
			model: String(meta.model_name ?? meta.model ?? this.model),
		};
	}
}

/** Token usage from the message's `usage_metadata` (LangChain counts cached input tokens within input_tokens). */
export function usageOf(message: ChatModelMessage): Usage {
	const u = message.usage_metadata ?? {};
	return {
		inputTokens: u.input_tokens ?? 0,
		outputTokens: u.output_tokens ?? 0,
		cachedInputTokens: u.input_token_details?.cache_read ?? 0,
		cacheWriteTokens: u.input_token_details?.cache_creation ?? 0,
		requests: 1,
	};
}

function logprobsOf(meta: Record<string, unknown>): TokenLogprob[] | undefined {
	const logprobs = meta.logprobs as { content?: TokenLogprob[] } | TokenLogprob[] | undefined | null;
	if (Array.isArray(logprobs)) return logprobs;
	return Array.isArray(logprobs?.content) ? logprobs.content : undefined;
}

/** The text of a message's content: a string, or the text blocks of a content array. */
export function contentText(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) {
		return content.map((b) => (typeof b === 'string' ? b : b && typeof b === 'object' && 'text' in b ? String((b as { text: unknown }).text) : '')).join('');
	}
	return '';
}

/** JSON from a reply, also when a model wrapped it in a markdown code block. */
export function parseJson(text: string): unknown {
	const trimmed = text.trim();
	const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?\s*```$/.exec(trimmed);
	try {
		return JSON.parse(fenced ? fenced[1] : trimmed);
	} catch {
		return undefined;
	}
}

/**
 * The provider failure inside whatever a Chat Model threw. n8n's sub-nodes wrap the SDK's error: the OpenAI Chat
 * Model turns a 429 at once into an OperationalError whose `cause` is the SDK's RateLimitError, inside a
 * NodeApiError (`errorResponse`/`cause`); LangChain's retry adds its own layer. The HTTP status and headers
 * (`retry-after`) are found on the innermost error that has them, so the caller's retry honours them.
 */
export function chatModelFailure(error: unknown, secrets: string[] = []): ProviderError {
	if (error instanceof ProviderError) return error;
	const seen = new Set<unknown>();
	const queue: unknown[] = [error];
	let withStatus: { status: number; headers?: unknown } | undefined;
	let code: string | undefined;
	while (queue.length > 0 && seen.size < 20) {
		const current = queue.shift();
		if (!current || typeof current !== 'object' || seen.has(current)) continue;
		seen.add(current);
		const e = current as Record<string, unknown>;
		const response = e.response as { status?: unknown; headers?: unknown } | undefined;
		const status = typeof e.status === 'number' ? e.status : typeof response?.status === 'number' ? response.status : undefined;
		const headers = e.headers ?? response?.headers;
		if (status !== undefined && (!withStatus || (withStatus.headers === undefined && headers !== undefined))) {
			withStatus = { status, headers };
		}
		if (!code && typeof e.code === 'string') code = e.code;
		queue.push(e.cause, e.errorResponse, e.error, e.response);
	}
	const top = error as { message?: unknown; name?: unknown; description?: unknown; httpCode?: unknown };
	const message = [top?.message, typeof top?.description === 'string' ? top.description : undefined]
		.filter((m) => typeof m === 'string' && m)
		.join(': ');
	const httpCode = Number(top?.httpCode);
	return classifyFailure(
		{
			status: withStatus?.status ?? (Number.isInteger(httpCode) && httpCode >= 400 ? httpCode : undefined),
			headers: withStatus?.headers,
			name: String(top?.name ?? ''),
			message: message || String(error),
			code,
		},
		secrets,
	);
}
