/**
 * Is an extracted value supported by its quote? The quote must occur in the text (whitespace- and
 * case-tolerant, `quoteOccurs`), and the value must be consistent with the quote:
 * - numbers: the number appears in the quote once thousands separators and decimal commas are normalised
 *   ("1.234,50", "1 234.50" and "$1,234.50" all hold 1234.5; "19 %" holds 19 and 0.19);
 * - dates: a date written in the quote (ISO, 12.03.2024, 03/12/2024, 12 March 2024, March 12, 2024…) is
 *   the same day;
 * - strings: the value occurs in the quote, or most of its words do;
 * - booleans and enums: lenient (the model maps words to them), the quote occurring is enough;
 * - lists and objects: every number, date and string inside is consistent with the quote.
 * This is the guard against invented values: a value the text does not state is flagged, not passed on.
 */
import { quoteOccurs } from '../../shared/evidence';
import { isIsoDate } from '../../shared/schema/jsonSchemaToZod';
import type { FieldKind } from './schema';

export interface Support {
	supported: boolean;
	/** why not, for the result and the reviewer */
	problem?: string;
}

function normalise(text: string): string {
	return text.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Every number the text can be read as holding, under either decimal convention. */
export function numbersIn(text: string): number[] {
	const found: number[] = [];
	// a run of digits with separators (, . ' space, thin space) between groups, optional sign and percent
	const re = /(-|\u2212)?\d(?:[\d,.'\u2019\u00a0\u202f ]*\d)?(\s?%)?/g;
	for (const match of text.normalize('NFKC').matchAll(re)) {
		const negative = Boolean(match[1]);
		const percent = Boolean(match[2]);
		const body = match[0].replace(/^(-|\u2212)/, '').replace(/\s?%$/, '');
		for (const reading of readings(body)) {
			const value = negative ? -reading : reading;
			found.push(value);
			if (percent) found.push(value / 100);
		}
	}
	return found;
}

/** The numbers a digit group can mean: "1,234" is 1234 or 1.234; "1.234,5" is 1234.5. */
function readings(raw: string): number[] {
	const out = new Set<number>();
	// spaces and apostrophes are only ever thousands separators; a space may also separate two numbers
	for (const part of [raw.replace(/[\s'\u2019\u00a0\u202f]/g, ''), ...raw.split(/\s+/)]) {
		const body = part.replace(/['\u2019\u00a0\u202f]/g, '');
		if (!/^\d[\d,.]*$/.test(body)) continue;
		const lastComma = body.lastIndexOf(',');
		const lastDot = body.lastIndexOf('.');
		// decimal point, commas group thousands
		const dotDecimal = Number(body.replace(/,/g, ''));
		// decimal comma, dots group thousands
		const commaDecimal = Number(body.replace(/\./g, '').replace(',', '.'));
		if (lastComma === -1 || lastDot > lastComma) {
			if (!Number.isNaN(dotDecimal)) out.add(dotDecimal);
		}
		if (lastDot === -1 || lastComma > lastDot) {
			if (!Number.isNaN(commaDecimal) && (body.match(/,/g) ?? []).length <= 1) out.add(commaDecimal);
		}
		// dots as thousands separators only ("1.234.567")
		if (/^\d{1,3}(\.\d{3})+$/.test(body)) out.add(Number(body.replace(/\./g, '')));
		if (/^\d{1,3}(,\d{3})+$/.test(body)) out.add(Number(body.replace(/,/g, '')));
	}
	return [...out];
}

export function numberSupported(value: number, quote: string): boolean {
	return numbersIn(quote).some((n) => Math.abs(n - value) <= Math.max(1e-9, Math.abs(value) * 1e-9));
}

const MONTHS: Record<string, number> = {
	jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6,
	jul: 7, july: 7, aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11,
	november: 11, dec: 12, december: 12,
	// German and French month names, common on European invoices
	januar: 1, februar: 2, märz: 3, maerz: 3, mai: 5, juni: 6, juli: 7, oktober: 10, dezember: 12,
	janvier: 1, février: 2, fevrier: 2, mars: 3, avril: 4, juin: 6, juillet: 7, août: 8, aout: 8,
	septembre: 9, octobre: 10, novembre: 11, décembre: 12, decembre: 12,
};

const iso = (y: number, m: number, d: number): string | undefined => {
	const year = y < 100 ? 2000 + y : y;
	const text = `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
	return isIsoDate(text) ? text : undefined;
};

/** Every calendar day a text can be read as naming (day/month order is ambiguous, so both are kept). */
export function datesIn(text: string): string[] {
	const t = text.normalize('NFKC').toLowerCase();
	const out = new Set<string>();
	const add = (d?: string) => d && out.add(d);
	for (const m of t.matchAll(/(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})/g)) add(iso(+m[1], +m[2], +m[3]));
	for (const m of t.matchAll(/\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b/g)) {
		add(iso(+m[3], +m[2], +m[1]));
		add(iso(+m[3], +m[1], +m[2]));
	}
	const month = '([a-zäéû]{3,9})\\.?';
	for (const m of t.matchAll(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th|er)?\\.?\\s+(?:of\\s+)?${month},?\\s+(\\d{4})`, 'g'))) {
		if (MONTHS[m[2]]) add(iso(+m[3], MONTHS[m[2]], +m[1]));
	}
	for (const m of t.matchAll(new RegExp(`${month}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})`, 'g'))) {
		if (MONTHS[m[1]]) add(iso(+m[3], MONTHS[m[1]], +m[2]));
	}
	return [...out];
}

export function dateSupported(value: string, quote: string): boolean {
	const day = value.slice(0, 10);
	return datesIn(quote).includes(day);
}

function wordsOf(text: string): string[] {
	return normalise(text)
		.split(/[^\p{L}\p{N}]+/u)
		.filter((w) => w.length > 0);
}

export function stringSupported(value: string, quote: string): boolean {
	const v = normalise(value);
	if (v === '') return true;
	if (normalise(quote).includes(v)) return true;
	const words = wordsOf(value);
	if (words.length === 0) return false;
	const quoteWords = new Set(wordsOf(quote));
	const found = words.filter((w) => quoteWords.has(w)).length;
	// "most of its words": more than half, so a reworded but faithful value passes and an invented one does not
	return found / words.length > 0.5;
}

/** Checks one value (recursively for lists and objects) against its quote. */
function consistent(value: unknown, kind: FieldKind, quote: string): string | undefined {
	if (value === null || value === undefined) return undefined;
	if (kind === 'boolean' || kind === 'enum') return undefined;
	if (typeof value === 'boolean') return undefined;
	if (typeof value === 'number') {
		return numberSupported(value, quote) ? undefined : `the number ${value} does not appear in the quote`;
	}
	if (typeof value === 'string') {
		if (kind === 'date' || kind === 'datetime' || (kind !== 'string' && isIsoDate(value.slice(0, 10)) && /^\d{4}-\d{2}-\d{2}/.test(value))) {
			return dateSupported(value, quote) ? undefined : `the date ${value} is not the date in the quote`;
		}
		return stringSupported(value, quote) ? undefined : `"${value}" is not what the quote says`;
	}
	if (Array.isArray(value)) {
		for (const entry of value) {
			const problem = consistent(entry, 'other', quote);
			if (problem) return problem;
		}
		return undefined;
	}
	if (typeof value === 'object') {
		for (const entry of Object.values(value as Record<string, unknown>)) {
			const problem = consistent(entry, 'other', quote);
			if (problem) return problem;
		}
	}
	return undefined;
}

/** Whether `value` is supported by `quote` within `source`. A null value claims nothing and is supported. */
export function checkSupport(source: string, value: unknown, quote: string | null, kind: FieldKind): Support {
	if (value === null || value === undefined) return { supported: true };
	if (quote === null || quote.trim() === '') return { supported: false, problem: 'no quote was given for the value' };
	if (!quoteOccurs(source, quote)) return { supported: false, problem: 'the quote does not occur in the text' };
	const problem = consistent(value, kind, quote);
	return problem ? { supported: false, problem } : { supported: true };
}
