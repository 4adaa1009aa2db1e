/**
 * The prompt and answer schema of AI Extract, in one place. The static part (instructions and the field list)
 * is identical for every item of a run and comes first; the item's text is sent last, on its own.
 *
 * Every field is answered as { value, quote, confidence }: the value (null when the text does not state it),
 * the verbatim passage that states it, and the model's own estimate. Types, allowed values and the fields'
 * descriptions travel in the JSON Schema, so the instructions do not repeat them.
 */
import { z } from 'zod/v4';

import type { ExtractField } from './schema';

export function buildInstructions(fields: ExtractField[], many: boolean, extra: string): string {
	const required = fields.filter((f) => f.required).map((f) => f.name);
	return [
		many
			? 'Extract every record in the text (e.g. each line item), in order, into "records"; [] if there is none.'
			: 'Extract one record from the text.',
		'For each field give: value, or null if the text does not state it (never guess); quote, the shortest passage stating it, copied verbatim ("" if none); confidence, 0 to 1.',
		...(fields.some((f) => f.kind === 'date') ? ['Dates as YYYY-MM-DD.'] : []),
		...(required.length ? [`Required: ${required.join(', ')}.`] : []),
		...(extra.trim() ? [extra.trim()] : []),
	].join('\n');
}

/**
 * One field's answer. Kept small because it is repeated per field: the quote is "" rather than null, and the
 * confidence range is checked by zod (and said in the instructions) instead of spelled out in every field.
 */
export function fieldAnswer(field: ExtractField) {
	return z.object({
		value: field.value.nullable(),
		quote: z.string(),
		confidence: z.number().refine((v) => v >= 0 && v <= 1, { message: 'confidence must be between 0 and 1' }),
	});
}

export function recordSchema(fields: ExtractField[]) {
	return z.object(Object.fromEntries(fields.map((f) => [f.name, fieldAnswer(f)])));
}

/** The answer the model must give: one record, or `records` for many. */
export function answerSchema(fields: ExtractField[], many: boolean): z.ZodType {
	const record = recordSchema(fields);
	return many ? z.object({ records: z.array(record) }) : record;
}

export interface FieldAnswer {
	value: unknown;
	quote: string;
	confidence: number;
}
export type RecordAnswer = Record<string, FieldAnswer>;
