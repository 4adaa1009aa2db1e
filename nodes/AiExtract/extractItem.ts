/**
 * One item through AI Extract: ask for the record(s) with a verbatim quote and an estimate per field, check
 * every value against its quote and the text, list missing required fields, score confidence, and pick the
 * output. A value the text does not support is flagged and, by default, sent to Needs Review.
 */
import type { ItemContext, ItemOutcome } from '../../shared/aiStep';
import { clamp01 } from '../../shared/confidence';
import { emptyUsage } from '../../shared/cost';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { askStructured, type Answer, InvalidAnswerError, toModelSchema } from '../../shared/structured';
import { answerSchema, buildInstructions, type RecordAnswer } from './prompt';
import type { ExtractField } from './schema';
import { checkSupport } from './support';

export const OUTPUT_EXTRACTED = 0;
export const OUTPUT_REVIEW = 1;

export interface ExtractSettings {
	text: unknown;
	fields: ExtractField[];
	/** one record per item, or many (one output item per record) */
	many: boolean;
	instructions: string;
	/** items whose overall confidence is below this go to Needs Review */
	threshold: number;
	/** send items with an unsupported value to Needs Review (default true) */
	unsupportedToReview: boolean;
	/** cut text above Max Input Characters instead of failing, and flag the result */
	truncate: boolean;
	/** the record's JSON Schema: published on every result as the shape a corrected record must have */
	answerSchema?: JsonSchema;
}

/** What the node reports per field. */
export interface FieldResult {
	value: unknown;
	quote: string | null;
	supported: boolean;
	confidence: number;
	problem?: string;
}

type Call = Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model'>;

function isEmpty(value: unknown): boolean {
	return value === null || value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
}

/** The item's text as the shared preparation sees it, cut to the limit when the user asked for that. */
function cutIfAsked(value: unknown, limit: number, truncate: boolean): { value: unknown; truncated: boolean } {
	if (!truncate || value === undefined || value === null) return { value, truncated: false };
	const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
	return text.length > limit ? { value: text.slice(0, limit), truncated: true } : { value, truncated: false };
}

