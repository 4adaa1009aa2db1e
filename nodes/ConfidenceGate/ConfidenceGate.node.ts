import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { executeGate } from './execute';

export class ConfidenceGate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Confidence Gate',
		name: 'confidenceGate',
		icon: { light: 'file:confidenceGate.svg', dark: 'file:confidenceGate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["mode"] === "assist" ? "assist: all to review" : "auto ≥ " + $parameter["high"] + " · reject < " + $parameter["low"] }}',
		description: 'Route items by the confidence of an AI step: Auto, Review or Reject, with a random audit sample',
		defaults: { name: 'Confidence Gate' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Auto', 'Review', 'Reject'],
		properties: [
			{
				displayName: 'Confidence From',
				name: 'source',
				type: 'options',
				options: [
					{ name: 'Latest AI Result', value: 'latest', description: 'The most recent AI Classify, Extract or Decide result on the item' },
					{ name: 'AI Result by Key', value: 'key', description: 'A named result, e.g. classify when two AI steps ran' },
					{ name: 'Expression', value: 'expression', description: 'Any number from 0 to 1' },
				],
				default: 'latest',
				description: 'Where the confidence comes from',
			},
			{
				displayName: 'Result Key',
				name: 'resultKey',
				type: 'string',
				default: 'classify',
				displayOptions: { show: { source: ['key'] } },
				description: 'The name of the AI result to read, e.g. classify for ai.classify',
			},
			{
				displayName: 'Confidence',
				name: 'confidence',
				type: 'number',
				default: 0,
				displayOptions: { show: { source: ['expression'] } },
				description: 'An expression giving the confidence from 0 to 1; an empty value goes to Review',
			},
			{
				displayName: 'Label',
				name: 'label',
				type: 'string',
				default: '',
				displayOptions: { show: { source: ['expression'] } },
				description: 'Optional label, used to pick per-label thresholds',
			},
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				options: [
					{ name: 'Autopilot', value: 'autopilot', description: 'Route by the bands below' },
					{ name: 'Assist', value: 'assist', description: 'Every item to Review with the AI result attached: a person approves everything' },
				],
				default: 'autopilot',
				description: 'Assist is the pilot stage; switch to Autopilot once the review numbers justify it',
			},
			{
				displayName: 'Auto at or Above',
				name: 'high',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.85,
				description: 'Items with at least this confidence go to Auto',
			},
			{
				displayName: 'Reject Below',
				name: 'low',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.4,
				description: 'Items below this confidence go to Reject; those in between go to Review',
			},
			{
				displayName: 'Per-Label Thresholds',
				name: 'perLabel',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				placeholder: 'Add Label Threshold',
				default: {},
				description: 'Stricter or looser bands for particular labels or actions. An item with several labels (AI Classify with Multiple Labels) holds each label\'s confidence to that label\'s thresholds and goes to the most cautious band any of its labels reaches: Reject before Review before Auto.',
				options: [
					{
						displayName: 'Label',
						name: 'label',
						values: [
							{ displayName: 'Label', name: 'label', type: 'string', default: '', description: 'The label or action, e.g. refund' },
							{ displayName: 'Auto at or Above', name: 'high', type: 'number', default: 0.95, description: 'Auto threshold for this label' },
							{ displayName: 'Reject Below', name: 'low', type: 'number', default: 0.4, description: 'Reject threshold for this label' },
						],
					},
				],
			},
			{
				displayName: 'Audit Sample (%)',
				name: 'samplePercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 1 },
				default: 0,
				description: 'Share of Auto items sent to Review anyway, so a person keeps checking the confident ones. The choice is deterministic: a re-run samples the same items.',
			},
			{
				displayName: 'Sample Key',
				name: 'sampleKey',
				type: 'string',
				default: '',
				description: 'What the audit sample is drawn from. Empty uses the decision ID of the AI result.',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeGate.call(this);
	}
}
