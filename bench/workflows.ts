/**
 * The benchmark workflows: Manual Trigger → Set (the inputs as one JSON array) → Split Out → the node under
 * test. Ours: AI Classify / AI Extract on the governedAiOpenAiApi credential. n8n's: Text Classifier /
 * Information Extractor with the OpenAI Chat Model sub-node on n8n's own openAiApi credential. Both
 * credentials point at the same local provider server.
 */
import { randomUUID } from 'node:crypto';

import { CATEGORIES, INVOICE_FIELDS } from './data';

export const MODEL = 'gpt-4.1-mini';
export const CREDENTIALS = {
	ours: { id: 'benchGovernedAi1', name: 'Bench provider (governed AI)', type: 'governedAiOpenAiApi' },
	n8n: { id: 'benchOpenAiApi01', name: 'Bench provider (n8n OpenAI)', type: 'openAiApi' },
};

/** The name of the node whose run is timed in each workflow. */
export const NODE_UNDER_TEST = {
	aiClassify: 'AI Classify',
	aiClassifyChatModel: 'AI Classify (Chat Model)',
	textClassifier: 'Text Classifier',
	aiExtract: 'AI Extract',
	informationExtractor: 'Information Extractor',
	/** n8n's own Edit Fields node adding one field to every item: what n8n itself costs for a run of N items */
	noop: 'Edit Fields',
} as const;
export type Side = keyof typeof NODE_UNDER_TEST;

function node(name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) {
	return { id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters, ...extra };
}

/** Trigger → Set → Split Out, ending in the node named `last`. */
function inputs(records: object[], last: string) {
	return {
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Inputs', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ records }), options: {} }),
			node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'records', options: {} }),
		],
		connections: {
			Start: { main: [[{ node: 'Inputs', type: 'main', index: 0 }]] },
			Inputs: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: { main: [[{ node: last, type: 'main', index: 0 }]] },
		},
	};
}

/** The OpenAI Chat Model sub-node. Chat Completions (as our nodes use), not the Responses API the 1.3 default picks. */
function chatModel(root: string) {
	return {
		node: node(
			'OpenAI Chat Model',
			'@n8n/n8n-nodes-langchain.lmChatOpenAi',
			1.3,
			{ model: { __rl: true, mode: 'id', value: MODEL }, responsesApiEnabled: false, options: {} },
			{ credentials: { openAiApi: { id: CREDENTIALS.n8n.id, name: CREDENTIALS.n8n.name } } },
		),
		connection: { 'OpenAI Chat Model': { ai_languageModel: [[{ node: root, type: 'ai_languageModel', index: 0 }]] } },
	};
}

const oursCredentials = { governedAiOpenAiApi: { id: CREDENTIALS.ours.id, name: CREDENTIALS.ours.name } };

/**
 * `concurrency` undefined: every option at its default. Otherwise ours sets Options → Concurrency and n8n's
 * sets Options → Batch Processing → Batch Size (its way of running items in parallel).
 */
export interface WorkflowExtras {
	/** our node's typeVersion (1 unless given: the figures above were measured on version 1) */
	typeVersion?: number;
	/** the node under test continues on fail (n8n's node then delivers what it can instead of stopping the run) */
	continueOnFail?: boolean;
	/** AI Classify version 4: Options → Items per Request */
	itemsPerRequest?: number;
	/** more parameters of our node (e.g. the Result Cache's) */
	parameters?: Record<string, unknown>;
}

export function workflow(side: Side, records: object[], concurrency?: number, extras: WorkflowExtras = {}): object {
	const name = NODE_UNDER_TEST[side];
	const base = inputs(records, name);
	const oursOptions = {
		...(concurrency === undefined ? {} : { concurrency }),
		...(extras.itemsPerRequest === undefined ? {} : { itemsPerRequest: extras.itemsPerRequest }),
	};
	const n8nOptions = concurrency === undefined ? {} : { batching: { batchSize: concurrency } };
	let nodes: object[];
	let connections: Record<string, unknown> = base.connections;
	switch (side) {
		case 'aiClassify':
			nodes = [
				node(
					name,
					'n8n-nodes-governed-ai.aiClassify',
					extras.typeVersion ?? 1,
					{
						provider: 'openai',
						model: MODEL,
						text: '={{ $json.text }}',
						categories: { category: CATEGORIES.map((c) => ({ name: c.name, description: c.description })) },
						options: oursOptions,
						...extras.parameters,
					},
					{ credentials: oursCredentials },
				),
			];
			break;
		case 'aiClassifyChatModel': {
			// version 3 on n8n's OpenAI Chat Model sub-node (the same one Text Classifier gets), n8n's openAiApi credential
			const model = chatModel(name);
			nodes = [
				node(name, 'n8n-nodes-governed-ai.aiClassify', 3, {
					provider: 'chatModel',
					text: '={{ $json.text }}',
					categories: { category: CATEGORIES.map((c) => ({ name: c.name, description: c.description })) },
					options: oursOptions,
				}),
				model.node,
			];
			connections = { ...connections, ...model.connection };
			break;
		}
		case 'aiExtract':
			nodes = [
				node(
					name,
					'n8n-nodes-governed-ai.aiExtract',
					1,
					{
						provider: 'openai',
						model: MODEL,
						text: '={{ $json.text }}',
						schemaSource: 'fields',
						fields: { field: INVOICE_FIELDS.map((f) => ({ ...f })) },
						options: oursOptions,
					},
					{ credentials: oursCredentials },
				),
			];
			break;
		case 'noop':
			nodes = [
				node(name, 'n8n-nodes-base.set', 3.4, {
					mode: 'manual',
					assignments: { assignments: [{ id: randomUUID(), name: 'checked', value: true, type: 'boolean' }] },
					includeOtherFields: true,
					options: {},
				}),
			];
			break;
		case 'textClassifier': {
			const model = chatModel(name);
			nodes = [
				node(name, '@n8n/n8n-nodes-langchain.textClassifier', 1.1, {
					inputText: '={{ $json.text }}',
					categories: { categories: CATEGORIES.map((c) => ({ category: c.name, description: c.description })) },
					options: n8nOptions,
				}),
				model.node,
			];
			connections = { ...connections, ...model.connection };
			break;
		}
		case 'informationExtractor': {
			const model = chatModel(name);
			nodes = [
				node(name, '@n8n/n8n-nodes-langchain.informationExtractor', 1.2, {
					text: '={{ $json.text }}',
					schemaType: 'fromAttributes',
					attributes: { attributes: INVOICE_FIELDS.map((f) => ({ ...f })) },
					options: n8nOptions,
				}),
				model.node,
			];
			connections = { ...connections, ...model.connection };
			break;
		}
	}
	if (extras.continueOnFail) {
		const underTest = nodes[0] as Record<string, unknown>;
		underTest.onError = 'continueRegularOutput';
	}
	return {
		name: `bench ${name} ${records.length}${concurrency === undefined ? ' defaults' : ` c${concurrency}`}`,
		nodes: [...base.nodes, ...nodes],
		connections,
		settings: { executionOrder: 'v1' },
	};
}
