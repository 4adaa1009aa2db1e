/** What the editor shows of AI Extract: provider, text, the record's description, threshold and options. */
import { NodeConnectionTypes, type INodeProperties, type INodePropertyCollection, type INodeTypeDescription } from 'n8n-workflow';

import { aiInputs, aiOptionsProperty, providerProperties, resultKeyProperty } from '../../shared/node/aiProperties';
import { correctionsProperties } from '../../shared/node/correctionsProperties';
import { aiCredentialsWithStores, resultCacheProperties } from '../../shared/node/resultCacheProperties';
import { changedAtVersion } from '../../shared/node/versions';

const EXAMPLE_SCHEMA = JSON.stringify(
	{
		type: 'object',
		properties: {
			invoice_number: { type: 'string', description: "The supplier's invoice number" },
			total: { type: 'number', description: 'Amount due including tax' },
			currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] },
			due_date: { type: 'string', format: 'date' },
		},
		required: ['invoice_number', 'total'],
	},
	null,
	2,
);

/** Version 1's fields, in the alphabetical order lint asked for. */
const fieldsV1: INodeProperties = {
	displayName: 'Fields',
	name: 'fields',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Field',
	default: {},
	displayOptions: { show: { schemaSource: ['fields'] } },
	description: 'The fields of the record',
	options: [
		{
			displayName: 'Field',
			name: 'field',
			values: [
				{
					displayName: 'Allowed Values',
					name: 'values',
					type: 'string',
					default: '',
					displayOptions: { show: { type: ['enum'] } },
					placeholder: 'EUR, USD, GBP',
					description: 'Comma-separated values the field may take; nothing else is accepted',
				},
				{
					displayName: 'Description',
					name: 'description',
					type: 'string',
					default: '',
					description: 'What the field means, in one line. The model reads this.',
				},
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					required: true,
					description: 'The key in the output, e.g. invoice_number',
				},
				{
					displayName: 'Required',
					name: 'required',
					type: 'boolean',
					default: true,
					description: 'Whether an item without this field goes to Needs Review (listed in ai.extract.missing)',
				},
				{
					displayName: 'Type',
					name: 'type',
					type: 'options',
					options: [
						{ name: 'Boolean', value: 'boolean', description: 'True or false' },
						{ name: 'Date', value: 'date', description: 'A calendar date, given as YYYY-MM-DD' },
						{ name: 'Enum', value: 'enum', description: 'One of a fixed list of values' },
						{ name: 'Integer', value: 'integer', description: 'A whole number' },
						{ name: 'List', value: 'list', description: 'A list of text values' },
						{ name: 'Number', value: 'number', description: 'A number; separators and decimal commas are normalised' },
						{ name: 'String', value: 'string', description: 'Text' },
					],
					default: 'string',
					description: 'The type of the value',
				},
			],
		},
	],
};

/** The fields from version 2: in the order a person describes one (its Type before the Allowed Values it enables); an empty list is flagged. */
const fieldValues = (fieldsV1.options![0] as INodePropertyCollection).values;
const fieldValue = (name: string) => fieldValues.find((value) => value.name === name)!;
const fieldsV2: Partial<INodeProperties> = {
	typeOptions: { ...fieldsV1.typeOptions, minRequiredFields: 1 },
	options: [
		{
			displayName: 'Field',
			name: 'field',
			// a person names a field, says its type, then its allowed values, meaning and whether it must be there
			values: ['name', 'type', 'values', 'description', 'required'].map(fieldValue),
		},
	],
};

export const versionDescription: INodeTypeDescription = {
	displayName: 'AI Extract',
	name: 'aiExtract',
	icon: { light: 'file:aiExtract.svg', dark: 'file:aiExtract.dark.svg' },
	group: ['transform'],
	version: [1, 2, 3, 4],
	subtitle: '={{ ($parameter["schemaSource"] === "fields" ? ($parameter["fields"]?.field ?? []).length + " fields" : $parameter["schemaSource"] === "jsonSchema" ? "JSON Schema" : "from example") + " · " + ($parameter["provider"] === "chatModel" ? "Chat Model" : $parameter[$parameter["provider"] + "Model"] ?? $parameter["model"]) }}',
	description: 'Pull a validated record out of unstructured text, with a source quote checked for every field',
	defaults: { name: 'AI Extract' },
	inputs: aiInputs,
	outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
	outputNames: ['Extracted', 'Needs Review'],
	credentials: aiCredentialsWithStores,
	properties: [
		...providerProperties,
		{
			displayName: 'Text',
			name: 'text',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '={{ $json.text }}',
			required: true,
			description: 'The text to extract from, usually an expression that reads a field of the incoming item, such as the e-mail body',
		},
		{
			displayName: 'Describe the Record By',
			name: 'schemaSource',
			type: 'options',
			options: [
				{ name: 'Field List', value: 'fields', description: 'Name, type and description of each field' },
				{ name: 'JSON Schema', value: 'jsonSchema', description: 'Paste a JSON Schema (unsupported keywords fail with a clear error)' },
				{ name: 'Example JSON', value: 'example', description: 'An example record; its field types are inferred and every field is required' },
			],
			default: 'fields',
			description: 'How you describe the fields to extract',
		},
		...changedAtVersion(2, fieldsV1, fieldsV2),
		{
			displayName: 'JSON Schema',
			name: 'jsonSchema',
			type: 'json',
			default: EXAMPLE_SCHEMA,
			displayOptions: { show: { schemaSource: ['jsonSchema'] } },
			description:
				'A JSON Schema whose top level is an object; each property is a field. Supported: type, properties, required, items, enum, const, anyOf, local $ref, string/number/array limits, format date/date-time/time/email/uri/uuid.',
		},
		{
			displayName: 'Example JSON',
			name: 'example',
			type: 'json',
			default: '{\n  "invoice_number": "INV-001",\n  "total": 120.5,\n  "due_date": "2024-03-31"\n}',
			displayOptions: { show: { schemaSource: ['example'] } },
			description: 'An example record. Strings like 2024-03-31 become dates; lists take the type of their first element.',
		},
		{
			displayName: 'Records per Item',
			name: 'records',
			type: 'options',
			options: [
				{ name: 'One Record', value: 'one', description: 'One record per input item' },
				{
					name: 'Many Records',
					value: 'many',
					description: 'Every record in the text (e.g. line items), one output item each, paired to its input item',
				},
			],
			default: 'one',
			description: 'Whether each text holds one record or several',
		},
		{
			displayName: 'Review Threshold',
			name: 'threshold',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
			default: 0.5,
			description:
				'Records whose overall confidence (lowest over the required fields) is below this go to Needs Review',
		},
		{
			displayName: 'Send Unsupported Values to Review',
			name: 'unsupportedToReview',
			type: 'boolean',
			default: true,
			description:
				'Whether a record with a value its quote does not support (quote not in the text, or value not in the quote) goes to Needs Review',
		},
		{
			displayName: 'Extra Instructions',
			name: 'instructions',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '',
			description: 'Anything the model should know, e.g. "The supplier is the company that sends the invoice"',
		},
		// version 3: few-shot examples from the corrections people made
		...correctionsProperties('extract'),
		// version 4: answers kept for re-runs
		...resultCacheProperties('extract'),
		resultKeyProperty('extract'),
		aiOptionsProperty([
			{
				displayName: 'Truncate Long Text',
				name: 'truncate',
				type: 'boolean',
				default: false,
				description:
					'Whether text above Max Input Characters is cut to the limit (and the result flagged truncated: true) instead of failing the item',
			},
		]),
	],
};
