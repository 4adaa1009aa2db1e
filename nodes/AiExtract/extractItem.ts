/**
 * AI Extract's run: the record's schema and the prompt are prepared once per run (per distinct settings when
 * they come from expressions). Each item then goes through: ask for the record(s) with a verbatim quote and an
 * estimate per field, check every value against its quote and the text, list missing required fields, score
 * confidence, and pick the output. A value the text does not support is flagged and, by default, sent to Needs
 * Review.
 */
import { type INode, NodeOperationError } from 'n8n-workflow';

import type { AiRun, AiStepConfig, ItemContext, ItemOutcome } from '../../shared/aiStep';
import { clamp01 } from '../../shared/confidence';
import { emptyUsage } from '../../shared/cost';
import { correctionsLoader, type RunCorrections } from '../../shared/node/correctionsProperties';
import { perSettings } from '../../shared/node/parameters';
import { jsonSchemaToZod } from '../../shared/schema/jsonSchemaToZod';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { type Answer, toModelSchema } from '../../shared/structured';
import { openRunCache } from '../../shared/node/resultCacheProperties';
import { answerSchema, buildInstructions, type RecordAnswer } from './prompt';
import {
	type ExtractField,
	exampleToJsonSchema,
	type FieldRow,
	type FieldType,
	fieldsOf,
	fieldsToJsonSchema,
	parseJsonParameter,
	SchemaInputError,
} from './schema';
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
	answerSchema: JsonSchema;
}

/** The record's fields and its JSON Schema (the shape of `answer`, published for corrections downstream). */
interface RecordSchema {
	fields: ExtractField[];
	jsonSchema: JsonSchema;
}

interface PromptSettings {
	record: RecordSchema;
	many: boolean;
	instructions: string;
	/** version 3, Learn From Corrections: the examples block the instructions end with ('' without) */
	examples: string;
}

interface ExtractPrompt {
	instructions: string;
	schema: ReturnType<typeof answerSchema>;
	promptParts: Record<string, unknown>;
}

/** What AI Extract shares across a run's items: records and prompts, per distinct settings. */
export interface ExtractRun {
	recordSchema(itemIndex: number): RecordSchema;
	prompt(settings: PromptSettings): ExtractPrompt;
	/** version 3 with Learn From Corrections: the run's corrections, read once */
	corrections?: (itemIndex: number) => Promise<RunCorrections>;
}

const buildPrompt = ({ record, many, instructions: extra, examples }: PromptSettings): ExtractPrompt => {
	const base = buildInstructions(record.fields, many, extra);
	const instructions = examples ? `${base}\n${examples}` : base;
	const schema = answerSchema(record.fields, many);
	return { instructions, schema, promptParts: { step: 'extract', instructions, schema: toModelSchema(schema), many } };
};

export const extractStep: AiStepConfig<ExtractRun> = {
	step: 'extract',
	defaultKey: 'extract',
	outputCount: 2,
	reviewOutput: OUTPUT_REVIEW,
	// an answer that stays invalid fails the item, with an error naming the user's fields
	noValidAnswer: 'fail',
	// version 3: items with the same text and settings share one request (shared/aiStep.ts)
	reuseFromVersion: 3,
	// version 4: the Result Cache option (shared/node/resultCacheProperties.ts)
	resultCache: { fromVersion: 4, open: openRunCache },
	prepare(run) {
		const records = new Map<string, RecordSchema>();
		const recordSchema = (itemIndex: number) => readSchema(run, itemIndex, records);
		return {
			recordSchema,
			// the fields' zod types do not serialise: the record's JSON Schema stands for them
			prompt: perSettings(buildPrompt, ({ record, many, instructions, examples }) => JSON.stringify([record.jsonSchema, many, instructions, examples])),
			// a correction counts only when the person's record fits today's schema (one record per item only:
			// with Many, a corrected item holds one of several records of its text)
			corrections: correctionsLoader(
				run,
				{
					step: 'extract',
					accept: (() => {
						let check: ((answer: unknown) => boolean) | undefined;
						return (answer: unknown) => {
							if (run.param<string>('records', 0, 'one') === 'many') return undefined;
							check ??= (() => {
								const schema = jsonSchemaToZod(recordSchema(0).jsonSchema);
								return (value: unknown) => schema.safeParse(value).success;
							})();
							return typeof answer === 'object' && answer !== null && !Array.isArray(answer) && check(answer) ? answer : undefined;
						};
					})(),
				},
				'extract',
			),
		};
	},
	process: async (item, _input, run) => {
		const record = run.recordSchema(item.itemIndex);
		return await extractItem(
			item,
			{
				text: item.param('text'),
				fields: record.fields,
				answerSchema: record.jsonSchema,
				many: item.param<string>('records', 'one') === 'many',
				instructions: item.param<string>('instructions', ''),
				threshold: item.param<number>('threshold', 0.5),
				unsupportedToReview: item.param<boolean>('unsupportedToReview', true),
				truncate: item.param<boolean>('options.truncate', false),
			},
			run,
		);
	},
	answerSchema: (itemIndex, _run, prepared) => prepared.recordSchema(itemIndex).jsonSchema,
};

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

