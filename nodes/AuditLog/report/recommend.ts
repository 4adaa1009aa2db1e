/**
 * Numbers that act on the review data (Audit Log Report, version 2): per label, the lowest auto threshold the
 * reviewed items support, and per confidence method, how much its confidence means. Pure functions.
 *
 * Definitions (also shown on the HTML page):
 * - a reviewed item: a decision with a confidence that a person approved (correct) or edited or rejected
 *   (wrong); timeouts are not reviews. An item logged more than once (before and after a person) counts
 *   once, by its decision id, with the review it got.
 * - precision at threshold t: of the reviewed items of the label with confidence >= t, the share correct.
 * - recommended threshold: the lowest t (among the confidences seen) at which the **Wilson lower bound**
 *   (95 %) of that precision meets the target. The bound, not the point estimate, must meet it: a
 *   threshold chosen on the point estimate is the one that looked best on this sample, and is optimistic on
 *   the next; the bound pays for small samples (5 of 5 correct has a lower bound of 57 %).
 * - auto rate: of all the label's items with a confidence (reviewed or not), the share at or above t.
 * - reviews saved: the label's items at or above t that a person reviewed and that were not an audit
 *   sample (audit sampling carries on after a threshold changes).
 * - ECE (expected calibration error): in ten bins of confidence (0.1 wide), the item-weighted mean of
 *   |share correct − mean confidence|. Brier score: the mean of (confidence − correct)², correct being 1
 *   or 0. AUROC: the chance that a random correct item has a higher confidence than a random wrong one
 *   (ties count half): 1 ranks every error below every correct answer, 0.5 is no better than chance.
 */

/** z of a two-sided 95 % interval */
export const WILSON_Z = 1.959964;
export const DEFAULT_TARGET_PRECISION = 0.95;
export const NO_LABEL = '(no label)';

export interface ScoredItem {
	label: string;
	method: string;
	confidence: number;
	/** true: a person approved it; false: edited or rejected; null: not reviewed */
	correct: boolean | null;
	/** a person reviewed it (any decision, a timeout too) and it was not an audit sample */
	reviewedNotSampled: boolean;
}

export interface LabelRecommendation {
	/** the lowest threshold whose reviewed items meet the target (by the lower bound); null when none does */
	threshold: number | null;
	/** reviewed items at or above the threshold */
	reviewed: number;
	correct: number;
	precision: number | null;
	lowerBound: number | null;
	/** the label's items with a confidence (reviewed or not) */
	items: number;
	/** items at or above the threshold */
	autoItems: number;
	autoRate: number | null;
	reviewsSaved: number;
	/** reviewed items of the label in all */
	reviewedTotal: number;
	/** why there is no threshold */
	reason?: string;
}

export interface Recommendation {
	targetPrecision: number;
	criterion: 'wilson-lower-bound';
	confidenceLevel: 0.95;
	/** label → recommended threshold, only the labels that have one: what a Confidence Gate reads */
	thresholds: Record<string, number>;
	/** one threshold for every label together */
	overall: LabelRecommendation;
	byLabel: Record<string, LabelRecommendation>;
}

export interface MethodCalibration {
	/** reviewed items with a confidence of this method */
	reviewed: number;
	correct: number;
	accuracy: number | null;
	meanConfidence: number | null;
	ece: number | null;
	brier: number | null;
	/** null when every reviewed item is correct, or every one wrong */
	auroc: number | null;
}

export interface Savings {
	/** the cost of one human review the report was given (USD) */
	reviewCostUsd: number;
	/** items the gate auto-routed (no person saw them) */
	autoRouted: number;
	costSavedUsd: number;
	/** reviews the recommended thresholds would save, over the labels that have one */
	reviewsSavedByRecommendation: number;
	costSavedByRecommendationUsd: number;
}

const round = (value: number, digits = 4): number => {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
};

/** Wilson score interval's lower bound for `successes` of `n` (95 % unless another z is given). */
export function wilsonLowerBound(successes: number, n: number, z = WILSON_Z): number | null {
	if (n <= 0) return null;
	const p = successes / n;
	const z2 = z * z;
	const centre = p + z2 / (2 * n);
	const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
	return Math.max(0, (centre - margin) / (1 + z2 / n));
}

/** 0.0-0.1 → 0, ..., 0.9-1.0 → 9 (the same bins as the report's calibration table). */
function bin(confidence: number): number {
	return Math.min(9, Math.max(0, Math.floor(confidence * 10 + 1e-9)));
}

/** Expected calibration error over ten equal-width bins; null without items. */
export function expectedCalibrationError(items: Array<{ confidence: number; correct: boolean }>): number | null {
	if (items.length === 0) return null;
	const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, correct: 0 }));
	for (const item of items) {
		const b = bins[bin(item.confidence)];
		b.n++;
		b.conf += item.confidence;
		if (item.correct) b.correct++;
	}
	let sum = 0;
	for (const b of bins) if (b.n) sum += Math.abs(b.correct - b.conf);
	return sum / items.length;
}

export function brierScore(items: Array<{ confidence: number; correct: boolean }>): number | null {
	if (items.length === 0) return null;
	return items.reduce((s, i) => s + (i.confidence - (i.correct ? 1 : 0)) ** 2, 0) / items.length;
}

