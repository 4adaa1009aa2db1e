import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { runAiStep } from '../../shared/aiStep';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { versionDescription } from './description';
import { extractItem, OUTPUT_REVIEW } from './extractItem';
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

export class AiExtract implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const schemas = new Map<string, RecordSchema>();
		return await runAiStep(this, {
			step: 'extract',
			defaultKey: 'extract',
			outputCount: 2,
			reviewOutput: OUTPUT_REVIEW,
			process: async (item) => {
				const { fields, jsonSchema } = readSchema(this, item.itemIndex, schemas);
				return await extractItem(item, {
					text: this.getNodeParameter('text', item.itemIndex),
					fields,
					answerSchema: jsonSchema,
					many: this.getNodeParameter('records', item.itemIndex, 'one') === 'many',
					instructions: this.getNodeParameter('instructions', item.itemIndex, '') as string,
					threshold: this.getNodeParameter('threshold', item.itemIndex, 0.5) as number,
					unsupportedToReview: this.getNodeParameter('unsupportedToReview', item.itemIndex, true) as boolean,
					truncate: this.getNodeParameter('options.truncate', item.itemIndex, false) as boolean,
				});
			},
			answerSchema: (itemIndex) => readSchema(this, itemIndex, schemas).jsonSchema,
		});
	}
}

/** The record's fields and its JSON Schema (the shape of `answer`, published for corrections downstream). */
interface RecordSchema {
	fields: ExtractField[];
	jsonSchema: JsonSchema;
}

/** Reads the record's description for one item; items whose description is the same share one (per run). */
function readSchema(ctx: IExecuteFunctions, itemIndex: number, memo: Map<string, RecordSchema>): RecordSchema {
	const source = ctx.getNodeParameter('schemaSource', itemIndex, 'fields') as string;
	try {
		const raw =
			source === 'jsonSchema'
				? ctx.getNodeParameter('jsonSchema', itemIndex)
				: source === 'example'
					? ctx.getNodeParameter('example', itemIndex)
					: ((ctx.getNodeParameter('fields.field', itemIndex, []) as Array<Record<string, unknown>>) ?? []);
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
		if (error instanceof SchemaInputError) {
			throw new NodeOperationError(ctx.getNode(), error.message, {
				itemIndex,
				description: error.keyword
					? `Remove or rewrite "${error.keyword}" at ${error.path}. The supported keywords are listed in the JSON Schema parameter's description.`
					: undefined,
			});
		}
		throw error;
	}
}
