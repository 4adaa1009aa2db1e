/**
 * Local provider server: a real HTTP server on 127.0.0.1 that answers the Anthropic Messages API and the
 * OpenAI Chat Completions API closely enough for the official SDKs, with scripted or schema-driven
 * answers, simulated latency, rate limits, errors, prompt caching and token log-probabilities.
 * See README.md in this folder.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { autoResponder } from './auto-responder';
import { ollamaAsOpenAiBody, ollamaError, ollamaResponse } from './ollama';
import { apiForModelsRequest, parseAnthropic, parseOpenAi, PromptCaches, type ParsedPrompt } from './prompt';
import type {
	ApiKind,
	ErrorReply,
	ProviderServer,
	ProviderServerOptions,
	RecordedRequest,
	Reply,
	Responder,
} from './types';
import {
	anthropicError,
	anthropicMessage,
	isContentReply,
	MODELS,
	modelsList,
	openaiCompletion,
	openaiError,
	type ContentReply,
} from './wire';

export * from './types';
export { autoResponder, severalItemsReply } from './auto-responder';
export { gullibleSeveralItems, gullibleRead } from './gullible';
export { readFencedItems } from './fenced';
export { tokenize, tokensFor, tokensForSpans, jsonWithLogprobs, type TokenOverride, type TokensForOptions } from './tokens';
export * from './scripting';
export * from './recorded';
export { estimateTokens, strictSchemaProblem } from './prompt';

/** Ollama's native chat endpoint (n8n's Ollama Chat Model). */
const OLLAMA_CHAT = '/api/chat';
/** The API key that the server always rejects with 401. */
export const BAD_KEY = 'bad-key';
/** Largest accepted request body (Anthropic's documented limit is 32 MB). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const SECRET_HEADERS = new Set(['x-api-key', 'authorization', 'api-key', 'proxy-authorization', 'cookie']);

function redactHeaders(raw: IncomingMessage['headers']): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(raw)) {
		if (value === undefined) continue;
		out[name] = SECRET_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
	}
	return out;
}

function apiKeyOf(api: ApiKind, headers: IncomingMessage['headers']): string | undefined {
	const bearer = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
	if (api === 'anthropic') return (headers['x-api-key'] as string | undefined) ?? bearer;
	return bearer ?? (headers['api-key'] as string | undefined);
}

/** A duration the way OpenAI writes `x-ratelimit-reset-*`: `120ms`, `1s`, `6m0s`, `1m2.5s`. */
export function openAiDuration(ms: number): string {
	if (ms < 1000) return `${Math.ceil(ms)}ms`;
	const minutes = Math.floor(ms / 60_000);
	const seconds = Math.round((ms - minutes * 60_000) / 100) / 10;
	return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

export async function startProviderServer(options: ProviderServerOptions = {}): Promise<ProviderServer> {
	let opts: ProviderServerOptions = { ...options };
	const asResponder = (r: Responder | Reply): Responder => (typeof r === 'function' ? r : () => r);
	let responder: Responder = asResponder(options.responder ?? autoResponder);
	const requests: RecordedRequest[] = [];
	let inFlight = 0;
	let maxInFlight = 0;
	/** admitted generation requests in the window: arrival time and tokens (prompt, then output added) */
	let admitted: Array<{ at: number; tokens: number }> = [];
	let closing = false;
	const caches = new PromptCaches();
	const sockets = new Set<Socket>();
	const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
	const windowMs = () => opts.windowMs ?? 60_000;

	/** Waits, but wakes early when the server closes so close() never waits on a scripted delay. */
	function sleep(ms: number): Promise<void> {
		if (ms <= 0 || closing) return Promise.resolve();
		return new Promise((resolve) => {
			const entry = {
				resolve,
				timer: setTimeout(() => {
					timers.delete(entry);
					resolve();
				}, ms),
			};
			timers.add(entry);
		});
	}

	/** Sliding-window limiter: returns the reason and seconds to wait when the window is full, else records the request. */
	function rateLimit(now: number, promptTokens: number): { seconds: number; message: string } | undefined {
		const rpm = opts.rpmLimit !== undefined && opts.rpmLimit > 0 ? opts.rpmLimit : undefined;
		const tpm = opts.tpmLimit !== undefined && opts.tpmLimit > 0 ? opts.tpmLimit : undefined;
		if (rpm === undefined && tpm === undefined) return undefined;
		admitted = admitted.filter((a) => a.at > now - windowMs());
		if (rpm !== undefined && admitted.length >= rpm) {
			return {
				seconds: Math.max(1, Math.ceil((admitted[0].at + windowMs() - now) / 1000)),
				message: `Rate limit of ${rpm} requests per minute reached (local provider server).`,
			};
		}
		if (tpm !== undefined) {
			let used = tokensInWindow();
			if (used + promptTokens > tpm) {
				// until enough of the oldest requests leave the window (a prompt larger than the limit never fits: 60 s)
				let at = now + windowMs();
				for (const a of admitted) {
					used -= a.tokens;
					if (used + promptTokens <= tpm) {
						at = a.at + windowMs();
						break;
					}
				}
				return {
					seconds: Math.max(1, Math.ceil((at - now) / 1000)),
					message: `Rate limit of ${tpm} tokens per minute reached (local provider server).`,
				};
			}
		}
		return undefined;
	}

	function tokensInWindow(): number {
		let used = 0;
		for (const a of admitted) used += a.tokens;
		return used;
	}

	/**
	 * The rate-limit headers, as the providers send them: limit, what is left and when the limit is full again
	 * (OpenAI: a duration such as `1m2.5s`; Anthropic: an RFC 3339 time).
	 */
	function rateLimitHeaders(api: ApiKind, now: number): Record<string, string> {
		if (opts.rateLimitHeaders === false) return {};
		admitted = admitted.filter((a) => a.at > now - windowMs());
		// the window is empty again when its newest request leaves it
		const fullInMs = admitted.length ? Math.max(0, admitted[admitted.length - 1].at + windowMs() - now) : 0;
		const headers: Record<string, string> = {};
		const put = (dimension: 'requests' | 'tokens', limit: number, used: number) => {
			const remaining = String(Math.max(0, limit - used));
			if (api === 'openai') {
				headers[`x-ratelimit-limit-${dimension}`] = String(limit);
				headers[`x-ratelimit-remaining-${dimension}`] = remaining;
				headers[`x-ratelimit-reset-${dimension}`] = openAiDuration(fullInMs);
			} else {
				headers[`anthropic-ratelimit-${dimension}-limit`] = String(limit);
				headers[`anthropic-ratelimit-${dimension}-remaining`] = remaining;
				headers[`anthropic-ratelimit-${dimension}-reset`] = new Date(now + fullInMs).toISOString();
			}
		};
		if (opts.rpmLimit) put('requests', opts.rpmLimit, admitted.length);
		if (opts.tpmLimit) put('tokens', opts.tpmLimit, tokensInWindow());
		return headers;
	}

	function send(
		record: RecordedRequest | undefined,
		res: ServerResponse,
		status: number,
		body: string,
		headers: Record<string, string> = {},
	): void {
		if (res.writableEnded || res.destroyed) return;
		const requestId = `req_local_${record?.index ?? 'x'}`;
		res.writeHead(status, {
			'content-type': 'application/json',
			'content-length': String(Buffer.byteLength(body)),
			'request-id': requestId,
			'x-request-id': requestId,
			...headers,
		});
		res.end(body);
		if (record) {
			record.status = status;
			record.respondedAt = Date.now();
		}
	}

	function sendError(record: RecordedRequest, res: ServerResponse, e: ErrorReply, extra: Record<string, string> = {}): void {
		const headers: Record<string, string> = { ...extra };
		if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
		const body = record.path === OLLAMA_CHAT ? ollamaError(e.message ?? 'error') : JSON.stringify(record.api === 'anthropic' ? anthropicError(e) : openaiError(e));
		send(record, res, e.status, body, headers);
	}

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const receivedAt = Date.now();
		const path = (req.url ?? '/').split('?')[0];
		const method = req.method ?? 'GET';
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		for await (const chunk of req as AsyncIterable<Buffer>) {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) tooLarge = true;
			else chunks.push(chunk);
		}
		const raw = Buffer.concat(chunks).toString('utf8');
		let body: any;
		let badJson = false;
		if (raw.length > 0) {
			try {
				body = JSON.parse(raw);
			} catch {
				badJson = true;
			}
		}

		const isMessages = method === 'POST' && path === '/v1/messages';
		const isCompletions = method === 'POST' && path === '/v1/chat/completions';
		const isOllama = method === 'POST' && path === OLLAMA_CHAT;
		const isModels = method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'));
		const api: ApiKind = isMessages ? 'anthropic' : isCompletions || isOllama ? 'openai' : apiForModelsRequest(req.headers);
		let parsed: ParsedPrompt | undefined;
		if (isMessages && body !== undefined) parsed = parseAnthropic(body);
		if (isCompletions && body !== undefined) parsed = parseOpenAi(body);
		// Ollama's own chat API is answered as the Chat Completions request it corresponds to (ollama.ts)
		if (isOllama && body !== undefined) parsed = parseOpenAi(ollamaAsOpenAiBody(body));

		const record: RecordedRequest = {
			api,
			path,
			method,
			headers: redactHeaders(req.headers),
			body,
			receivedAt,
			systemText: parsed?.systemText ?? '',
			userText: parsed?.userText ?? '',
			promptTokens: parsed?.promptTokens ?? 0,
			schema: parsed?.schema,
			toolName: parsed?.toolName,
			tools: parsed?.tools ?? [],
			toolResults: parsed?.toolResults ?? [],
			model: parsed?.model,
			n: parsed?.n ?? 1,
			wantsJson: parsed?.wantsJson ?? false,
			index: requests.length,
		};
		requests.push(record);

		const latency = opts.latencyMs ?? 0;
		const fail = async (e: ErrorReply, headers: () => Record<string, string> = () => ({})) => {
			await sleep(latency + (e.delayMs ?? 0));
			sendError(record, res, e, headers());
		};

		if (!isMessages && !isCompletions && !isModels && !isOllama) {
			return fail({ status: 404, errorType: 'not_found_error', message: `${method} ${path} is not served here` });
		}
		const key = apiKeyOf(api, req.headers);
		if (!isOllama && (key === undefined || key === '' || key === BAD_KEY)) {
			return fail({
				status: 401,
				errorType: api === 'anthropic' ? 'authentication_error' : undefined,
				message: api === 'anthropic' ? 'invalid x-api-key' : 'Incorrect API key provided.',
			});
		}
		if (tooLarge) return fail({ status: 413, errorType: 'request_too_large', message: 'Request exceeds the maximum allowed size.' });
		if (isModels) {
			await sleep(latency);
			const id = path.slice('/v1/models/'.length);
			if (path.startsWith('/v1/models/')) {
				if (!MODELS[api].includes(id)) return fail({ status: 404, message: `model: ${id}` });
				const one = (modelsList(api) as { data: { id: string }[] }).data.find((m) => m.id === id);
				return send(record, res, 200, JSON.stringify(one));
			}
			return send(record, res, 200, JSON.stringify(modelsList(api)));
		}
		if (badJson || body === undefined) return fail({ status: 400, message: 'The request body is not valid JSON.' });
		if (parsed?.invalid) return fail({ status: 400, message: parsed.invalid });

		const limited = rateLimit(receivedAt, record.promptTokens);
		if (limited) {
			return fail({ status: 429, retryAfter: limited.seconds, message: limited.message }, () => rateLimitHeaders(api, Date.now()));
		}
		const entry = { at: receivedAt, tokens: record.promptTokens };
		if (opts.rpmLimit || opts.tpmLimit) admitted.push(entry);

		const replies: Reply[] = [];
		try {
			for (let i = 0; i < record.n; i++) replies.push(await responder(record, i));
		} catch (err) {
			return fail({ status: 500, message: `The test responder threw: ${(err as Error).message}` });
		}
		// A non-content reply (error, malformed, hang) decides the whole response, even with n > 1.
		const control = replies.find((r) => !isContentReply(r));
		const delay = latency + Math.max(0, ...replies.map((r) => r.delayMs ?? 0));
		if (control && 'hang' in control) return; // the response stays open until the client or close() ends it
		await sleep(delay);
		if (control && 'status' in control) return sendError(record, res, control);
		if (control && 'malformed' in control) {
			const start = api === 'anthropic' ? '{"id":"msg_local","type":"message","content":[{"type":"te' : '{"id":"chatcmpl-local","choices":[{"mes';
			return send(record, res, 200, start);
		}
		const contents = replies as ContentReply[];
		const unknownTool = contents.find((r) => 'toolCall' in r && !record.tools.includes(r.toolCall.name));
		if (unknownTool && 'toolCall' in unknownTool) {
			return fail({ status: 500, message: `The test responder called tool "${unknownTool.toolCall.name}", which the request does not offer (offered: ${record.tools.join(', ') || 'none'})` });
		}
		let payload: object;
		if (api === 'anthropic') {
			payload = anthropicMessage(record, contents[0], caches.anthropic(record.model, parsed!.segments));
		} else {
			payload = openaiCompletion(record, contents, caches.openai(record.model, parsed!.segments));
		}
		// the answer's tokens count against the window too
		const usage = (payload as { usage?: { output_tokens?: number; completion_tokens?: number } }).usage;
		record.outputTokens = usage?.output_tokens ?? usage?.completion_tokens ?? 0;
		entry.tokens += record.outputTokens;
		if (isOllama) {
			const reply = ollamaResponse(payload, body.stream !== false);
			return send(record, res, 200, reply.body, { 'content-type': reply.contentType });
		}
		const headers = rateLimitHeaders(api, Date.now());
		send(record, res, 200, JSON.stringify(payload), headers);
	}

	const server = createServer((req, res) => {
		inFlight++;
		maxInFlight = Math.max(maxInFlight, inFlight);
		let done = false;
		const finished = () => {
			if (done) return;
			done = true;
			inFlight--;
		};
		res.on('close', finished);
		handle(req, res).catch((err: unknown) => {
			if (!res.headersSent && !res.destroyed) {
				res.writeHead(500, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ error: { message: `local provider server: ${(err as Error).message}`, type: 'server_error' } }));
			}
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port ?? 0, '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const port = (server.address() as AddressInfo).port;
	const url = `http://127.0.0.1:${port}`;

	return {
		url,
		anthropicBaseUrl: url,
		openaiBaseUrl: `${url}/v1`,
		requests,
		get maxInFlight() {
			return maxInFlight;
		},
		setResponder(r: Responder | Reply) {
			responder = asResponder(r);
		},
		setOptions(o: Partial<ProviderServerOptions>) {
			opts = { ...opts, ...o };
			if (o.responder) responder = asResponder(o.responder);
		},
		reset() {
			requests.length = 0;
			maxInFlight = inFlight;
			admitted = [];
			caches.reset();
		},
		async close() {
			closing = true;
			for (const entry of timers) {
				clearTimeout(entry.timer);
				entry.resolve();
			}
			timers.clear();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				for (const socket of sockets) socket.destroy();
			});
		},
	};
}
