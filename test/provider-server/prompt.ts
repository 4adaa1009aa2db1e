/**
 * Reading a request body: the prompt text, the schema it asks to fill, an estimated token count and the
 * simulated prompt caches. Everything here is deterministic so tests can assert exact numbers.
 */
import { createHash } from 'node:crypto';

import type { ApiKind, ToolResult } from './types';

/** A piece of the prompt in the order the provider sees it; `breakpoint` marks an Anthropic cache_control. */
export interface Segment {
	text: string;
	breakpoint?: boolean;
}

export interface ParsedPrompt {
	systemText: string;
	userText: string;
	segments: Segment[];
	promptTokens: number;
	schema?: object;
	toolName?: string;
	/** Names of every tool the request offers, in order. */
	tools: string[];
	/** Tool results sent back in the conversation, in order. */
	toolResults: ToolResult[];
	model?: string;
	n: number;
	wantsJson: boolean;
	/** A problem the real provider would answer with 400 invalid_request_error. */
	invalid?: string;
}

/** Tokens for a piece of text: ceil(chars / 4), the usual rule of thumb. */
export function estimateTokens(text: string): number {
	return Math.ceil(text.length / 4);
}

function isObject(v: unknown): v is Record<string, any> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of a content value: a string, or an array of blocks / parts. */
export function contentText(content: unknown): string {
	if (typeof content === 'string') return content;
	if (!Array.isArray(content)) return '';
	return content
		.map((part) => {
			if (!isObject(part)) return '';
			if (typeof part.text === 'string') return part.text;
			if (part.type === 'tool_result') return contentText(part.content);
			return '';
		})
		.filter((t) => t !== '')
		.join('\n');
}

/** Text a content block contributes to the prompt size. */
function blockText(part: unknown): string {
	if (typeof part === 'string') return part;
	if (!isObject(part)) return '';
	if (typeof part.text === 'string') return part.text;
	if (part.type === 'tool_use') return JSON.stringify(part.input ?? {});
	if (part.type === 'tool_result') return contentText(part.content);
	// Images and documents: a fixed size so counts stay deterministic.
	return '[' + String(part.type ?? 'block') + ']';
}

/** The item's text in a multi-turn (re-ask) conversation: the first user message, without tool results. */
export function firstUserText(body: unknown): string {
	const messages: unknown[] = isObject(body) && Array.isArray(body.messages) ? body.messages : [];
	const first = messages.find((m) => isObject(m) && m.role === 'user') as Record<string, any> | undefined;
	if (!first) return '';
	if (typeof first.content === 'string') return first.content;
	return contentText(Array.isArray(first.content) ? first.content.filter((p: any) => p?.type !== 'tool_result') : []);
}

function lastUserText(messages: unknown[]): string {
	for (let i = messages.length - 1; i >= 0; i--) {
		const m = messages[i];
		if (isObject(m) && m.role === 'user') return contentText(m.content);
	}
	return '';
}

function finish(p: Omit<ParsedPrompt, 'promptTokens'>): ParsedPrompt {
	const chars = p.segments.reduce((sum, s) => sum + s.text.length, 0);
	return { ...p, promptTokens: Math.ceil(chars / 4) };
}

export function parseAnthropic(body: any): ParsedPrompt {
	const segments: Segment[] = [];
	let invalid: string | undefined;
	if (!isObject(body)) {
		return finish({ systemText: '', userText: '', segments, tools: [], toolResults: [], n: 1, wantsJson: false, invalid: 'body: expected a JSON object' });
	}
	const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
	if (!Array.isArray(body.messages) || messages.length === 0) invalid = 'messages: at least one message is required';
	else if (typeof body.max_tokens !== 'number') invalid = 'max_tokens: Field required';
	else if (typeof body.model !== 'string' || body.model === '') invalid = 'model: Field required';

	// Anthropic builds the prompt as tools, then system, then messages; cache prefixes follow that order.
	const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
	for (const tool of tools) {
		segments.push({
			text: JSON.stringify({ name: tool?.name, description: tool?.description, input_schema: tool?.input_schema }),
			breakpoint: isObject(tool?.cache_control),
		});
	}
	const formatSchema = isObject(body.output_config?.format) ? body.output_config.format.schema : undefined;
	if (isObject(formatSchema)) segments.push({ text: JSON.stringify(formatSchema) });

	const systemParts: string[] = [];
	if (typeof body.system === 'string') {
		systemParts.push(body.system);
		segments.push({ text: body.system });
	} else if (Array.isArray(body.system)) {
		for (const block of body.system) {
			const text = blockText(block);
			systemParts.push(text);
			segments.push({ text, breakpoint: isObject(block?.cache_control) });
		}
	}
	const toolResults: ToolResult[] = [];
	for (const m of messages) {
		if (!isObject(m)) continue;
		if (Array.isArray(m.content)) {
			for (const part of m.content) {
				if (isObject(part) && part.type === 'tool_result') {
					toolResults.push({ toolCallId: String(part.tool_use_id ?? ''), content: contentText(part.content) });
				}
			}
		}
		if (m.role === 'system') systemParts.push(contentText(m.content));
		if (typeof m.content === 'string') segments.push({ text: m.content });
		else if (Array.isArray(m.content)) {
			for (const part of m.content) segments.push({ text: blockText(part), breakpoint: isObject(part?.cache_control) });
		}
	}

	let toolName: string | undefined;
	let schema: object | undefined;
	const choice = body.tool_choice;
	if (isObject(choice) && choice.type === 'tool') {
		toolName = String(choice.name);
		const tool = tools.find((t) => t?.name === toolName);
		if (!tool) invalid ??= `tool_choice: tool '${toolName}' not found in tools`;
		schema = tool?.input_schema;
	} else if (tools.length > 0 && !(isObject(choice) && choice.type === 'none')) {
		toolName = tools[0]?.name;
		schema = tools[0]?.input_schema;
	}
	if (!schema && isObject(formatSchema)) schema = formatSchema;

	return finish({
		systemText: systemParts.join('\n'),
		userText: lastUserText(messages),
		segments,
		schema,
		toolName,
		tools: tools.map((t) => String(t?.name ?? '')),
		toolResults,
		model: typeof body.model === 'string' ? body.model : undefined,
		n: 1,
		wantsJson: schema !== undefined || toolName !== undefined,
		invalid,
	});
}

