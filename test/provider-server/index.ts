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
export { autoResponder } from './auto-responder';
export { tokenize, tokensFor, jsonWithLogprobs, type TokenOverride, type TokensForOptions } from './tokens';
export * from './scripting';
export * from './recorded';
export { estimateTokens, strictSchemaProblem } from './prompt';

/** Ollama's native chat endpoint (n8n's Ollama Chat Model). */
const OLLAMA_CHAT = '/api/chat';
/** The API key that the server always rejects with 401. */
export const BAD_KEY = 'bad-key';
/** Largest accepted request body (Anthropic's documented limit is 32 MB). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WINDOW_MS = 60_000;
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

export async function startProviderServer(options: ProviderServerOptions = {}): Promise<ProviderServer> {
	let opts: ProviderServerOptions = { ...options };
	const asResponder = (r: Responder | Reply): Responder => (typeof r === 'function' ? r : () => r);
	let responder: Responder = asResponder(options.responder ?? autoResponder);
	const requests: RecordedRequest[] = [];
	let inFlight = 0;
	let maxInFlight = 0;
	let admitted: number[] = [];
	let closing = false;
	const caches = new PromptCaches();
	const sockets = new Set<Socket>();
	const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

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

	/** Sliding-window limiter: returns seconds to wait when the window is full, else records the request. */
	function rateLimit(now: number): number | undefined {
		const limit = opts.rpmLimit;
		if (limit === undefined || limit <= 0) return undefined;
		admitted = admitted.filter((t) => t > now - WINDOW_MS);
		if (admitted.length >= limit) {
			return Math.max(1, Math.ceil((admitted[0] + WINDOW_MS - now) / 1000));
		}
		admitted.push(now);
		return undefined;
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

	function sendError(record: RecordedRequest, res: ServerResponse, e: ErrorReply): void {
		const headers: Record<string, string> = {};
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
		const fail = async (e: ErrorReply) => {
			await sleep(latency + (e.delayMs ?? 0));
			sendError(record, res, e);
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

		const wait = rateLimit(receivedAt);
		if (wait !== undefined) {
			return fail({
				status: 429,
				retryAfter: wait,
				message: `Rate limit of ${opts.rpmLimit} requests per minute reached (local provider server).`,
			});
		}

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
		if (isOllama) {
			const reply = ollamaResponse(payload, body.stream !== false);
			return send(record, res, 200, reply.body, { 'content-type': reply.contentType });
		}
		const headers: Record<string, string> = {};
		if (opts.rpmLimit) {
			const remaining = String(Math.max(0, opts.rpmLimit - admitted.length));
			if (api === 'openai') {
				headers['x-ratelimit-limit-requests'] = String(opts.rpmLimit);
				headers['x-ratelimit-remaining-requests'] = remaining;
			} else {
				headers['anthropic-ratelimit-requests-limit'] = String(opts.rpmLimit);
				headers['anthropic-ratelimit-requests-remaining'] = remaining;
			}
		}
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
