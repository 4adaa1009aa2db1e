/**
 * Parameters every AI node shares: provider, credential, model, and the Options collection (throughput,
 * retries, timeout, temperature, redaction, price override). Described once here, used by all three nodes.
 */
import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

import { MAX_ITEMS_PER_REQUEST } from '../batch/severalItems';
import { DEFAULT_MODELS } from '../providers';
import { REDACTION_KINDS } from '../redact';
import { changedAtVersion, changedListAtVersion, fromVersion } from './versions';

/** The Provider value (version 3) that uses the Chat Model sub-node connected to the node. */
export const CHAT_MODEL = 'chatModel';

/**
 * Each credential is shown for its provider through `hide` rather than `show` on purpose. n8n's editor takes a
 * parameter that every credential's `displayOptions.show` depends on for the node's "main auth field"
 * (editor-ui nodeTypesUtils getMainAuthField / findAlternativeAuthField): it then hides that parameter from the
 * panel, offers one credential list mixing both types, picks the most recent credential of either type and
 * writes the matching provider into the node, leaving Model as it was. With `hide`, Provider stays a visible
 * parameter and the credential list follows it; n8n's engine reads `hide` the same way, so nothing runs differently.
 */
export const aiCredentials: INodeCredentialDescription[] = [
	{
		name: 'governedAiAnthropicApi',
		required: true,
		displayOptions: { hide: { provider: ['openai', CHAT_MODEL], credentialSource: ['n8n'] } },
	},
	{
		name: 'governedAiOpenAiApi',
		required: true,
		displayOptions: { hide: { provider: ['anthropic', CHAT_MODEL], credentialSource: ['n8n'] } },
	},
	// version 3: n8n's own credentials, when Credential is "n8n's Own" (before version 3 there is no such choice)
	{
		name: 'anthropicApi',
		required: true,
		displayOptions: {
			hide: { provider: ['openai', CHAT_MODEL], credentialSource: ['governedAi'], '@version': [1, 2] },
		},
	},
	{
		name: 'openAiApi',
		required: true,
		displayOptions: {
			hide: { provider: ['anthropic', CHAT_MODEL], credentialSource: ['governedAi'], '@version': [1, 2] },
		},
	},
];

/** The parameter that holds the model: one per provider from version 2 on, one shared `model` before. */
export function modelParameter(provider: string, version: number): string {
	return version >= 2 ? `${provider}Model` : 'model';
}

const anthropicModel: INodeProperties = {
	displayName: 'Model',
	name: 'model',
	type: 'string',
	default: DEFAULT_MODELS.anthropic,
	displayOptions: { show: { provider: ['anthropic'] } },
	description: 'The Anthropic model ID, e.g. claude-haiku-4-5 or claude-sonnet-4-5',
};

const openaiModel: INodeProperties = {
	displayName: 'Model',
	name: 'model',
	type: 'string',
	default: DEFAULT_MODELS.openai,
	displayOptions: { show: { provider: ['openai'] } },
	description: 'The model ID, e.g. gpt-4.1-mini, or the model name your compatible server serves',
};

const provider: INodeProperties = {
	displayName: 'Provider',
	name: 'provider',
	type: 'options',
	options: [
		{ name: 'Anthropic', value: 'anthropic', description: 'Claude models through the Anthropic API' },
		{
			name: 'OpenAI or Compatible',
			value: 'openai',
			description: 'OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio (set the base URL on the credential)',
		},
	],
	default: 'openai',
	description: 'Which model provider answers',
};

export const providerProperties: INodeProperties[] = [
	// Version 3: a Chat Model sub-node connected to the node (any model n8n has a Chat Model for) can answer instead
	...changedAtVersion(3, provider, {
		options: [
			{ name: 'Anthropic', value: 'anthropic', description: 'Claude models through the Anthropic API' },
			{
				name: 'Connected Chat Model',
				value: CHAT_MODEL,
				description: "The Chat Model sub-node connected to this node: OpenAI, Anthropic, Gemini, Bedrock, Ollama, … with the model's own credential",
			},
			{
				name: 'OpenAI or Compatible',
				value: 'openai',
				description: 'OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio (set the base URL on the credential)',
			},
		],
		description: 'Which model answers: a provider through its official SDK, or the Chat Model sub-node connected to this node',
	}),
	fromVersion(3, {
		displayName: 'Credential',
		name: 'credentialSource',
		type: 'options',
		options: [
			{
				name: 'Governed AI Credential',
				value: 'governedAi',
				description: "This package's own credential for the provider",
			},
			{
				name: "N8n's Own Credential",
				value: 'n8n',
				description: "The OpenAI or Anthropic credential you already use with n8n's own AI nodes (its base URL included)",
			},
		],
		default: 'governedAi',
		displayOptions: { show: { provider: ['anthropic', 'openai'] } },
		description: 'Which credential holds the API key',
	}),
	// Version 1: both providers' models share the name `model`. The editor keeps a value by its name when the
	// provider changes, so switching providers kept the other provider's model. From version 2 each provider
	// has its own parameter, and its default is always that provider's.
	...changedListAtVersion(
		2,
		[anthropicModel, openaiModel],
		[
			{ ...anthropicModel, name: modelParameter('anthropic', 2) },
			{ ...openaiModel, name: modelParameter('openai', 2) },
		],
	),
];