/**
 * The check OpenAI makes on a strict schema: every object lists all its properties in `required` and sets
 * `additionalProperties: false`. Returns the first problem, like the real 400 message.
 */
export function strictSchemaProblem(schema: unknown, path = '()'): string | undefined {
	if (!isObject(schema)) return undefined;
	const isObjectType = schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object'));
	if (isObjectType) {
		if (schema.additionalProperties !== false) {
			return `In context=${path}, 'additionalProperties' is required to be supplied and to be false.`;
		}
		const props = isObject(schema.properties) ? Object.keys(schema.properties) : [];
		const required: unknown[] = Array.isArray(schema.required) ? schema.required : [];
		const missing = props.find((p) => !required.includes(p));
		if (missing !== undefined) {
			return `In context=${path}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
		}
		for (const p of props) {
			const problem = strictSchemaProblem(schema.properties[p], `${path}, 'properties', '${p}'`);
			if (problem) return problem;
		}
	}
	if (isObject(schema.items)) {
		const problem = strictSchemaProblem(schema.items, `${path}, 'items'`);
		if (problem) return problem;
	}
	for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
		if (Array.isArray(schema[key])) {
			for (let i = 0; i < schema[key].length; i++) {
				const problem = strictSchemaProblem(schema[key][i], `${path}, '${key}', '${i}'`);
				if (problem) return problem;
			}
		}
	}
	for (const key of ['$defs', 'definitions'] as const) {
		if (isObject(schema[key])) {
			for (const [name, sub] of Object.entries(schema[key])) {
				const problem = strictSchemaProblem(sub, `${path}, '${key}', '${name}'`);
				if (problem) return problem;
			}
		}
	}
	return undefined;
}

export function parseOpenAi(body: any): ParsedPrompt {
	const segments: Segment[] = [];
	let invalid: string | undefined;
	if (!isObject(body)) {
		return finish({ systemText: '', userText: '', segments, tools: [], toolResults: [], n: 1, wantsJson: false, invalid: 'body: expected a JSON object' });
	}
	const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
	if (!Array.isArray(body.messages) || messages.length === 0) invalid = "Invalid 'messages': empty array. Expected an array with minimum length 1.";
	else if (typeof body.model !== 'string' || body.model === '') invalid = "Missing required parameter: 'model'.";

	const tools: any[] = Array.isArray(body.tools) ? body.tools.filter((t: any) => t?.type === 'function') : [];
	for (const tool of tools) segments.push({ text: JSON.stringify(tool.function ?? {}) });
	const rf = body.response_format;
	let schema: object | undefined;
	if (isObject(rf) && rf.type === 'json_schema') {
		const js = rf.json_schema;
		if (!isObject(js) || typeof js.name !== 'string') invalid ??= "Missing required parameter: 'response_format.json_schema.name'.";
		else if (isObject(js.schema)) {
			schema = js.schema;
			segments.push({ text: JSON.stringify(js.schema) });
			if (js.strict === true) {
				const problem = strictSchemaProblem(js.schema);
				if (problem) invalid ??= `Invalid schema for response_format '${js.name}': ${problem}`;
			}
		}
	}

	const systemParts: string[] = [];
	const toolResults: ToolResult[] = [];
	for (const m of messages) {
		if (!isObject(m)) continue;
		const text = contentText(m.content);
		if (m.role === 'system' || m.role === 'developer') systemParts.push(text);
		if (m.role === 'tool') toolResults.push({ toolCallId: String(m.tool_call_id ?? ''), content: text });
		segments.push({ text });
		if (Array.isArray(m.tool_calls)) {
			for (const call of m.tool_calls) segments.push({ text: String(call?.function?.arguments ?? '') });
		}
	}

	let toolName: string | undefined;
	const choice = body.tool_choice;
	if (isObject(choice) && choice.type === 'function') {
		toolName = String(choice.function?.name);
		const tool = tools.find((t) => t.function?.name === toolName);
		if (!tool) invalid ??= `Invalid value for 'tool_choice': function '${toolName}' not found in 'tools'.`;
		else {
			schema = tool.function.parameters ?? schema;
			if (tool.function.strict === true) {
				const problem = strictSchemaProblem(tool.function.parameters);
				if (problem) invalid ??= `Invalid schema for function '${toolName}': ${problem}`;
			}
		}
	} else if (tools.length > 0 && choice !== 'none') {
		toolName = tools[0].function?.name;
		schema = tools[0].function?.parameters ?? schema;
	}

	const n = body.n === undefined || body.n === null ? 1 : Number(body.n);
	if (!Number.isInteger(n) || n < 1 || n > 128) invalid ??= `Invalid 'n': expected an integer between 1 and 128, got ${String(body.n)}.`;

	return finish({
		systemText: systemParts.join('\n'),
		userText: lastUserText(messages),
		segments,
		schema,
		toolName,
		tools: tools.map((t) => String(t.function?.name ?? '')),
		toolResults,
		model: typeof body.model === 'string' ? body.model : undefined,
		n: Number.isInteger(n) && n >= 1 ? Math.min(n, 128) : 1,
		wantsJson: schema !== undefined || toolName !== undefined || (isObject(rf) && rf.type === 'json_object'),
		invalid,
	});
}

/**
 * Simulated prompt caches, one per server. Anthropic: every cache_control breakpoint caches the prompt
 * prefix up to and including that block; a later request whose prefix text is identical reads it.
 * OpenAI: automatic caching of the longest prompt prefix seen before, counted in 128-token steps once it
 * reaches 1024 tokens (OpenAI's documented granularity).
 */
export class PromptCaches {
	private anthropicPrefixes = new Set<string>();
	/**
	 * OpenAI: hashes of the prompt prefixes that end on a cache-block boundary (1024 tokens, then every 128),
	 * with how many remembered prompts hold each. A cached count can only be such a boundary, so looking up
	 * these prefixes gives the same answer as comparing with every earlier prompt, in one pass over the prompt.
	 */
	private openaiBlocks = new Map<string, number>();
	private openaiPrompts: string[][] = [];

	reset(): void {
		this.anthropicPrefixes.clear();
		this.openaiBlocks.clear();
		this.openaiPrompts = [];
	}

	anthropic(model: string | undefined, segments: Segment[]): { read: number; creation: number } {
		let chars = 0;
		let readChars = 0;
		let lastBreakpointChars = 0;
		let lastBreakpointSeen = true;
		const hash = createHash('sha256').update(String(model ?? ''));
		const newKeys: string[] = [];
		for (const seg of segments) {
			chars += seg.text.length;
			hash.update('\u0000' + seg.text);
			if (!seg.breakpoint) continue;
			const key = hash.copy().digest('hex');
			lastBreakpointChars = chars;
			lastBreakpointSeen = this.anthropicPrefixes.has(key);
			if (lastBreakpointSeen) readChars = chars;
			else newKeys.push(key);
		}
		for (const key of newKeys) this.anthropicPrefixes.add(key);
		const read = Math.ceil(readChars / 4);
		const upToLast = Math.ceil(lastBreakpointChars / 4);
		return { read, creation: lastBreakpointSeen ? 0 : upToLast - read };
	}

	/** Cached prompt tokens: the longest block boundary up to which an earlier prompt was the same (4 chars a token). */
	openai(model: string | undefined, segments: Segment[]): number {
		const prompt = String(model ?? '') + '\u0000' + segments.map((s) => s.text).join('\u0000');
		const hash = createHash('sha256');
		const blocks: string[] = [];
		let cached = 0;
		let from = 0;
		for (let tokens = 1024; tokens * 4 <= prompt.length; tokens += 128) {
			hash.update(prompt.slice(from, tokens * 4));
			from = tokens * 4;
			const key = hash.copy().digest('base64');
			if (this.openaiBlocks.has(key)) cached = tokens;
			blocks.push(key);
		}
		for (const key of blocks) this.openaiBlocks.set(key, (this.openaiBlocks.get(key) ?? 0) + 1);
		this.openaiPrompts.push(blocks);
		// Bounded memory for long e2e runs: remember the newest 500 prompts (short ones hold no block).
		if (this.openaiPrompts.length > 500) {
			for (const key of this.openaiPrompts.shift()!) {
				const held = this.openaiBlocks.get(key)! - 1;
				if (held === 0) this.openaiBlocks.delete(key);
				else this.openaiBlocks.set(key, held);
			}
		}
		return cached;
	}
}

export function apiForModelsRequest(headers: Record<string, string | string[] | undefined>): ApiKind {
	return headers['x-api-key'] !== undefined || headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}
