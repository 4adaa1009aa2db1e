import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { latestAiResult } from '../../shared/contract';
import { GATE_OUTPUTS, gateItem, type GateSettings, type Thresholds } from './gateItem';

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
				description: 'Stricter or looser bands for particular labels or actions',
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
		const items = this.getInputData();
		const outputs: INodeExecutionData[][] = [[], [], []];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const item = items[itemIndex];
			try {
				const source = this.getNodeParameter('source', itemIndex, 'latest') as string;
				let confidence: number | null;
				let label: string | null = null;
				let sourceName = 'expression';
				const found =
					source === 'expression'
						? undefined
						: latestAiResult(item.json, source === 'key' ? (this.getNodeParameter('resultKey', itemIndex) as string) : undefined);
				if (source === 'expression') {
					const value = this.getNodeParameter('confidence', itemIndex, null) as unknown;
					confidence = value === null || value === '' || value === undefined ? null : Number(value);
					if (confidence !== null && (Number.isNaN(confidence) || confidence < 0 || confidence > 1)) {
						throw new NodeOperationError(this.getNode(), `Confidence must be a number from 0 to 1, got ${JSON.stringify(value)}`, { itemIndex });
					}
					label = (this.getNodeParameter('label', itemIndex, '') as string) || null;
				} else {
					if (!found) {
						throw new NodeOperationError(this.getNode(), `Item ${itemIndex} has no AI result to gate`, {
							itemIndex,
							description: 'Place the gate after AI Classify, Extract or Decide, or set "Confidence From" to Expression.',
						});
					}
					confidence = found.result.confidence;
					const answer = found.result.answer as unknown;
					label = typeof answer === 'string' ? answer : null;
					sourceName = `ai.${found.key}`;
				}
				const settings: GateSettings = {
					mode: this.getNodeParameter('mode', itemIndex, 'autopilot') as GateSettings['mode'],
					thresholds: readThresholds(this, itemIndex),
					perLabel: Object.fromEntries(
						((this.getNodeParameter('perLabel.label', itemIndex, []) as Array<{ label: string; high: number; low: number }>) ?? []).map(
							(l) => [l.label, { high: Number(l.high), low: Number(l.low) }],
						),
					),
					sampleRate: (this.getNodeParameter('samplePercent', itemIndex, 0) as number) / 100,
				};
				const sampleKey =
					(this.getNodeParameter('sampleKey', itemIndex, '') as string) || found?.result.decisionId || `${itemIndex}`;
				const gate = gateItem({ confidence, label, source: sourceName, result: found?.result, sampleKey }, settings);
				outputs[GATE_OUTPUTS.indexOf(gate.band)].push({ json: { ...item.json, gate: gate as unknown as IDataObject }, binary: item.binary, pairedItem: { item: itemIndex } });
			} catch (error) {
				if (!this.continueOnFail()) throw error;
				const message = error instanceof Error ? error.message : String(error);
				// a failed item is never lost: it goes to Review with the reason
				outputs[1].push({
					json: { ...item.json, gate: { band: 'review', reason: `error: ${message}`, confidence: null } },
					error: error instanceof NodeOperationError ? error : new NodeOperationError(this.getNode(), message, { itemIndex }),
					pairedItem: { item: itemIndex },
				});
			}
		}
		return outputs;
	}
}

function readThresholds(ctx: IExecuteFunctions, itemIndex: number): Thresholds {
	const high = Number(ctx.getNodeParameter('high', itemIndex, 0.85));
	const low = Number(ctx.getNodeParameter('low', itemIndex, 0.4));
	if (!(low <= high)) {
		throw new NodeOperationError(ctx.getNode(), `"Reject Below" (${low}) must not be above "Auto at or Above" (${high})`, { itemIndex });
	}
	return { high, low };
}