export async function extractItem(item: ItemContext, settings: ExtractSettings): Promise<ItemOutcome[]> {
	const cut = cutIfAsked(settings.text, item.options.maxInputChars, settings.truncate);
	const text = item.prepareText(cut.value, 'Text');
	const instructions = buildInstructions(settings.fields, settings.many, settings.instructions);
	const schema = answerSchema(settings.fields, settings.many);
	const promptParts = { step: 'extract', instructions, schema: toModelSchema(schema), many: settings.many };
	const request = {
		instructions,
		input: text,
		schemaName: 'extraction',
		schemaDescription: 'Extracted fields',
		samples: 1,
		logprobs: false,
		temperature: item.options.temperature,
		maxTokens: settings.many ? 8192 : 2048,
	};

	let answer: Answer<unknown>;
	try {
		answer = await askStructured(item.client, request, schema, item.policy);
	} catch (error) {
		if (!(error instanceof InvalidAnswerError)) throw error;
		// name the user's fields, not the answer's inner paths (records.0.total.value → total)
		const names = new Set(settings.fields.map((f) => f.name));
		const fields = [...new Set(error.fields.map((p) => p.split('.').find((part) => names.has(part)) ?? p))];
		const renamed = new InvalidAnswerError(error.problems, fields, error.lastAnswer);
		renamed.message = `The model's answer stayed invalid after re-asking, for ${fields.length === 1 ? 'field' : 'fields'} ${fields.join(', ')}: ${error.problems}`;
		Object.assign(renamed, { usage: (error as { usage?: unknown }).usage, attempts: (error as { attempts?: unknown }).attempts });
		throw renamed;
	}

	const records: RecordAnswer[] = settings.many ? (answer.value as { records: RecordAnswer[] }).records : [answer.value as RecordAnswer];
	if (records.length === 0) {
		const result = item.result(
			{
				answer: [],
				confidence: null,
				confidenceMethod: 'evidence+estimate',
				reason: 'The model found no records in the text.',
				evidence: [],
				needsReview: true,
				reviewReason: 'no records found',
			},
			answer,
			promptParts,
		);
		Object.assign(result, { data: null, fields: {}, missing: [], unsupported: [], truncated: cut.truncated, recordIndex: null, recordCount: 0 });
		if (settings.answerSchema) result.answerSchema = settings.answerSchema;
		return [{ output: OUTPUT_REVIEW, result }];
	}

	return records.map((record, recordIndex) => {
		const fields: Record<string, FieldResult> = {};
		const data: Record<string, unknown> = {};
		const missing: string[] = [];
		const unsupported: string[] = [];
		for (const field of settings.fields) {
			const given = record[field.name];
			const value = given.value ?? null;
			const quote = given.quote.trim() === '' ? null : given.quote;
			const support = checkSupport(text, value, quote, field.kind);
			const absent = isEmpty(value);
			if (absent && field.required) missing.push(field.name);
			if (!support.supported) unsupported.push(field.name);
			// evidence+estimate: the model's estimate counts only where the text supports the value
			const confidence = (absent && field.required) || !support.supported ? 0 : clamp01(given.confidence);
			fields[field.name] = {
				value,
				quote,
				supported: support.supported,
				confidence,
				...(support.problem ? { problem: support.problem } : {}),
			};
			data[field.name] = value;
		}
		const required = settings.fields.filter((f) => f.required);
		const scored = required.length ? required : settings.fields.filter((f) => !isEmpty(fields[f.name].value));
		const overall = scored.length ? Math.min(...scored.map((f) => fields[f.name].confidence)) : 0;
		const reasons: string[] = [];
		if (missing.length) reasons.push(`missing required ${missing.length === 1 ? 'field' : 'fields'}: ${missing.join(', ')}`);
		if (unsupported.length && settings.unsupportedToReview) reasons.push(`unsupported ${unsupported.length === 1 ? 'value' : 'values'}: ${unsupported.join(', ')}`);
		if (!reasons.length && overall < settings.threshold) reasons.push('below threshold');
		const needsReview = reasons.length > 0;
		const extracted = settings.fields.filter((f) => !isEmpty(fields[f.name].value)).length;
		const problems = unsupported.map((name) => `${name}: ${fields[name].problem}`);
		const reason = [
			`${extracted} of ${settings.fields.length} fields extracted, ${extracted - unsupported.length} supported by a quote from the text.`,
			...(problems.length ? [`Unsupported: ${problems.join('; ')}.`] : []),
			...(missing.length ? [`Missing: ${missing.join(', ')}.`] : []),
		].join(' ');
		// the request's usage is counted once, on the first record, so sums over items stay right
		const call: Call = recordIndex === 0 ? answer : { ...answer, usage: { ...emptyUsage(), requests: 0 }, attempts: 0 };
		const result = item.result(
			{
				answer: data,
				confidence: overall,
				confidenceMethod: 'evidence+estimate',
				reason,
				evidence: settings.fields.filter((f) => fields[f.name].supported && fields[f.name].quote && !isEmpty(fields[f.name].value)).map((f) => fields[f.name].quote!),
				needsReview,
				...(needsReview ? { reviewReason: reasons.join('; ') } : {}),
			},
			call,
			promptParts,
		);
		Object.assign(result, {
			data,
			fields,
			missing,
			unsupported,
			truncated: cut.truncated,
			threshold: settings.threshold,
			...(settings.many ? { recordIndex, recordCount: records.length } : {}),
			...(settings.answerSchema ? { answerSchema: settings.answerSchema } : {}),
		});
		return { output: needsReview ? OUTPUT_REVIEW : OUTPUT_EXTRACTED, result };
	});
}
