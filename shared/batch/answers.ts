/**
 * One answer for several items, taken apart: the schema the model fills (one entry per item, keyed by the
 * item's id), each item's own answer validated with the item's own schema, its confidence material (the
 * log-probabilities of the tokens of its own entry, its own entry in every sample) and its share of the usage.
 */
import { z } from 'zod/v4';

import type { Usage } from '../contract';
import type { Answer } from '../structured';
import { toModelSchema } from '../structured';
import type { TokenLogprob } from '../providers/types';
import { unescapeFenced } from './fence';

/** The answer's outer shape as validated: each entry is checked later, against its own item's schema. */
export const severalAnswersShape = z.object({ answers: z.array(z.unknown()) });
export type SeveralAnswers = z.infer<typeof severalAnswersShape>;

/**
 * The JSON Schema the model fills for several items: `answers`, one entry per item, each the item's own
 * answer with its `id` first (so an entry's own tokens follow the id that names it).
 */
export function severalAnswersSchema(itemSchema: z.ZodObject): Record<string, unknown> {
	return toModelSchema(z.object({ answers: z.array(z.object({ id: z.string(), ...itemSchema.shape })) }));
}

/** One item's part of a several-items answer: its answer, or why there is none (then it is asked alone). */
export type ItemPart<T> = { answer: Answer<T> } | { problem: string; usage: Usage };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The strings the model copied from a fenced text, unescaped (evidence must match the item's own text). */
function unescapeStrings(value: unknown): unknown {
	if (typeof value === 'string') return unescapeFenced(value);
	if (Array.isArray(value)) return value.map(unescapeStrings);
	if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescapeStrings(v)]));
	return value;
}

/** The entry for `id` in one sample: exactly one, or a problem (missing, given twice). */
function entryFor(sample: SeveralAnswers, id: string): { entry: Record<string, unknown> } | { problem: string } {
	const entries = sample.answers.filter((e) => isObject(e) && e.id === id) as Array<Record<string, unknown>>;
	if (entries.length === 0) return { problem: `no answer for item ${id}` };
	if (entries.length > 1) return { problem: `${entries.length} answers for item ${id}` };
	return { entry: entries[0] };
}

function parseEntry<S extends z.ZodType>(entry: Record<string, unknown>, schema: S): { value: z.infer<S> } | { problem: string } {
	const own = { ...entry };
	delete own.id;
	const parsed = schema.safeParse(unescapeStrings(own));
	if (parsed.success) return { value: parsed.data };
	return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ') };
}

/**
 * Where each entry of the `answers` array sits in the answer's JSON text: [start, end) character spans in
 * order. Undefined when the text is not shaped like `{"answers":[{…},…]}` (then no item gets log-probabilities).
 */
export function entrySpans(text: string): Array<[number, number]> | undefined {
	const spans: Array<[number, number]> = [];
	let depth = 0;
	let inString = false;
	let start = -1;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (inString) {
			if (c === '\\') i++;
			else if (c === '"') inString = false;
			continue;
		}
		if (c === '"') inString = true;
		else if (c === '{' || c === '[') {
			depth++;
			if (c === '{' && depth === 3) start = i;
		} else if (c === '}' || c === ']') {
			if (c === '}' && depth === 3 && start >= 0) spans.push([start, i + 1]);
			depth--;
		}
	}
	return depth === 0 ? spans : undefined;
}

/** The tokens that overlap [start, end) of the text they spell. */
export function tokensWithin(tokens: TokenLogprob[], start: number, end: number): TokenLogprob[] {
	const out: TokenLogprob[] = [];
	let offset = 0;
	for (const token of tokens) {
		const from = offset;
		offset += token.token.length;
		if (offset > start && from < end) out.push(token);
	}
	return out;
}

