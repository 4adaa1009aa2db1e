/** Helpers to script answers in tests. */
import type { ErrorReply, RecordedRequest, Reply, Responder, ToolResult } from './types';

type ReplyOrResponder = Reply | Responder;

function resolve(r: ReplyOrResponder, req: RecordedRequest, sampleIndex: number): Reply | Promise<Reply> {
	return typeof r === 'function' ? r(req, sampleIndex) : r;
}

/** The same reply (or responder) for every request. */
export function always(reply: ReplyOrResponder): Responder {
	return (req, sampleIndex) => resolve(reply, req, sampleIndex);
}

/**
 * One reply per call, in order; the last one repeats. A call is one request, or one sample of an OpenAI
 * `n` request (so `n: 3` consumes three). SDK retries are new requests and take the next reply.
 * Entries may be responders themselves, e.g. `sequence(rateLimited(1), autoResponder)`.
 */
export function sequence(...replies: ReplyOrResponder[]): Responder {
	if (replies.length === 0) throw new Error('sequence: give at least one reply');
	let calls = 0;
	return (req, sampleIndex) => {
		const reply = replies[Math.min(calls, replies.length - 1)];
		calls++;
		return resolve(reply, req, sampleIndex);
	};
}

/** The reply for sample i of a request (OpenAI `n`); the last one repeats. */
export function perSample(...replies: ReplyOrResponder[]): Responder {
	if (replies.length === 0) throw new Error('perSample: give at least one reply');
	return (req, sampleIndex) => resolve(replies[Math.min(sampleIndex, replies.length - 1)], req, sampleIndex);
}

/** Answers by the request's user text: the first pattern found (substring or RegExp) wins, else `fallback`. */
export function byUserText(cases: [string | RegExp, ReplyOrResponder][], fallback: ReplyOrResponder): Responder {
	return (req, sampleIndex) => {
		for (const [pattern, reply] of cases) {
			const hit = typeof pattern === 'string' ? req.userText.includes(pattern) : pattern.test(req.userText);
			if (hit) return resolve(reply, req, sampleIndex);
		}
		return resolve(fallback, req, sampleIndex);
	};
}

/** 429 with retry-after (seconds); rate_limit_error / rate_limit_exceeded in each provider's shape. */
export function rateLimited(retryAfter?: number): ErrorReply {
	return { status: 429, retryAfter, message: 'Rate limit reached (scripted).' };
}

/** 429 insufficient_quota (OpenAI); on the Anthropic side a billing_error with the same status. */
export function quotaExceeded(): ErrorReply {
	return { status: 429, errorType: 'insufficient_quota' };
}

/** 500 api_error / server_error. */
export function serverError(message = 'Internal server error (scripted).'): ErrorReply {
	return { status: 500, message };
}

/** 529 overloaded_error (Anthropic's overload status; the OpenAI side answers 529 server_error). */
export function overloaded(): ErrorReply {
	return { status: 529, errorType: 'overloaded_error', message: 'Overloaded (scripted).' };
}

/** 400 invalid_request_error. */
export function badRequest(message = 'Invalid request (scripted).'): ErrorReply {
	return { status: 400, message };
}

/**
 * An agent's two turns: call the tool (by name, with these arguments; or a function of the request
 * giving them) while the conversation holds no tool result; once one comes back, answer with
 * `finalText(results)`. A rejected tool call comes back as a tool result too (the agent's message to
 * the model), so `finalText` sees whatever the tool or the gate answered.
 */
export function callToolThenAnswer(
	call: ToolCallSpec | ((req: RecordedRequest) => ToolCallSpec),
	finalText: (results: ToolResult[], req: RecordedRequest) => string,
): Responder {
	return (req) => {
		if (req.toolResults.length > 0) return { text: finalText(req.toolResults, req) };
		return { toolCall: { ...(typeof call === 'function' ? call(req) : call) } };
	};
}

export interface ToolCallSpec {
	name: string;
	arguments: unknown;
	id?: string;
}
