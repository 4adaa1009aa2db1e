/**
 * Ollama's native chat API (`POST /api/chat`), which n8n's Ollama Chat Model (LangChain's ChatOllama through the
 * `ollama` client) speaks. The request is read as the OpenAI Chat Completions request it corresponds to (messages,
 * tools; `format` — a JSON Schema or "json" — as `response_format`), answered like one, and the answer written
 * back in Ollama's shape: newline-delimited JSON chunks when `stream` is not false (the client's default), one
 * object otherwise, with `prompt_eval_count` / `eval_count` as the token counts. Ollama has no API key.
 */

/** The OpenAI Chat Completions body an Ollama chat request corresponds to. */
export function ollamaAsOpenAiBody(body: any): any {
	if (typeof body !== 'object' || body === null) return body;
	const format = body.format;
	return {
		model: body.model,
		messages: (Array.isArray(body.messages) ? body.messages : []).map((m: any) => ({ role: m?.role, content: m?.content ?? '' })),
		...(Array.isArray(body.tools) && body.tools.length ? { tools: body.tools } : {}),
		...(typeof format === 'object' && format !== null
			? { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: format } } }
			: format === 'json'
				? { response_format: { type: 'json_object' } }
				: {}),
	};
}

/** The Ollama response body(ies) for an OpenAI completion payload the server built. */
export function ollamaResponse(completion: any, stream: boolean): { contentType: string; body: string } {
	const choice = completion?.choices?.[0] ?? {};
	const message = choice.message ?? {};
	const toolCalls = Array.isArray(message.tool_calls)
		? message.tool_calls.map((c: any) => ({ function: { name: c.function?.name, arguments: safeParse(c.function?.arguments) } }))
		: undefined;
	const createdAt = new Date().toISOString();
	const model = completion?.model ?? 'llama3.2';
	const done = {
		model,
		created_at: createdAt,
		message: { role: 'assistant', content: stream ? '' : (message.content ?? '') },
		done: true,
		done_reason: 'stop',
		total_duration: 1_000_000,
		load_duration: 1000,
		prompt_eval_count: completion?.usage?.prompt_tokens ?? 0,
		prompt_eval_duration: 1000,
		eval_count: completion?.usage?.completion_tokens ?? 0,
		eval_duration: 1000,
	};
	if (!stream) {
		if (toolCalls) (done.message as any).tool_calls = toolCalls;
		return { contentType: 'application/json', body: JSON.stringify(done) };
	}
	const first = {
		model,
		created_at: createdAt,
		message: { role: 'assistant', content: message.content ?? '', ...(toolCalls ? { tool_calls: toolCalls } : {}) },
		done: false,
	};
	return { contentType: 'application/x-ndjson', body: `${JSON.stringify(first)}\n${JSON.stringify(done)}\n` };
}

/** Ollama's error body. */
export function ollamaError(message: string): string {
	return JSON.stringify({ error: message });
}

function safeParse(text: unknown): unknown {
	if (typeof text !== 'string') return text ?? {};
	try {
		return JSON.parse(text);
	} catch {
		return {};
	}
}
