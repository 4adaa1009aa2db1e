/** What the editor shows of AI Classify: provider, text, categories, confidence, threshold, routing and options; one output per category. */
import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

import { aiInputs, aiOptionsProperty, itemsPerRequestOption, providerProperties, resultKeyProperty } from '../../shared/node/aiProperties';
import { correctionsProperties } from '../../shared/node/correctionsProperties';
import { aiCredentialsWithStores, resultCacheProperties } from '../../shared/node/resultCacheProperties';
import { changedAtVersion, outputsFrom } from '../../shared/node/versions';

/** One output per category plus "Needs Review", or a single output. Runs in the editor: self-contained. */
const configuredOutputs = (parameters: { categories?: { category?: Array<{ name?: string }> }; routing?: string }) => {
	if (parameters.routing === 'single') return [{ type: 'main', displayName: 'Classified' }];
	const categories = parameters.categories?.category ?? [];
	return [
		...categories.map((c, i) => ({ type: 'main', displayName: c.name || `Category ${i + 1}` })),
		{ type: 'main', displayName: 'Needs Review' },
	];
};

/** From version 2 an empty list is flagged in the editor (n8n's minRequiredFields) and stops a run before it starts. */
const categories: INodeProperties = {
	displayName: 'Categories',
	name: 'categories',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Category',
	default: {},
	description: 'The labels the model may choose from. Nothing outside this list ever leaves the node.',
	options: [
		{
			displayName: 'Category',
			name: 'category',
			values: [
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					required: true,
					description: 'The label, e.g. billing. Also the name of its output.',
				},
				{
					displayName: 'Description',
					name: 'description',
					type: 'string',
					default: '',
					description: 'What belongs here, in one line. The model reads this.',
				},
				{
					displayName: 'Examples',
					name: 'examples',
					type: 'string',
					default: '',
					description: 'Optional short examples, one per line',
				},
			],
		},
	],
};

export const versionDescription: INodeTypeDescription = {
	displayName: 'AI Classify',
	name: 'aiClassify',
	icon: { light: 'file:aiClassify.svg', dark: 'file:aiClassify.dark.svg' },
	group: ['transform'],
	version: [1, 2, 3, 4],
	subtitle: '={{ ($parameter["categories"]?.category ?? []).length + " categories · " + ($parameter["provider"] === "chatModel" ? "Chat Model" : $parameter[$parameter["provider"] + "Model"] ?? $parameter["model"]) }}',
	description: 'Label each item with one of your categories, with a real confidence, a reason and evidence',
	defaults: { name: 'AI Classify' },
	inputs: aiInputs,
	outputs: outputsFrom(configuredOutputs),
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
			description: 'The text to classify, usually an expression that reads a field of the incoming item',
		},
		...changedAtVersion(2, categories, { typeOptions: { ...categories.typeOptions, minRequiredFields: 1 } }),
		{
			displayName: 'Allow Several Labels',
			name: 'multiLabel',
			type: 'boolean',
			default: false,
			description: 'Whether an item may get several labels, each with its own score (it then leaves on each label\'s output)',
		},
		{
			displayName: 'Confidence Method',
			name: 'confidenceMethod',
			type: 'options',
			options: [
				{
					name: 'Auto',
					value: 'auto',
					description: 'Log-probabilities where the provider gives them, else agreement across samples',
				},
				{
					name: 'Log-Probabilities',
					value: 'logprobs',
					description: 'Probability of the tokens that spell the label (OpenAI-compatible servers)',
				},
				{
					name: 'Agreement Across Samples',
					value: 'k-sample',
					description: 'Ask several times; the share of answers that agree (any provider, costs more)',
				},
				{
					name: 'Model Estimate',
					value: 'model-estimate',
					description: 'The model rates itself: cheapest and least reliable',
				},
			],
			default: 'auto',
			description: 'How the confidence is measured. The method is recorded on every result.',
		},
		{
			displayName: 'Samples',
			name: 'samples',
			type: 'number',
			typeOptions: { minValue: 2, maxValue: 10 },
			default: 5,
			displayOptions: { show: { confidenceMethod: ['auto', 'k-sample'] } },
			description: 'How many answers to compare for agreement',
		},
		{
			displayName: 'Review Threshold',
			name: 'threshold',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
			default: 0.7,
			description: 'Items whose confidence is below this go to Needs Review',
		},
		{
			displayName: 'Routing',
			name: 'routing',
			type: 'options',
			options: [
				{ name: 'One Output per Category', value: 'byCategory', description: 'Plus a Needs Review output' },
				{ name: 'Single Output', value: 'single', description: 'All items leave on one output; read ai.classify' },
			],
			default: 'byCategory',
			description: 'Where items leave the node',
		},
		{
			displayName: 'Extra Instructions',
			name: 'instructions',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '',
			description: 'Anything the model should know, e.g. "Tickets mentioning a chargeback are billing"',
		},
		// version 3: few-shot examples from the corrections people made
		...correctionsProperties('classify'),
		// version 4: answers kept for re-runs
		...resultCacheProperties('classify'),
		resultKeyProperty('classify'),
		aiOptionsProperty([
			// version 4: several items in one request
			itemsPerRequestOption(4),
		]),
	],
};