export function resultKeyProperty(defaultKey: string): INodeProperties {
	return {
		displayName: 'Result Key',
		name: 'resultKey',
		type: 'string',
		default: defaultKey,
		description: `The result is added to each item under ai.${defaultKey} by default. Rename it to keep two ${defaultKey} steps apart.`,
	};
}

/** The shared options; a node may add its own entries. */
export function aiOptionsProperty(extra: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			...extra,
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 5,
				description: 'How many requests to the provider may be in flight at once for this node',
			},
			{
				displayName: 'Input Price per Million Tokens (USD)',
				name: 'inputPrice',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 4 },
				default: 0,
				description: 'Overrides the built-in price table for cost estimates. 0 uses the table.',
			},
			{
				displayName: 'Max Input Characters',
				name: 'maxInputChars',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 100000,
				description: 'Longer text fails the item with a clear error rather than being cut silently',
			},
			{
				displayName: 'Max Re-Asks',
				name: 'reasks',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 2,
				description: 'How often an invalid answer is sent back to the model with the validation errors',
			},
			{
				displayName: 'Max Retries',
				name: 'retries',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description:
					'Retries of rate-limit (429), server (5xx), timeout and connection errors per request, with backoff that honours retry-after',
			},
			{
				displayName: 'Output Price per Million Tokens (USD)',
				name: 'outputPrice',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 4 },
				default: 0,
				description: 'Overrides the built-in price table for cost estimates. 0 uses the table.',
			},
			{
				displayName: 'Redact Before Sending',
				name: 'redact',
				type: 'multiOptions',
				options: REDACTION_KINDS.map((kind) => ({
					name: { email: 'E-Mail Addresses', phone: 'Phone Numbers', card: 'Card Numbers', iban: 'IBANs', account: 'Account Numbers' }[kind],
					value: kind,
				})),
				default: [],
				description: 'Replace these kinds of data with placeholders before the text leaves for the model',
			},
			{
				displayName: 'Temperature',
				name: 'temperature',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
				default: 0,
				description: 'Sampling temperature. K-sample confidence raises it to at least 0.7 for the extra samples to differ.',
			},
			{
				displayName: 'Timeout (Seconds)',
				name: 'timeoutSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 60,
				description: 'Time limit for one request to the provider; a timed-out request is retried',
			},
		],
	};
}

/**
 * The node's inputs: Main, and from version 3 with Provider "Connected Chat Model" a Chat Model input (n8n's
 * `ai_languageModel`, as on n8n's Text Classifier). Computed like `outputsFrom`, so a version 1–2 node keeps its
 * one input. n8n evaluates it in the editor and in the engine from the function's text: it must be self-contained.
 */
const configuredInputs = (parameters: { provider?: string }, version: number) =>
	version >= 3 && parameters.provider === 'chatModel'
		? ['main', { type: 'ai_languageModel', displayName: 'Chat Model', maxConnections: 1, required: true }]
		: ['main'];

export const aiInputs = `={{(${configuredInputs})($parameter, $nodeVersion)}}` as const;

/** Options → "Items per Request" (AI Classify from version 4; shared/batch/severalItems.ts does the work). */
export function itemsPerRequestOption(version: number): INodeProperties {
	return fromVersion(version, {
		displayName: 'Items per Request',
		name: 'itemsPerRequest',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_ITEMS_PER_REQUEST },
		default: 1,
		description:
			'How many items to ask about in one request. More items per request cost fewer prompt tokens and requests; each item is still answered on its own, by its own ID, and one whose answer is missing or invalid is asked again alone. 1 asks one item per request.',
	});
}
