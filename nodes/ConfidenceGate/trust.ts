/**
 * Earned mode: which labels may be auto-routed, by the numbers in the audit store.
 *
 * - A label at stage **review** steps forward to **auto** when, since its last change and within the window,
 *   at least `minReviewed` of its items were reviewed and the Wilson 95 % lower bound of their agreement meets
 *   the target.
 * - A label at stage **auto** steps back to **review** when the latest `auditWindow` sampled audits of it
 *   (confident items the gate sent to a person anyway, at the audit sample rate) show an agreement whose
 *   Wilson 95 % upper bound is below the target: the numbers say it is below target, not merely that it
 *   might be.
 * - A change starts afresh: evidence from before it no longer counts (nodes/AuditLog/trust/summary.ts), so a
 *   label that stepped back earns auto-routing again only by new reviews, by the same rule.
 *
 * The gate reads the store's trust summary once per run, decides the changes here, records each as a
 * trust-change record in the same stream, and routes the run's items by the stages that result.
 */
import type { TrustChange } from '../AuditLog/record';
import { evidenceInWindow, NO_LABEL, type TrustStage, type TrustSummary } from '../AuditLog/trust/summary';
import { wilsonInterval } from './wilson';

export interface EarnedSettings {
	/** agreement the label must meet, 0..1 */
	target: number;
	/** reviewed items needed before the lower bound is judged at all */
	minReviewed: number;
	/** the window of reviewed items, in UTC days ending today */
	windowDays: number;
	/** the latest sampled audits the step back judges */
	auditWindow: number;
}

export interface LabelState {
	label: string;
	stage: TrustStage;
	reviewed: number;
	agreed: number;
	lowerBound: number;
	audits: number;
	auditsAgreed: number;
	upperBound: number;
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

/** The label the trust of an item's answer is kept under: its label, or its several labels sorted and joined. */
export function trustLabel(label: string | null, labels?: Array<{ label: string }>): string {
	if (label) return label;
	if (labels?.length) return labels.map((l) => l.label).sort().join(', ');
	return NO_LABEL;
}

export function labelState(summary: TrustSummary, label: string, settings: EarnedSettings, now?: Date): LabelState {
	const entry = summary.labels[label];
	if (!entry) return { label, stage: 'review', reviewed: 0, agreed: 0, lowerBound: 0, audits: 0, auditsAgreed: 0, upperBound: 1 };
	const { reviewed, agreed } = evidenceInWindow(entry, settings.windowDays, now);
	const recent = entry.audits.slice(-settings.auditWindow);
	const auditsAgreed = [...recent].filter((c) => c === '1').length;
	return {
		label,
		stage: entry.stage,
		reviewed,
		agreed,
		lowerBound: round(wilsonInterval(agreed, reviewed).lower),
		audits: recent.length,
		auditsAgreed,
		upperBound: round(wilsonInterval(auditsAgreed, recent.length).upper),
	};
}

/** The changes the numbers call for now, one per label at most, in label order. */
export function trustChanges(summary: TrustSummary, settings: EarnedSettings, now?: Date): TrustChange[] {
	const changes: TrustChange[] = [];
	for (const label of Object.keys(summary.labels).sort()) {
		const s = labelState(summary, label, settings, now);
		const common = { label, target: settings.target, minReviewed: settings.minReviewed, windowDays: settings.windowDays, auditWindow: settings.auditWindow };
		if (s.stage === 'review' && s.reviewed >= settings.minReviewed && s.lowerBound >= settings.target) {
			changes.push({
				...common,
				from: 'review',
				to: 'auto',
				reason: `${s.agreed} of ${s.reviewed} reviewed items agreed in the last ${settings.windowDays} days: lower bound ${s.lowerBound} ≥ target ${settings.target}`,
				reviewed: s.reviewed,
				agreed: s.agreed,
				lowerBound: s.lowerBound,
			});
		} else if (s.stage === 'auto' && s.audits > 0 && s.upperBound < settings.target) {
			changes.push({
				...common,
				from: 'auto',
				to: 'review',
				reason: `${s.auditsAgreed} of the last ${s.audits} sampled audits agreed: upper bound ${s.upperBound} < target ${settings.target}`,
				reviewed: s.audits,
				agreed: s.auditsAgreed,
				upperBound: s.upperBound,
			});
		}
	}
	return changes;
}
