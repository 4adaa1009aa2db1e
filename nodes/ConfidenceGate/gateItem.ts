/**
 * One item through the Confidence Gate: find the confidence, choose the band, draw the audit sample.
 */
import { type GateBand, type GateResult, type LabelScore, type StepResult } from '../../shared/contract';
import { sha256 } from '../../shared/hash';
import type { LatestRecommendation } from '../AuditLog/trust/summary';
import { chooseThresholds, noRecommendationReason, type ChosenThresholds, type Thresholds, type ThresholdsFrom } from './recommended';

/** The outputs, from the least cautious band to the most: an item held back by one label is held back. */
export const GATE_OUTPUTS: GateBand[] = ['auto', 'review', 'reject'];

export type { Thresholds };

export interface GateSettings {
	mode: GateResult['mode'];
	thresholds: Thresholds;
	/** per-label thresholds that replace the defaults for that label */
	perLabel: Record<string, Thresholds>;
	/** share of Auto items sent to Review anyway, 0..1 (Earned mode: the audit sample rate) */
	sampleRate: number;
	/** version 3: where the auto thresholds come from (recommended.ts); absent before, and the result says nothing of it */
	thresholdsFrom?: ThresholdsFrom;
	/** Latest Recommendation: the stream's latest one, null when it holds none */
	recommendation?: LatestRecommendation | null;
}

/** Earned mode: the stage of the item's label and the numbers behind it (trust.ts), with this run's change. */
export type GateTrust = NonNullable<GateResult['trust']>;

export interface GateInput {
	confidence: number | null;
	label: string | null;
	/** a result with several labels: each label with its own confidence */
	labels?: LabelScore[];
	source: string;
	/** the AI result, when the confidence came from one */
	result?: StepResult;
	/** what the audit sample is drawn from: the same key is always drawn the same way */
	sampleKey: string;
	/** Earned mode: the item's label's stage */
	trust?: GateTrust;
}

/** Deterministic draw in [0, 1) from a key, so a re-run samples the same items. */
export function sampleDraw(key: string): number {
	return parseInt(sha256(`governed-ai-audit-sample:${key}`).slice(0, 12), 16) / 2 ** 48;
}

/** The band by the thresholds; a label without a recommended threshold is held back from Auto. */
function bandFor(confidence: number | null, thresholds: ChosenThresholds, label: string | null, settings: GateSettings): { band: GateBand; reason: string } {
	const chosen = bandOf(confidence, thresholds);
	if (chosen.band !== 'auto' || thresholds.source !== 'no-recommendation') return chosen;
	return { band: 'review', reason: `${noRecommendationReason(label, settings.recommendation)} (${chosen.reason})` };
}

function bandOf(confidence: number | null, thresholds: Thresholds): { band: GateBand; reason: string } {
	if (confidence === null || Number.isNaN(confidence)) return { band: 'review', reason: 'no confidence' };
	if (confidence >= thresholds.high) return { band: 'auto', reason: `confidence ${confidence.toFixed(3)} ≥ ${thresholds.high}` };
	if (confidence < thresholds.low) return { band: 'reject', reason: `confidence ${confidence.toFixed(3)} < ${thresholds.low}` };
	return { band: 'review', reason: `confidence ${confidence.toFixed(3)} between ${thresholds.low} and ${thresholds.high}` };
}

const caution = (band: GateBand) => GATE_OUTPUTS.indexOf(band);

export function gateItem(input: GateInput, settings: GateSettings): GateResult {
	const thresholdsOf = (label: string | null): ChosenThresholds =>
		chooseThresholds(label, (label !== null && settings.perLabel[label]) || settings.thresholds, settings.thresholdsFrom ?? 'typed', settings.recommendation);
	// version 3 says where each threshold came from; versions 1 and 2 keep their result as it was
	const versioned = settings.thresholdsFrom !== undefined;
	// Several labels: each is held to its own thresholds and the item takes the most cautious band among them;
	// within that band the least confident label speaks for the item. With the same thresholds for every label
	// that is the band of the lowest confidence, as for one label.
	const labels = input.labels?.length
		? input.labels.map(({ label, score }) => {
				const { source, ...thresholds } = thresholdsOf(label);
				return {
					label,
					confidence: score,
					...thresholds,
					band: bandFor(score, { ...thresholds, source }, label, settings).band,
					...(versioned ? { thresholdSource: source } : {}),
				};
			})
		: undefined;
	const deciding =
		labels && input.confidence !== null
			? labels.reduce((worst, l) =>
					caution(l.band) > caution(worst.band) ||
					(caution(l.band) === caution(worst.band) && (l.confidence ?? -1) < (worst.confidence ?? -1))
						? l
						: worst,
				)
			: undefined;
	const confidence = deciding ? deciding.confidence : input.confidence;
	const deciderLabel = deciding ? deciding.label : input.label;
	const thresholds = thresholdsOf(deciderLabel);
	const recommendation = settings.recommendation;
	const base = {
		confidence,
		high: thresholds.high,
		low: thresholds.low,
		mode: settings.mode,
		source: input.source,
		label: input.label,
		sampled: false,
		...(labels ? { labels } : {}),
		...(versioned
			? {
					thresholdSource: thresholds.source,
					recommendation:
						settings.thresholdsFrom === 'recommendation' && recommendation
							? {
									recordId: recommendation.recordId,
									at: recommendation.at,
									targetPrecision: recommendation.targetPrecision,
									window: recommendation.window,
								}
							: null,
				}
			: {}),
	};
	let band: GateBand;
	let reason: string;
	if (input.result?.error) {
		band = 'review';
		reason = 'the AI step failed';
	} else {
		({ band, reason } = bandFor(confidence, thresholds, deciderLabel, settings));
		if (deciding) reason = `${deciding.label}: ${reason}`;
	}
	if (band === 'auto' && input.result?.needsReview) {
		band = 'review';
		reason = `the AI step asked for review (${input.result.reviewReason ?? 'needs review'})`;
	}
	if (band === 'auto' && input.result?.requiresApproval) {
		band = 'review';
		reason = 'the chosen action requires approval';
	}
	if (settings.mode === 'assist') {
		return { ...base, band: 'review', reason: `assist mode: a person approves every item (would be ${band}: ${reason})` };
	}
	if (settings.mode === 'shadow') {
		// as before the AI existed: a person decides every item; what the AI alone would have done is kept
		return { ...base, band: 'review', wouldBe: band, reason: `shadow mode: a person decides every item (the AI alone: ${band}, ${reason})` };
	}
	if (settings.mode === 'earned') {
		const trust = input.trust;
		if (!trust) throw new Error('Earned mode needs the stage of the item\'s label');
		if (trust.stage === 'review') {
			return {
				...base,
				band: 'review',
				wouldBe: band,
				trust,
				reason: `earned mode: "${trust.label}" has not earned auto-routing (${trust.agreed} of ${trust.reviewed} reviewed agreed); a person decides (the AI alone: ${band}, ${reason})`,
			};
		}
		if (band === 'auto' && settings.sampleRate > 0 && sampleDraw(input.sampleKey) < settings.sampleRate) {
			return { ...base, band: 'review', sampled: true, wouldBe: band, trust, reason: `audit sample of "${trust.label}" (${reason})` };
		}
		return { ...base, band, wouldBe: band, trust, reason };
	}
	if (band === 'auto' && settings.sampleRate > 0 && sampleDraw(input.sampleKey) < settings.sampleRate) {
		return { ...base, band: 'review', sampled: true, reason: `audit sample (${reason})` };
	}
	return { ...base, band, reason };
}