export async function extractItem(item: ItemContext, settings: ExtractSettings, run: ExtractRun): Promise<ItemOutcome[]> {
	const cut = cutIfAsked(settings.text, item.options.maxInputChars, settings.truncate);
	const text = item.prepareText(cut.value, 'Text');
	const corrections = run.corrections ? await run.corrections(item.itemIndex) : undefined;
	const { instructions, schema, promptParts } = run.prompt({
		record: { fields: settings.fields, jsonSchema: settings.answerSchema },
		many: settings.many,
		instructions: settings.instructions,
		examples: corrections?.block ?? '',
	});
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

	const names = new Set(settings.fields.map((f) => f.name));
	const answer: Answer<unknown> = await item.ask(request, schema, {
		promptParts,
		answerSchema: settings.answerSchema,
		// name the user's fields, not the answer's inner paths (records.0.total.value → total)
		fieldOf: (path) => path.split('.').find((part) => names.has(part)) ?? path,
	});

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
		result.answerSchema = settings.answerSchema;
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
			answerSchema: settings.answerSchema,
			...(corrections ? { corrections: corrections.used } : {}),
		});
		return { output: needsReview ? OUTPUT_REVIEW : OUTPUT_EXTRACTED, result };
	});
}

/** Reads the record's description for one item; items whose description is the same share one (per run). */
function readSchema({ ctx, param }: AiRun, itemIndex: number, memo: Map<string, RecordSchema>): RecordSchema {
	const source = param<string>('schemaSource', itemIndex, 'fields');
	try {
		const raw =
			source === 'jsonSchema'
				? param('jsonSchema', itemIndex)
				: source === 'example'
					? param('example', itemIndex)
					: (param<Array<Record<string, unknown>>>('fields.field', itemIndex, []) ?? []);
		const key = `${source}\u0000${JSON.stringify(raw)}`;
		const known = memo.get(key);
		if (known) return known;
		let jsonSchema: JsonSchema;
		if (source === 'jsonSchema') jsonSchema = parseJsonParameter(raw, 'The JSON Schema') as JsonSchema;
		else if (source === 'example') jsonSchema = exampleToJsonSchema(parseJsonParameter(raw, 'The example JSON'));
		else {
			const rows: FieldRow[] = (raw as Array<Record<string, unknown>>).map((r) => ({
				name: String(r.name ?? ''),
				// an unknown type is refused by fieldsToJsonSchema with the field's name
				type: String(r.type ?? 'string') as FieldType,
				description: String(r.description ?? ''),
				required: r.required === undefined ? true : Boolean(r.required),
				values: String(r.values ?? ''),
			}));
			jsonSchema = fieldsToJsonSchema(rows);
		}
		const schema = { fields: fieldsOf(jsonSchema), jsonSchema };
		memo.set(key, schema);
		return schema;
	} catch (error) {
		if (error instanceof SchemaInputError) throw schemaProblem(ctx.getNode(), itemIndex, error);
		throw error;
	}
}

function schemaProblem(node: INode, itemIndex: number, error: SchemaInputError): NodeOperationError {
	return new NodeOperationError(node, error.message, {
		itemIndex,
		description: error.keyword
			? `Remove or rewrite "${error.keyword}" at ${error.path}. The supported keywords are listed in the JSON Schema parameter's description.`
			: undefined,
	});
}