/** AUROC of confidence separating correct from wrong answers (Mann-Whitney, ties half); null without both. */
export function auroc(items: Array<{ confidence: number; correct: boolean }>): number | null {
	const positives = items.filter((i) => i.correct).length;
	const negatives = items.length - positives;
	if (positives === 0 || negatives === 0) return null;
	// rank sum of the correct items, ties given their mean rank
	const sorted = [...items].sort((a, b) => a.confidence - b.confidence);
	let rankSum = 0;
	for (let i = 0; i < sorted.length; ) {
		let j = i;
		while (j < sorted.length && sorted[j].confidence === sorted[i].confidence) j++;
		const meanRank = (i + 1 + j) / 2;
		for (let k = i; k < j; k++) if (sorted[k].correct) rankSum += meanRank;
		i = j;
	}
	return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The recommendation for one group of items (a label, or all of them). */
export function recommendThreshold(items: ScoredItem[], targetPrecision: number): LabelRecommendation {
	const reviewed = items.filter((i) => i.correct !== null).sort((a, b) => b.confidence - a.confidence);
	const reviewedTotal = reviewed.length;
	// walk the reviewed items from the most confident down: each distinct confidence is a candidate threshold
	let n = 0;
	let k = 0;
	let best: { threshold: number; n: number; k: number } | null = null;
	let bestBound = -1;
	for (let i = 0; i < reviewed.length; ) {
		const t = reviewed[i].confidence;
		while (i < reviewed.length && reviewed[i].confidence === t) {
			n++;
			if (reviewed[i].correct) k++;
			i++;
		}
		const bound = wilsonLowerBound(k, n)!;
		if (bound >= targetPrecision) best = { threshold: t, n, k };
		bestBound = Math.max(bestBound, bound);
	}
	const base = { items: items.length, reviewedTotal };
	if (!best) {
		return {
			threshold: null,
			reviewed: 0,
			correct: 0,
			precision: null,
			lowerBound: null,
			...base,
			autoItems: 0,
			autoRate: null,
			reviewsSaved: 0,
			reason: reviewedTotal
				? `no threshold meets ${round(targetPrecision * 100, 2)} %: the best lower bound is ${round(bestBound * 100, 1)} %`
				: 'no reviewed items',
		};
	}
	const threshold = best.threshold;
	const above = items.filter((i) => i.confidence >= threshold);
	return {
		threshold,
		reviewed: best.n,
		correct: best.k,
		precision: round(best.k / best.n),
		lowerBound: round(wilsonLowerBound(best.k, best.n)!),
		...base,
		autoItems: above.length,
		autoRate: items.length ? round(above.length / items.length) : null,
		reviewsSaved: above.filter((i) => i.reviewedNotSampled).length,
	};
}

export function recommend(items: ScoredItem[], targetPrecision = DEFAULT_TARGET_PRECISION): Recommendation {
	const byLabel: Record<string, ScoredItem[]> = {};
	for (const item of items) (byLabel[item.label] ??= []).push(item);
	const recommendations = Object.fromEntries(
		Object.keys(byLabel)
			.sort()
			.map((label) => [label, recommendThreshold(byLabel[label], targetPrecision)]),
	);
	const thresholds: Record<string, number> = {};
	for (const [label, r] of Object.entries(recommendations)) if (r.threshold !== null) thresholds[label] = r.threshold;
	return {
		targetPrecision,
		criterion: 'wilson-lower-bound',
		confidenceLevel: 0.95,
		thresholds,
		overall: recommendThreshold(items, targetPrecision),
		byLabel: recommendations,
	};
}

export function calibrationOf(items: Array<{ confidence: number; correct: boolean }>): MethodCalibration {
	const correct = items.filter((i) => i.correct).length;
	const maybe = (v: number | null): number | null => (v === null ? null : round(v));
	return {
		reviewed: items.length,
		correct,
		accuracy: items.length ? round(correct / items.length) : null,
		meanConfidence: items.length ? round(items.reduce((s, i) => s + i.confidence, 0) / items.length) : null,
		ece: maybe(expectedCalibrationError(items)),
		brier: maybe(brierScore(items)),
		auroc: maybe(auroc(items)),
	};
}

/** Calibration per confidence method, over the reviewed items. */
export function calibrationByMethod(items: ScoredItem[]): Record<string, MethodCalibration> {
	const byMethod: Record<string, Array<{ confidence: number; correct: boolean }>> = {};
	for (const item of items) {
		if (item.correct === null) continue;
		(byMethod[item.method] ??= []).push({ confidence: item.confidence, correct: item.correct });
	}
	return Object.fromEntries(
		Object.keys(byMethod)
			.sort()
			.map((method) => [method, calibrationOf(byMethod[method])]),
	);
}

export function savings(autoRouted: number, recommendation: Recommendation, reviewCostUsd: number): Savings {
	const reviewsSaved = Object.values(recommendation.byLabel).reduce((s, r) => s + r.reviewsSaved, 0);
	return {
		reviewCostUsd,
		autoRouted,
		costSavedUsd: round(autoRouted * reviewCostUsd, 2),
		reviewsSavedByRecommendation: reviewsSaved,
		costSavedByRecommendationUsd: round(reviewsSaved * reviewCostUsd, 2),
	};
}
