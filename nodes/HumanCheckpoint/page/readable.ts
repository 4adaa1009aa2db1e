/**
 * What a reviewer reads first, in their words rather than the contract's: the item's own fields (the ones the
 * checkpoint names, or a sensible choice), the AI's evidence marked inside them, how sure the AI is in plain
 * words, and the deadline in the workflow's time zone. Every function that returns HTML escapes what it shows.
 */
import { escapeHtml } from '../../../shared/html';
import { isPlainObject } from '../edits';

/** Fields this package writes on an item: never what a person is deciding about. */
const PACKAGE_FIELDS = new Set(['ai', 'gate', 'review', 'audit', 'approved']);
/** The automatic choice: at most this many of the item's text fields, each shorter than MAX_AUTO_CHARS. */
const MAX_AUTO_FIELDS = 4;
// longer strings are usually encoded files or whole documents, better left folded
const MAX_AUTO_CHARS = 5000;
const MAX_SHOWN_CHARS = 4000;

export interface ShownField {
	name: string;
	/** the field's value as text (a record or list as indented JSON) */
	text: string;
}

/** "subject, text" as field names (a dot reaches into a record: `customer.name`). */
export function parseFieldsToShow(value: unknown): string[] {
	return String(value ?? '')
		.split(',')
		.map((name) => name.trim())
		.filter((name) => name !== '');
}

/** The parameter's value as toReviewItem takes it: the named fields, or 'auto' when none are named. */
export function fieldsToShowFrom(value: unknown): string[] | 'auto' {
	const named = parseFieldsToShow(value);
	return named.length ? named : 'auto';
}

function readPath(json: Record<string, unknown>, path: string): unknown {
	let value: unknown = json;
	for (const part of path.split('.')) {
		if (!isPlainObject(value) || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
		value = value[part];
	}
	return value;
}

function asText(value: unknown): string {
	const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
	return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}… (shortened)` : text;
}

/**
 * The fields shown first: the named ones that the item has, in the order named; with none named, the item's
 * own non-empty text fields (not the package's `ai`, `gate`, `review`, `audit`), in the item's order.
 */
export function chooseShownFields(json: Record<string, unknown>, named: string[] | 'auto'): ShownField[] {
	if (named !== 'auto') {
		return named
			.map((name) => ({ name, value: readPath(json, name) }))
			.filter(({ value }) => value !== undefined && value !== null && value !== '')
			.map(({ name, value }) => ({ name, text: asText(value) }));
	}
	return Object.entries(json)
		.filter(([name, value]) => !PACKAGE_FIELDS.has(name) && typeof value === 'string' && value.trim() !== '' && value.length <= MAX_AUTO_CHARS)
		.slice(0, MAX_AUTO_FIELDS)
		.map(([name, value]) => ({ name, text: value as string }));
}

/** A one-line name for an item (a heading, a line of the notification): its first shown field, shortened. */
export function itemTitle(shown: ShownField[], max = 80): string | undefined {
	const first = shown[0]?.text.replace(/\s+/g, ' ').trim();
	if (!first) return undefined;
	return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/**
 * The text as HTML with every exact occurrence of an evidence quote in <mark>. Exact and case-sensitive, as the
 * AI nodes check a quote against the text; overlapping quotes become one mark.
 */
export function highlightEvidence(text: string, evidence: string[] = []): string {
	const ranges: Array<[number, number]> = [];
	for (const quote of evidence) {
		if (typeof quote !== 'string' || quote.trim() === '') continue;
		for (let at = text.indexOf(quote); at !== -1; at = text.indexOf(quote, at + quote.length)) ranges.push([at, at + quote.length]);
	}
	ranges.sort((a, b) => a[0] - b[0]);
	let html = '';
	let done = 0;
	for (const [start, end] of ranges) {
		if (end <= done) continue;
		const from = Math.max(start, done);
		html += `${escapeHtml(text.slice(done, from))}<mark>${escapeHtml(text.slice(from, end))}</mark>`;
		done = end;
	}
	return html + escapeHtml(text.slice(done));
}

/** True when an evidence quote occurs in the text (so it is marked there). */
export function containsEvidence(text: string, evidence: string[] = []): boolean {
	return evidence.some((quote) => typeof quote === 'string' && quote.trim() !== '' && text.includes(quote));
}

/** How a confidence was measured, as a reviewer would say it. */
export function confidenceMethodInWords(method: string | undefined, samples?: number): string | undefined {
	switch (method) {
		case 'logprobs':
			return "the model's token probabilities";
		case 'k-sample':
			return samples ? `agreement across ${samples} answers` : 'agreement across several answers';
		case 'model-estimate':
			return "the model's own estimate (least reliable)";
		case 'evidence+estimate':
			return "the model's own estimate, checked against its quoted evidence";
		case 'rule':
			return 'a hard rule';
		default:
			return undefined;
	}
}

/** "high (94%) — measured by agreement across 5 answers", or "unknown". */
export function confidenceInWords(confidence: number | null | undefined, method: string | undefined, samples?: number): string {
	if (confidence === null || confidence === undefined || !Number.isFinite(confidence)) return 'unknown (not measured)';
	const level = confidence >= 0.9 ? 'high' : confidence >= 0.7 ? 'medium' : 'low';
	const how = confidenceMethodInWords(method, samples);
	return `${level} (${Math.round(confidence * 100)}%)${how ? ` — measured by ${how}` : ''}`;
}

/** "4 Dec 2026, 14:00 UTC" in the given IANA zone (the workflow's), the zone's own name added where it differs. */
export function formatTime(date: Date, timeZone = 'UTC'): string {
	const format = (zone: string) =>
		new Intl.DateTimeFormat('en-GB', {
			day: 'numeric',
			month: 'short',
			year: 'numeric',
			hour: '2-digit',
			minute: '2-digit',
			hour12: false,
			timeZone: zone,
			timeZoneName: 'short',
		}).format(date);
	let text: string;
	try {
		text = format(timeZone);
	} catch {
		// an unknown zone name: UTC rather than no deadline
		return format('UTC');
	}
	return text.endsWith(timeZone) ? text : `${text} (${timeZone})`;
}

/** "in 3 hours", "in 25 minutes", "2 days ago": how far a time is from now, roughly. */
export function relativeTime(date: Date, now: Date): string {
	const ms = date.getTime() - now.getTime();
	const minutes = Math.round(Math.abs(ms) / 60_000);
	const [amount, unit] = minutes < 90 ? [minutes, 'minute'] : minutes < 36 * 60 ? [Math.round(minutes / 60), 'hour'] : [Math.round(minutes / 1440), 'day'];
	const span = `${amount} ${unit}${amount === 1 ? '' : 's'}`;
	return ms >= 0 ? `in ${span}` : `${span} ago`;
}
