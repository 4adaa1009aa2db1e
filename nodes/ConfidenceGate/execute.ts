/**
 * The Confidence Gate's run: for each item, find the confidence (latest AI result, a named one, or an
 * expression), choose the band with `gateItem`, and send the item to Auto, Review or Reject.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { isMultiLabel, labelScores, latestAiResult, type LabelScore } from '../../shared/contract';
import { failedItem } from '../../shared/failedItem';
import { earnedRunFor, gateTrustOf, latestRecommendationFor, type EarnedCache, type SummaryCache } from './earned';
import { GATE_OUTPUTS, gateItem, type GateSettings, type GateTrust, type Thresholds } from './gateItem';
import { THRESHOLDS_FROM, type ThresholdsFrom } from './recommended';
import { trustLabel } from './trust';

export async function executeGate(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const outputs: INodeExecutionData[][] = [[], [], []];
	// Earned mode: the audit store is read once per run (per store and settings), here and nowhere else
	const earned: EarnedCache = new Map();
	// Latest Recommendation outside Earned mode: the same kind of read, once per run and store
	const summaries: SummaryCache = new Map();
	const version = this.getNode().typeVersion;
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		const item = items[itemIndex];
		try {
			const source = this.getNodeParameter('source', itemIndex, 'latest') as string;
			let confidence: number | null;
			let label: string | null = null;
			let labels: LabelScore[] | undefined;
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
				// one label (a category or an action) picks its thresholds; several are each held to their own
				const scored = labelScores(found.result);
				if (isMultiLabel(found.result)) labels = scored;
				else label = scored[0]?.label ?? null;
				sourceName = `ai.${found.key}`;
			}
			const mode = this.getNodeParameter('mode', itemIndex, 'autopilot') as GateSettings['mode'];
			const settings: GateSettings = {
				mode,
				thresholds: readThresholds(this, itemIndex),
				perLabel: Object.fromEntries(
					((this.getNodeParameter('perLabel.label', itemIndex, []) as Array<{ label: string; high: number; low: number }>) ?? []).map(
						(l) => [l.label, { high: Number(l.high), low: Number(l.low) }],
					),
				),
				sampleRate: Number(this.getNodeParameter(mode === 'earned' ? 'auditPercent' : 'samplePercent', itemIndex, 0)) / 100,
			};
			if (version >= 3) {
				const from = this.getNodeParameter('thresholdsFrom', itemIndex, 'typed') as ThresholdsFrom;
				if (!(THRESHOLDS_FROM as readonly string[]).includes(from)) {
					throw new NodeOperationError(this.getNode(), `"Thresholds From" must be Typed Numbers or Latest Recommendation, got ${JSON.stringify(from)}`, {
						itemIndex,
					});
				}
				settings.thresholdsFrom = from;
				if (from === 'recommendation') {
					settings.recommendation = await latestRecommendationFor(this, itemIndex, mode === 'earned' ? earned : null, summaries);
				}
			}
			let trust: GateTrust | undefined;
			if (mode === 'earned') {
				if (!(settings.sampleRate > 0 && settings.sampleRate <= 1)) {
					throw new NodeOperationError(this.getNode(), 'Earned mode needs an Audit Sample above 0 %: the sampled audits are what can step a label back', {
						itemIndex,
					});
				}
				trust = gateTrustOf(await earnedRunFor(this, itemIndex, earned), trustLabel(label, labels));
			}
			const sampleKey =
				(this.getNodeParameter('sampleKey', itemIndex, '') as string) || found?.result.decisionId || `${itemIndex}`;
			const gate = gateItem({ confidence, label, labels, source: sourceName, result: found?.result, sampleKey, trust }, settings);
			outputs[GATE_OUTPUTS.indexOf(gate.band)].push({ json: { ...item.json, gate: gate as unknown as IDataObject }, binary: item.binary, pairedItem: { item: itemIndex } });
		} catch (error) {
			if (!this.continueOnFail()) throw error;
			const nodeError = error instanceof NodeOperationError ? error : new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			// a failed item is never lost: it goes to Review, whole, with the reason
			outputs[1].push(
				failedItem(
					this,
					{
						json: { ...item.json, gate: { band: 'review', reason: `error: ${nodeError.message}`, confidence: null, error: nodeError.message } },
						binary: item.binary,
						pairedItem: { item: itemIndex },
					},
					nodeError,
				),
			);
		}
	}
	return outputs;
}

function readThresholds(ctx: IExecuteFunctions, itemIndex: number): Thresholds {
	const high = Number(ctx.getNodeParameter('high', itemIndex, 0.85));
	const low = Number(ctx.getNodeParameter('low', itemIndex, 0.4));
	if (!(low <= high)) {
		throw new NodeOperationError(ctx.getNode(), `"Reject Below" (${low}) must not be above "Auto at or Above" (${high})`, { itemIndex });
	}
	return { high, low };
}
