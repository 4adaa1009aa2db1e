/**
 * One item through the Confidence Gate: find the confidence, choose the band, draw the audit sample.
 */
import { type AiResult, type GateBand, type GateResult } from '../../shared/contract';
import { sha256 } from '../../shared/hash';

export const GATE_OUTPUTS: GateBand[] = ['auto', 'review', 'reject'];

export interface Thresholds {
	high: number;
	low: number;
}

export interface GateSettings {
	mode: 'autopilot' | 'assist';
	thresholds: Thresholds;
	/** per-label thresholds that replace the defaults for that label */
	perLabel: Record<string, Thresholds>;
	/** share of Auto items sent to Review anyway, 0..1 */
	sampleRate: number;
}

export interface GateInput {
	confidence: number | null;
	label: string | null;
	source: string;
	/** the AI result, when the confidence came from one */
	result?: AiResult;
	/** what the audit sample is drawn from: the same key is always drawn the same way */
	sampleKey: string;
}

/** Deterministic draw in [0, 1) from a key, so a re-run samples the same items. */
export function sampleDraw(key: string): number {
	return parseInt(sha256(`governed-ai-audit-sample:${key}`).slice(0, 12), 16) / 2 ** 48;
}

export function gateItem(input: GateInput, settings: GateSettings): GateResult {
	const thresholds = (input.label !== null && settings.perLabel[input.label]) || settings.thresholds;
	const base = {
		confidence: input.confidence,
		high: thresholds.high,
		low: thresholds.low,
		mode: settings.mode,
		source: input.source,
		label: input.label,
		sampled: false,
	};
	let band: GateBand;
	let reason: string;
	if (input.result?.error) {
		band = 'review';
		reason = 'the AI step failed';
	} else if (input.confidence === null || Number.isNaN(input.confidence)) {
		band = 'review';
		reason = 'no confidence';
	} else if (input.confidence >= thresholds.high) {
		band = 'auto';
		reason = `confidence ${input.confidence.toFixed(3)} ≥ ${thresholds.high}`;
	} else if (input.confidence < thresholds.low) {
		band = 'reject';
		reason = `confidence ${input.confidence.toFixed(3)} < ${thresholds.low}`;
	} else {
		band = 'review';
		reason = `confidence ${input.confidence.toFixed(3)} between ${thresholds.low} and ${thresholds.high}`;
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
	if (band === 'auto' && settings.sampleRate > 0 && sampleDraw(input.sampleKey) < settings.sampleRate) {
		return { ...base, band: 'review', sampled: true, reason: `audit sample (${reason})` };
	}
	return { ...base, band, reason };
}