/** `total` split by `weights` into whole numbers that add up to `total` exactly (largest remainder). */
export function splitWhole(total: number, weights: number[]): number[] {
	const sum = weights.reduce((a, b) => a + b, 0);
	if (total <= 0 || sum <= 0) return weights.map((_, i) => (i === 0 ? Math.max(0, total) : 0));
	const exact = weights.map((w) => (total * w) / sum);
	const out = exact.map(Math.floor);
	let left = total - out.reduce((a, b) => a + b, 0);
	const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
	for (const [, i] of order) {
		if (left <= 0) break;
		out[i]++;
		left--;
	}
	return out;
}

/**
 * The request's usage split over its items: input tokens (and cached ones) by each item's share of the
 * prompt — the instructions and schema in equal parts, plus the item's own fenced text — and output tokens by
 * the length of the item's own entry in the answer. The parts add up to the request's usage exactly; each
 * item carries an equal fraction of the request count.
 */
export function splitUsage(usage: Usage, promptWeights: number[], answerWeights: number[]): Usage[] {
	const input = splitWhole(usage.inputTokens, promptWeights);
	const cached = splitWhole(usage.cachedInputTokens, promptWeights);
	const written = splitWhole(usage.cacheWriteTokens, promptWeights);
	const output = splitWhole(usage.outputTokens, answerWeights);
	return promptWeights.map((_, i) => ({
		inputTokens: input[i],
		outputTokens: output[i],
		cachedInputTokens: cached[i],
		cacheWriteTokens: written[i],
		requests: usage.requests / promptWeights.length,
	}));
}

/** What each item was asked with, in the order of the request. */
export interface AskedItem<S extends z.ZodType = z.ZodType> {
	id: string;
	schema: S;
	/** the item's fenced text, as sent (its share of the prompt) */
	fenced: string;
}

/**
 * Each item's own answer from a several-items answer. An item gets its entry of the first answer (valid under
 * its own schema), the log-probabilities of its own entry's tokens, and its valid entries of every sample
 * (k-sample agreement per item); `shared` is the part of the prompt that is not any item's (instructions, schema).
 */
export function splitAnswer(answer: Answer<SeveralAnswers>, items: AskedItem[], shared: number): Array<ItemPart<unknown>> {
	const spans = entrySpans(answer.text);
	const parsedEntries = spans?.map(([s, e]) => {
		try {
			return JSON.parse(answer.text.slice(s, e)) as unknown;
		} catch {
			return undefined;
		}
	});
	const firstEntries = items.map((item) => entryFor(answer.value, item.id));
	const answerWeights = firstEntries.map((f) => ('entry' in f ? JSON.stringify(f.entry).length : 1));
	const usages = splitUsage(
		answer.usage,
		items.map((item) => shared / items.length + item.fenced.length),
		answerWeights,
	);
	return items.map((item, i): ItemPart<unknown> => {
		const first = firstEntries[i];
		if ('problem' in first) return { problem: first.problem, usage: usages[i] };
		const value = parseEntry(first.entry, item.schema);
		if ('problem' in value) return { problem: `item ${item.id}: ${value.problem}`, usage: usages[i] };
		const samples: unknown[] = [value.value];
		for (const sample of answer.samples.slice(1)) {
			const other = entryFor(sample, item.id);
			if (!('entry' in other)) continue;
			const parsed = parseEntry(other.entry, item.schema);
			if ('value' in parsed) samples.push(parsed.value);
		}
		// the tokens of this item's own entry: found by position, checked by id (else no log-probabilities)
		const at = parsedEntries?.findIndex((e) => isObject(e) && e.id === item.id) ?? -1;
		const logprobs = answer.logprobs && spans && at >= 0 ? tokensWithin(answer.logprobs, spans[at][0], spans[at][1]) : undefined;
		return {
			answer: {
				value: value.value,
				samples,
				logprobs,
				text: JSON.stringify(first.entry),
				usage: usages[i],
				attempts: answer.attempts,
				reasks: answer.reasks,
				latencyMs: answer.latencyMs,
				responseId: answer.responseId,
				model: answer.model,
			},
		};
	});
}
