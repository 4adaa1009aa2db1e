/**
 * Thresholds From (version 3): which auto threshold a label is held to, the typed one or the one the latest
 * recommendation gives it. Pure: the recommendation comes from the audit store's kept summary (earned.ts
 * reads it once per run), the Audit Log Report records it (nodes/AuditLog/report/recommend.ts).
 *
 * - Typed Numbers: the label's Per-Label Thresholds, else Auto at or Above / Reject Below (as in version 2).
 * - Latest Recommendation, the label has a recommended threshold t: Auto at or above t; Reject Below stays the
 *   typed one (the report recommends no reject threshold), lowered to t if it was above it.
 * - Latest Recommendation, the label has none (too few reviews, none meeting the target precision, a label the
 *   report never saw, or no recommendation recorded yet): the label is not auto-routed; its items go to
 *   Review, and Reject Below still applies. Falling back to the typed number would auto-route exactly the
 *   labels whose reviews say they cannot be trusted at any threshold.
 */
import type { THRESHOLD_SOURCES } from '../../shared/contract';
import type { LatestRecommendation } from '../AuditLog/trust/summary';
import { NO_LABEL } from '../AuditLog/trust/summary';

export interface Thresholds {
	high: number;
	low: number;
}

export const THRESHOLDS_FROM = ['typed', 'recommendation'] as const;
export type ThresholdsFrom = (typeof THRESHOLDS_FROM)[number];

/** typed: the typed numbers; recommendation: the latest recommendation's; no-recommendation: none for the label (Review) */
export type ThresholdSource = (typeof THRESHOLD_SOURCES)[number];

export interface ChosenThresholds extends Thresholds {
	source: ThresholdSource;
}

/**
 * The thresholds a label is held to. `recommendation` is undefined with Typed Numbers, and null with Latest
 * Recommendation when the stream holds none yet.
 */
export function chooseThresholds(
	label: string | null,
	typed: Thresholds,
	from: ThresholdsFrom,
	recommendation: LatestRecommendation | null | undefined,
): ChosenThresholds {
	if (from === 'typed') return { ...typed, source: 'typed' };
	const recommended = recommendation?.thresholds[label ?? NO_LABEL];
	if (recommended === undefined) return { ...typed, source: 'no-recommendation' };
	return { high: recommended, low: Math.min(typed.low, recommended), source: 'recommendation' };
}

/** Why a label without a recommended threshold goes to Review, in the gate result's reason. */
export function noRecommendationReason(label: string | null, recommendation: LatestRecommendation | null | undefined): string {
	const name = `"${label ?? NO_LABEL}"`;
	if (!recommendation) return `no recommendation recorded in the audit stream yet, so ${name} is not auto-routed`;
	return `the latest recommendation (${recommendation.at ?? 'time unknown'}) has no threshold for ${name} at target precision ${recommendation.targetPrecision}, so it is not auto-routed`;
}
