/**
 * The schema-driven default responder: a deterministic, obviously scripted answer that is valid against
 * the request's JSON schema, read against the item's text (the first user message). Rules (also in README.md):
 * - string enum: the value whose words (weight 2) and description words (weight 1: words on the lines of
 *   the system text or schema description that mention the value) overlap most with the user text; ties
 *   and no overlap pick the first value;
 * - `confidence`-like numbers: 0.9 when something matched (a keyword, an extracted field), else 0.4;
 * - `reason`-like strings: one short sentence saying what matched;
 * - `evidence`/`quote`-like fields: the user-text sentence holding the matched keyword, verbatim;
 * - other fields: looked up in the user text as `name: value` (or `name value` when the value holds a
 *   digit; a value ends at a newline, `;`, `, ` or `. `), quoted verbatim; not found gives null when allowed, else an empty value.
 */
import { FENCE_CLOSE, FENCE_OPEN, unescapeItem } from '../../nodes/AiDecide/prompt';
import { readFencedItems } from './fenced';
import { langchainReply } from './langchain';
import { firstUserText } from './prompt';
import { jsonWithLogprobs, tokensForSpans } from './tokens';
import type { RecordedRequest, Reply, Responder } from './types';

type Schema = Record<string, any>;

interface Match {
	/** The keyword or field name that matched. */
	keyword: string;
	/** Verbatim substring of the user text supporting it. */
	quote: string;
}

interface Ctx {
	root: Schema;
	req: RecordedRequest;
	/** The item's text: the first user message (a re-ask adds later turns that are not the item). */
	text: string;
	userWords: string[];
	sentences: string[];
	match?: Match;
}

const STOPWORDS = new Set(
	(
		'the and for with that this from are was were has have had about into your you our not but any all can ' +
		'will would should could may might its their them they then than when what which who whom how why where ' +
		'there here been being also only just more most some such other each per via use used using one two ' +
		'label labels category categories class classify item items text input output answer value values ' +
		'following choose pick select field fields json schema object must reply respond return'
	).split(' '),
);

const REASON_NAMES = /^(reason|reasoning|rationale|explanation|justification|why|comment|notes?)$/;
const EVIDENCE_NAMES = /^(evidence|evidences|quote|quotes|citation|citations|snippet|snippets|excerpt|excerpts|source_?quote|source_?text)$/;
const CONFIDENCE_NAMES = /^(confidence|score|probability|certainty|confidence_?score)$/;
const SUMMARY_NAMES = /^(summary|description|text|title|gist)$/;
const GENERIC_VALUE_NAMES = /^(value|answer|result|text|content)$/;

function isObject(v: unknown): v is Schema {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Words of a name or text, lower case: splits camelCase, snake_case, kebab-case and punctuation. */
export function wordsOf(text: string, minLength = 3): string[] {
	return text
		.replace(/([a-z])([A-Z])/g, '$1 $2')
		.toLowerCase()
		.split(/[^\p{L}\p{N}]+/u)
		.filter((w) => w.length >= minLength && !STOPWORDS.has(w));
}

// A pure cache (the same word always stems the same way): word matching runs words × keywords per request.
const stems = new Map<string, string>();

/** Crude stemming: charges/charged/charge, invoices/invoice, billing/bill match; short words must be equal. */
function stem(w: string): string {
	let s = stems.get(w);
	if (s === undefined) {
		const cut = w.replace(/(ing|ed|es|s)$/, '');
		s = cut.length >= 3 ? cut : w;
		if (stems.size > 50_000) stems.clear();
		stems.set(w, s);
	}
	return s;
}

function sameWord(a: string, b: string): boolean {
	if (a === b) return true;
	if (Math.min(a.length, b.length) < 4) return false;
	const sa = stem(a);
	const sb = stem(b);
	return Math.min(sa.length, sb.length) >= 3 && (sa.startsWith(sb) || sb.startsWith(sa));
}

function sentencesOf(text: string): string[] {
	return (text.match(/[^.!?\n]+[.!?]*/g) ?? []).map((s) => s.trim()).filter((s) => s.length > 0);
}

function normName(name: string): string {
	return name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function resolveRef(schema: Schema, root: Schema): Schema {
	let s = schema;
	for (let hops = 0; hops < 20 && typeof s.$ref === 'string'; hops++) {
		const path = s.$ref.replace(/^#\/?/, '').split('/').filter(Boolean);
		let target: any = root;
		for (const part of path) target = target?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
		if (!isObject(target)) return {};
		s = target;
	}
	return s;
}

function quoteFor(ctx: Ctx, keyword: string): string | undefined {
	return ctx.sentences.find((s) => wordsOf(s, 2).includes(keyword));
}

/** Scores the enum values against the user text; returns them best first (stable for ties). */
function rankEnum(values: unknown[], schema: Schema, ctx: Ctx): { value: unknown; score: number; keyword?: string }[] {
	const strings = values.filter((v): v is string => typeof v === 'string');
	const allValueWords = new Set(strings.flatMap((v) => wordsOf(v, 2)));
	const descriptionLines = [...ctx.req.systemText.split('\n'), ...String(schema.description ?? '').split('\n')];
	const scored = values.map((value, order) => {
		if (typeof value !== 'string') return { value, score: 0, order };
		let score = 0;
		let keyword: string | undefined;
		for (const w of new Set(wordsOf(value, 2))) {
			const hit = ctx.userWords.find((u) => sameWord(u, w));
			if (hit) {
				score += 2;
				keyword ??= hit;
			}
		}
		const lower = value.toLowerCase();
		const descWords = new Set(
			descriptionLines
				.filter((line) => line.toLowerCase().includes(lower))
				.flatMap((line) => wordsOf(line))
				.filter((w) => !allValueWords.has(w)),
		);
		for (const w of descWords) {
			const hit = ctx.userWords.find((u) => sameWord(u, w));
			if (hit) {
				score += 1;
				keyword ??= hit;
			}
		}
		return { value, score, keyword, order };
	});
	return scored.sort((a, b) => b.score - a.score || a.order - b.order);
}

function pickEnum(values: unknown[], schema: Schema, ctx: Ctx): unknown {
	if (values.length === 0) return null;
	const [best] = rankEnum(values, schema, ctx);
	if (best.score > 0 && best.keyword && !ctx.match) {
		ctx.match = { keyword: best.keyword, quote: quoteFor(ctx, best.keyword) ?? ctx.sentences[0] ?? '' };
	}
	return best.value;
}

function escapeRegExp(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Finds `name: value` (or `name value` when the value holds a digit) in the user text. */
function lookUp(name: string, title: string | undefined, numeric: boolean, ctx: Ctx): { value: string; quote: string } | undefined {
	const labels = [name, title].filter((l): l is string => typeof l === 'string' && l.length > 0);
	for (const label of labels) {
		const words = wordsOf(label, 1);
		if (words.length === 0) continue;
		const labelRe = words.map(escapeRegExp).join('[\\s_-]*');
		const valueRe = numeric ? '(-?\\d[\\d,]*(?:\\.\\d+)?)' : '([^\\n;]+?)(?=\\s*(?:[;\\n]|,\\s|\\.(?:\\s|$)|$))';
		const withSeparator = new RegExp(`\\b${labelRe}\\b\\s*(?:[:=#]|\\bis\\b|-)\\s*${valueRe}`, 'iu');
		const withSpace = new RegExp(`\\b${labelRe}\\s+(${numeric ? '-?\\d[\\d,]*(?:\\.\\d+)?' : '[^\\s,;]*\\d[^\\s,;]*'})`, 'iu');
		for (const re of [withSeparator, withSpace]) {
			const m = re.exec(ctx.text);
			if (m && m[1].trim() !== '') return { value: m[1].trim().replace(/\.$/, ''), quote: m[0].trim() };
		}
	}
	return undefined;
}

interface Gen {
	schema: Schema;
	name: string;
	/** The field name a generic `value` property stands for. */
	field?: string;
	nullable: boolean;
	/** Inside an evidence object: each property is the quote for the field of that name. */
	evidenceMode?: boolean;
}

function generate(g: Gen, ctx: Ctx): unknown {
	const s = resolveRef(g.schema, ctx.root);
	if (s.const !== undefined) return s.const;
	for (const key of ['anyOf', 'oneOf'] as const) {
		if (Array.isArray(s[key]) && s[key].length > 0) {
			const variants = (s[key] as Schema[]).map((v) => resolveRef(v, ctx.root));
			const allowsNull = variants.some((v) => v.type === 'null');
			const chosen = variants.find((v) => v.type !== 'null') ?? variants[0];
			return generate({ ...g, schema: { ...chosen, description: chosen.description ?? s.description }, nullable: g.nullable || allowsNull }, ctx);
		}
	}
	if (Array.isArray(s.allOf)) {
		const merged = Object.assign({}, ...s.allOf.map((v: Schema) => resolveRef(v, ctx.root)), { ...s, allOf: undefined });
		return generate({ ...g, schema: merged }, ctx);
	}
	let type = s.type;
	let nullable = g.nullable;
	if (Array.isArray(type)) {
		nullable ||= type.includes('null');
		type = type.find((t: string) => t !== 'null') ?? 'null';
	}
	if (Array.isArray(s.enum)) {
		const values = nullable ? s.enum : s.enum.filter((v: unknown) => v !== null);
		return pickEnum(values, s, ctx);
	}
	if (type === undefined) type = isObject(s.properties) ? 'object' : isObject(s.items) ? 'array' : 'string';
	const name = normName(g.name);
	const fieldName = GENERIC_VALUE_NAMES.test(name) && g.field ? g.field : g.name;

	switch (type) {
		case 'null':
			return null;
		case 'object':
			return generateObject(s, g, ctx);
		case 'array':
			return generateArray(s, g, ctx, nullable);
		case 'boolean': {
			const found = lookUp(fieldName, s.title, false, ctx);
			if (found) ctx.match ??= { keyword: fieldName, quote: found.quote };
			return found ? /^(yes|true|y|1)\b/i.test(found.value) : false;
		}
		case 'number':
		case 'integer':
			return generateNumber(s, type, name, fieldName, ctx, nullable);
		default:
			return generateString(s, g, name, fieldName, ctx, nullable);
	}
}

function generateObject(s: Schema, g: Gen, ctx: Ctx): Record<string, unknown> {
	const props = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
	const out: Record<string, unknown> = {};
	// A nested object is one field's record ({value, evidence, confidence}): it gets its own match.
	const inner: Ctx = g.name === '' ? ctx : { ...ctx, match: undefined };
	const isMeta = (key: string) => {
		const n = normName(key);
		return REASON_NAMES.test(n) || EVIDENCE_NAMES.test(n) || CONFIDENCE_NAMES.test(n);
	};
	const keys = Object.keys(props);
	// Answers first, then the fields that describe them (confidence, reason, evidence).
	for (const key of [...keys.filter((k) => !isMeta(k)), ...keys.filter(isMeta)]) {
		out[key] = generate(
			{
				schema: props[key],
				name: key,
				field: g.name === '' ? undefined : g.name,
				nullable: false,
				evidenceMode: g.evidenceMode || (EVIDENCE_NAMES.test(normName(g.name)) && g.name !== ''),
			},
			inner,
		);
	}
	if (inner !== ctx && inner.match) ctx.match ??= inner.match;
	// Keep the schema's property order in the answer.
	return Object.fromEntries(keys.map((k) => [k, out[k]]));
}

function generateArray(s: Schema, g: Gen, ctx: Ctx, nullable: boolean): unknown[] | null {
	const items = isObject(s.items) ? resolveRef(s.items, ctx.root) : {};
	const min = typeof s.minItems === 'number' ? s.minItems : 0;
	const max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
	const clamp = (list: unknown[], filler: () => unknown) => {
		const out = list.slice(0, max);
		while (out.length < min) out.push(filler());
		return out;
	};
	const name = normName(g.name);
	if (Array.isArray(items.enum)) {
		// Multi-label: every value with some overlap, in schema order; none → the first value.
		const ranked = rankEnum(items.enum, items, ctx);
		const hits = items.enum.filter((v: unknown) => ranked.some((r) => r.value === v && r.score > 0));
		const best = ranked[0];
		if (best && best.score > 0 && best.keyword) ctx.match ??= { keyword: best.keyword, quote: quoteFor(ctx, best.keyword) ?? ctx.sentences[0] ?? '' };
		const chosen = hits.length > 0 ? hits : items.enum.slice(0, 1);
		return clamp(chosen, () => items.enum.find((v: unknown) => !chosen.includes(v)) ?? items.enum[0]);
	}
	if (EVIDENCE_NAMES.test(name) && (items.type === 'string' || items.type === undefined)) {
		const quote = ctx.match?.quote;
		return clamp(quote ? [quote] : [], () => ctx.sentences[0] ?? '');
	}
	void nullable;
	const count = Math.max(1, min);
	const out: unknown[] = [];
	for (let i = 0; i < Math.min(count, max); i++) out.push(generate({ schema: items, name: g.name, field: g.field, nullable: false }, ctx));
	return out;
}

function clampNumber(value: number, s: Schema, integer: boolean): number {
	let v = value;
	if (typeof s.minimum === 'number') v = Math.max(v, s.minimum);
	if (typeof s.maximum === 'number') v = Math.min(v, s.maximum);
	if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) v = s.exclusiveMinimum + (integer ? 1 : 0.01);
	if (typeof s.exclusiveMaximum === 'number' && v >= s.exclusiveMaximum) v = s.exclusiveMaximum - (integer ? 1 : 0.01);
	return integer ? Math.round(v) : v;
}

function generateNumber(s: Schema, type: string, name: string, fieldName: string, ctx: Ctx, nullable: boolean): number | null {
	const integer = type === 'integer';
	if (CONFIDENCE_NAMES.test(name)) {
		const high = ctx.match !== undefined;
		// A 0..100 scale gets 90 / 40.
		const scale = typeof s.maximum === 'number' && s.maximum > 1 ? 100 : 1;
		return clampNumber((high ? 0.9 : 0.4) * scale, s, integer);
	}
	const found = lookUp(fieldName, s.title, true, ctx);
	if (found) {
		ctx.match ??= { keyword: fieldName, quote: found.quote };
		return clampNumber(Number(found.value.replace(/,/g, '')), s, integer);
	}
	if (nullable) return null;
	return clampNumber(0, s, integer);
}

function generateString(s: Schema, g: Gen, name: string, fieldName: string, ctx: Ctx, nullable: boolean): string | null {
	const pad = (v: string) => {
		let out = v;
		if (typeof s.maxLength === 'number' && out.length > s.maxLength) out = out.slice(0, s.maxLength);
		if (typeof s.minLength === 'number') out = out.padEnd(s.minLength, '.');
		return out;
	};
	if (g.evidenceMode && !EVIDENCE_NAMES.test(name)) {
		// {evidence: {field: "quote"}}: the quote that supports that field.
		const found = lookUp(g.name, s.title, false, ctx);
		if (found) return pad(found.quote);
		return nullable ? null : pad('');
	}
	if (REASON_NAMES.test(name)) {
		const m = ctx.match;
		return pad(m ? `Scripted answer: the text mentions "${m.keyword}".` : 'Scripted answer: no keyword matched, so the first option was chosen.');
	}
	if (EVIDENCE_NAMES.test(name)) {
		if (ctx.match) return pad(ctx.match.quote);
		// Inside a field record nothing supports the value; at the top level quote the first sentence.
		if (g.field !== undefined) return nullable ? null : pad('');
		return pad(ctx.sentences[0] ?? '');
	}
	const found = lookUp(fieldName, s.title, false, ctx);
	if (found) {
		ctx.match ??= { keyword: fieldName, quote: found.quote };
		return pad(found.value);
	}
	if (SUMMARY_NAMES.test(name)) return pad(ctx.sentences[0] ?? '');
	if (nullable) return null;
	switch (s.format) {
		case 'date':
			return '2024-01-01';
		case 'date-time':
			return '2024-01-01T00:00:00Z';
		case 'email':
			return 'someone@example.com';
		case 'uri':
		case 'url':
			return 'https://example.com/';
		case 'uuid':
			return '00000000-0000-4000-8000-000000000000';
		default:
			return pad('');
	}
}

/** The schema a json_object request carries in its instructions ("…JSON Schema:\n{…}"), if any. */
function schemaFromText(text: string): Schema | undefined {
	for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
		try {
			const parsed = JSON.parse(text.slice(i).trim());
			if (isObject(parsed) && (parsed.type !== undefined || isObject(parsed.properties))) return parsed;
		} catch {
			// not the start of the trailing schema; keep looking
		}
	}
	return undefined;
}

/**
 * The words a reader would weigh: for an item given as JSON (AI Decide's context, fenced in <item>…</item>),
 * its values only. Its keys are the workflow's field names (`amount`, `plan`), not what the customer wrote.
 */
function valuesOf(text: string): string {
	const trimmed = text.trim();
	const fenced = trimmed.startsWith(FENCE_OPEN) && trimmed.endsWith(FENCE_CLOSE);
	const inner = fenced ? unescapeItem(trimmed.slice(FENCE_OPEN.length, -FENCE_CLOSE.length)) : text;
	let parsed: unknown;
	try {
		parsed = JSON.parse(inner);
	} catch {
		return text;
	}
	if (typeof parsed !== 'object' || parsed === null) return text;
	const values: string[] = [];
	const visit = (v: unknown): void => {
		if (typeof v === 'string' || typeof v === 'number') values.push(String(v));
		else if (Array.isArray(v)) v.forEach(visit);
		else if (v && typeof v === 'object') Object.values(v).forEach(visit);
	};
	visit(parsed);
	return values.join('\n');
}

/** A valid answer for `schema` given the user and system text (exported for tests and other responders). */
export function answerFor(schema: object, req: RecordedRequest): unknown {
	return answerWithMatch(schema, req).value;
}

function answerWithMatch(
	schema: object,
	req: RecordedRequest,
	text = firstUserText(req.body) || req.userText,
	root: object = schema,
): { value: unknown; matched: boolean } {
	const ctx: Ctx = {
		root: root as Schema,
		req,
		text,
		userWords: wordsOf(valuesOf(text), 2),
		sentences: sentencesOf(text),
	};
	const value = generate({ schema: schema as Schema, name: '', nullable: false }, ctx);
	return { value, matched: ctx.match !== undefined };
}

/**
 * With `logprobs` requested, the first top-level enum answer is spelled with the log of the same confidence
 * the responder would state (0.9 when a keyword matched, 0.4 when none did), so log-probability confidence
 * behaves like the stated one instead of being a certain 1.0.
 */
function withEnumLogprobs(schema: Schema, value: unknown, matched: boolean): Reply {
	if (!isObject(value) || !isObject(schema.properties)) return { json: value };
	const entry = Object.entries(value).find(
		([key, v]) => typeof v === 'string' && Array.isArray((schema.properties as Schema)[key]?.enum),
	);
	if (!entry) return { json: value };
	const spelled = `${JSON.stringify(entry[0])}:${JSON.stringify(entry[1])}`;
	return jsonWithLogprobs(value, { [spelled]: Math.log(matched ? 0.9 : 0.4) });
}

/** The schema of one entry of a several-items answer (`answers: [{id, …}]`), without its id; else undefined. */
export function severalItemsEntrySchema(schema: object): Schema | undefined {
	const s = schema as Schema;
	const answers = isObject(s.properties) ? s.properties.answers : undefined;
	const entry = isObject(answers) && isObject(answers.items) ? resolveRef(answers.items, s) : undefined;
	if (!entry || !isObject(entry.properties) || !isObject(entry.properties.id)) return undefined;
	const { id: _id, ...own } = entry.properties as Record<string, Schema>;
	return { ...entry, properties: own, required: (Array.isArray(entry.required) ? entry.required : []).filter((k: string) => k !== 'id') };
}

/**
 * A several-items answer (AI Classify's "Items per Request"): each item answered on its own as if it were the
 * only one, by the rules above, under its id, in the order given; with logprobs each entry's enum answer is
 * spelled with the log of its own confidence (0.9 or 0.4), like a single answer. `labelOf` may change an
 * entry's answer (the gullible model of the injection test does).
 */
export function severalItemsReply(
	schema: object,
	req: RecordedRequest,
	items: Array<{ id: string; text: string }>,
	change: (id: string, entry: Record<string, unknown>) => Record<string, unknown> = (_id, entry) => entry,
): Reply | undefined {
	const entrySchema = severalItemsEntrySchema(schema);
	if (!entrySchema || items.length === 0) return undefined;
	const answers = items.map((item) => {
		const { value, matched } = answerWithMatch(entrySchema, req, item.text, schema);
		return { entry: change(item.id, { id: item.id, ...(value as Record<string, unknown>) }), matched };
	});
	const json = { answers: answers.map((a) => a.entry) };
	if (!(req.api === 'openai' && req.body?.logprobs)) return { json };
	const content = JSON.stringify(json);
	const spans: Array<{ start: number; end: number; logprob: number }> = [];
	let from = 0;
	for (const { entry, matched } of answers) {
		const at = content.indexOf(JSON.stringify(entry.id), from);
		const key = Object.keys(entry).find((k) => typeof entry[k] === 'string' && Array.isArray((entrySchema.properties as Schema)[k]?.enum));
		if (at < 0 || !key) continue;
		const spelled = `${JSON.stringify(key)}:${JSON.stringify(entry[key])}`;
		const start = content.indexOf(spelled, at);
		if (start < 0) continue;
		spans.push({ start, end: start + spelled.length, logprob: Math.log(matched ? 0.9 : 0.4) });
		from = start + spelled.length;
	}
	return { json, logprobs: tokensForSpans(content, spans) };
}

export const autoResponder: Responder = (req): Reply => {
	// n8n's LangChain chains put the schema in the system text (format instructions) and parse a ```json reply.
	const langchain = langchainReply(req, answerFor);
	if (langchain) return langchain;
	const schema = req.schema ?? (req.wantsJson ? schemaFromText(req.systemText) : undefined);
	if (schema) {
		const several = severalItemsReply(schema, req, readFencedItems(firstUserText(req.body) || req.userText));
		if (several) return several;
		const { value, matched } = answerWithMatch(schema, req);
		return req.api === 'openai' && req.body?.logprobs ? withEnumLogprobs(schema as Schema, value, matched) : { json: value };
	}
	const first = sentencesOf(firstUserText(req.body) || req.userText)[0];
	if (req.wantsJson) return { json: { answer: first ?? '', scripted: true } };
	return { text: `Scripted reply from the local provider server to: ${first ?? '(empty)'}` };
};
