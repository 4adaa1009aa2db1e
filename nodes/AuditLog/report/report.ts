/**
 * The accuracy report for a time window: what the AI decided, how the gate routed it, how often people
 * agreed, whether the confidence meant anything (calibration), what escalated, what failed and what it
 * cost. Definitions (also shown on the HTML page):
 *
 * - agreement: of the items a person decided on, the share approved unchanged; "edited" and "rejected"
 *   are disagreements; "no response" (timeout) is counted but left out of the rate.
 * - auto / review / reject rates: shares of the records that passed a Confidence Gate.
 * - escalations: records the AI node flagged (`needsReview`) or the gate sent to Review.
 * - calibration: records with a confidence, in bins of 0.1; per bin the mean confidence and the human
 *   agreement rate of the reviewed ones. Well calibrated: agreement close to mean confidence.
 * - cost: every AI step on each record's item (v2 records list them in `steps`; a v1 record counts its
 *   one decision), each decision once: an item logged twice (before and after a person, or by two Audit
 *   Log nodes) does not count its earlier model calls twice.
 */
import { auditRecordSchema, type AuditRecord, type StepCost } from '../record';
import { inWindow, type AuditSink, type TimeWindow } from '../sinks/sink';
import {
	DEFAULT_TARGET_PRECISION,
	NO_LABEL,
	calibrationByMethod,
	recommend,
	savings,
	type MethodCalibration,
	type Recommendation,
	type Savings,
	type ScoredItem,
} from './recommend';
import { StagesBuilder, type ReportStages } from './stages';

export interface ReviewCounts {
	approved: number;
	edited: number;
	rejected: number;
	noResponse: number;
	/** approved + edited + rejected */
	reviewed: number;
	/** approved / reviewed, null when nobody reviewed */
	agreementRate: number | null;
}

export interface UsageTotals {
	/** records with at least one AI step counted here */
	records: number;
	/** AI steps (decisions) counted */
	steps: number;
	inputTokens: number;
	outputTokens: number;
	cachedInputTokens: number;
	cacheWriteTokens: number;
	requests: number;
	costUsd: number;
}

export interface CalibrationBin {
	from: number;
	to: number;
	/** records with a confidence in [from, to) (the last bin includes 1) */
	records: number;
	meanConfidence: number | null;
	reviewed: number;
	approved: number;
	agreementRate: number | null;
}

export interface AuditReport {
	stream: string;
	window: { from: string | null; to: string | null };
	generatedAt: string;
	records: number;
	/** records in the window that are not valid audit records (counted, never silently dropped) */
	skipped: number;
	volume: {
		byStep: Record<string, number>;
		byNode: Record<string, number>;
		byLabel: Record<string, number>;
	};
	gate: {
		gated: number;
		auto: number;
		review: number;
		reject: number;
		sampled: number;
		autoRate: number | null;
		reviewRate: number | null;
		rejectRate: number | null;
	};
	agreement: {
		overall: ReviewCounts;
		/** counted under the AI's label (a person's edit is a disagreement with it) */
		byLabel: Record<string, ReviewCounts>;
		/** items a person edited: the AI's label next to the person's, so an edit does not hide what they chose */
		corrections: Array<{ aiLabel: string; personLabel: string; items: number }>;
	};
	calibration: CalibrationBin[];
	escalations: { total: number; needsReview: number; reviewBand: number; sampled: number };
	errors: {
		total: number;
		byMessage: Record<string, number>;
		recent: Array<{ sequence: number; recordId: string; at: string; error: string }>;
	};
	usage: { total: UsageTotals; byModel: Record<string, UsageTotals> };
	daily: Array<{ date: string; records: number; costUsd: number; errors: number }>;
	/** from Audit Log version 2 (see recommend.ts): the thresholds the reviews support, per label */
	recommendation?: Recommendation;
	/** from version 2: ECE, Brier score and AUROC of the reviewed items, per confidence method */
	calibrationByMethod?: Record<string, MethodCalibration>;
	/** from version 2: the reviews auto-routing saved, and what the recommended thresholds would save */
	savings?: Savings;
	/** from version 2: each label's stage (shadow / review / auto), since when and why, and the window's trust changes */
	stages?: ReportStages;
}

/** The version 2 sections of the report: the target precision and the cost of one review. */
export interface TrustOptions {
	targetPrecision?: number;
	reviewCostUsd?: number;
	/** version 3: each label's stage and the window's trust changes */
	stages?: boolean;
}

const RECENT_ERRORS = 20;

function rate(part: number, whole: number): number | null {
	return whole > 0 ? round(part / whole, 4) : null;
}

function round(value: number, digits: number): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

function bump(map: Record<string, number>, key: string, by = 1): void {
	map[key] = (map[key] ?? 0) + by;
}

function emptyReview(): ReviewCounts {
	return { approved: 0, edited: 0, rejected: 0, noResponse: 0, reviewed: 0, agreementRate: null };
}

function emptyUsage(): UsageTotals {
	return { records: 0, steps: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 0, costUsd: 0 };
}

function countReview(counts: ReviewCounts, decision: string): void {
	if (decision === 'approved') counts.approved++;
	else if (decision === 'edited') counts.edited++;
	else if (decision === 'rejected') counts.rejected++;
	else if (decision === 'no-response') counts.noResponse++;
}

function finishReview(counts: ReviewCounts): ReviewCounts {
	const reviewed = counts.approved + counts.edited + counts.rejected;
	return { ...counts, reviewed, agreementRate: rate(counts.approved, reviewed) };
}

const LABEL_FIELD = /(^|\.)(answer|label|labels|action)$/;

/** The label a person chose when editing: the edited answer/label/action field, else the record's answer. */
function editedLabel(r: AuditRecord): string | null {
	const asLabel = (value: unknown): string | null =>
		typeof value === 'string' && value
			? value
			: Array.isArray(value) && value.length && value.every((v) => typeof v === 'string')
				? [...(value as string[])].sort().join(', ')
				: null;
	for (const [field, edit] of Object.entries(r.review?.edits ?? {})) {
		const to = LABEL_FIELD.test(field) ? asLabel((edit as { to?: unknown }).to) : null;
		if (to !== null) return to;
	}
	return asLabel(r.answer);
}

/** 0.0-0.1 → 0, ..., 0.9-1.0 → 9 (the epsilon keeps 0.3 in bin 3 despite 0.3 * 10 = 2.9999…). */
export function confidenceBin(confidence: number): number {
	return Math.min(9, Math.max(0, Math.floor(confidence * 10 + 1e-9)));
}

/** Builds a report from records pushed one at a time, in any order. */
export class ReportBuilder {
	private records = 0;
	private skipped = 0;
	private readonly byStep: Record<string, number> = {};
	private readonly byNode: Record<string, number> = {};
	private readonly byLabel: Record<string, number> = {};
	private readonly bands = { gated: 0, auto: 0, review: 0, reject: 0, sampled: 0 };
	private readonly overall = emptyReview();
	private readonly agreementByLabel: Record<string, ReviewCounts> = {};
	/** "AI label\u0000person's label" → items */
	private readonly corrections: Record<string, number> = {};
	private readonly bins = Array.from({ length: 10 }, () => ({ records: 0, sum: 0, reviewed: 0, approved: 0 }));
	private readonly escalations = { total: 0, needsReview: 0, reviewBand: 0, sampled: 0 };
	private errorTotal = 0;
	private readonly errorsByMessage: Record<string, number> = {};
	private readonly recentErrors: AuditReport['errors']['recent'] = [];
	private readonly usageTotal = emptyUsage();
	private readonly usageByModel: Record<string, UsageTotals> = {};
	/** decisions already counted in the cost */
	private readonly costedDecisions = new Set<string>();
	private readonly daily: Record<string, { records: number; costUsd: number; errors: number }> = {};
	/** decision (or record) id → the item as the recommendation scores it; a later review replaces an earlier none */
	private readonly scored = new Map<string, ScoredItem>();
	/** version 3: the labels' stages */
	private readonly stages?: StagesBuilder;

	constructor(
		private readonly stream: string,
		private readonly window: TimeWindow = {},
		/** given: the report has the version 2 sections */
		private readonly trust?: TrustOptions,
	) {
		if (trust?.stages) this.stages = new StagesBuilder();
	}

	push(raw: unknown): void {
		const at = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).at : undefined;
		const isTrustChange = (raw as Record<string, unknown> | null)?.kind === 'trust-change';
		if (!inWindow(at, this.window)) {
			// outside the window (or no readable time): an unreadable record inside a window is still counted
			if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) {
				if (isTrustChange && this.window.from && Date.parse(at) < Date.parse(this.window.from)) this.stages?.earlierChange(raw);
				return;
			}
		}
		// a label's trust change (v3) is no decision: none of the counts below is about it, only the stages
		if (isTrustChange) {
			this.stages?.change(raw);
			return;
		}
		// a recorded recommendation (audit Log v3) is no decision either
		if ((raw as Record<string, unknown> | null)?.kind === 'recommendation') return;
		const parsed = auditRecordSchema.safeParse(raw);
		if (!parsed.success) {
			this.skipped++;
			return;
		}
		this.add(parsed.data);
	}

	/** A record from before the window: only a trust change counts, for where its label stood when the window began. */
	pushEarlier(raw: unknown): void {
		this.stages?.earlierChange(raw);
	}

	private add(r: AuditRecord): void {
		this.records++;
		bump(this.byStep, r.step ?? 'none');
		bump(this.byNode, r.nodeName ?? 'unknown');
		const label = r.label ?? NO_LABEL;
		bump(this.byLabel, label);

		if (r.gate) {
			this.stages?.gated(r.label, r.at, r.sequence, r.gate);
			this.bands.gated++;
			this.bands[r.gate.band]++;
			if (r.gate.sampled) this.bands.sampled++;
		}

		if (r.review) {
			countReview(this.overall, r.review.decision);
			this.agreementByLabel[label] ??= emptyReview();
			countReview(this.agreementByLabel[label], r.review.decision);
			const personLabel = r.review.decision === 'edited' && r.label !== null ? editedLabel(r) : null;
			if (personLabel !== null && r.label !== null) bump(this.corrections, `${r.label}\u0000${personLabel}`);
		}

		if (r.confidence !== null) {
			const bin = this.bins[confidenceBin(r.confidence)];
			bin.records++;
			bin.sum += r.confidence;
			const decision = r.review?.decision;
			if (decision === 'approved' || decision === 'edited' || decision === 'rejected') {
				bin.reviewed++;
				if (decision === 'approved') bin.approved++;
			}
		}

		const needsReview = r.needsReview === true;
		const reviewBand = r.gate?.band === 'review';
		if (needsReview || reviewBand) this.escalations.total++;
		if (needsReview) this.escalations.needsReview++;
		if (reviewBand) this.escalations.reviewBand++;
		if (reviewBand && r.gate?.sampled) this.escalations.sampled++;

		const day = r.at.slice(0, 10);
		this.daily[day] ??= { records: 0, costUsd: 0, errors: 0 };
		this.daily[day].records++;

		if (r.error) {
			this.errorTotal++;
			this.daily[day].errors++;
			bump(this.errorsByMessage, r.error.slice(0, 200));
			this.recentErrors.push({ sequence: r.sequence, recordId: r.recordId, at: r.at, error: r.error });
			if (this.recentErrors.length > RECENT_ERRORS) this.recentErrors.shift();
		}

		this.addCost(r, day);
		if (this.trust) this.addScored(r);
	}

	private addScored(r: AuditRecord): void {
		if (r.confidence === null || r.error) return;
		const decision = r.review?.decision;
		const correct = decision === 'approved' ? true : decision === 'edited' || decision === 'rejected' ? false : null;
		const key = r.decisionId ?? r.recordId;
		const earlier = this.scored.get(key);
		// the same decision logged again: keep the record that carries a person's verdict
		if (earlier && earlier.correct !== null && correct === null) return;
		this.scored.set(key, {
			label: r.label ?? NO_LABEL,
			method: r.confidenceMethod ?? 'unknown',
			confidence: r.confidence,
			correct,
			reviewedNotSampled: decision !== undefined && r.gate?.sampled !== true,
		});
	}

	private addCost(r: AuditRecord, day: string): void {
		const counted = new Set<UsageTotals>();
		for (const step of costSteps(r)) {
			if (step.decisionId !== null) {
				if (this.costedDecisions.has(step.decisionId)) continue;
				this.costedDecisions.add(step.decisionId);
			}
			const key = `${step.provider ?? 'unknown'}/${step.model ?? 'unknown'}`;
			this.usageByModel[key] ??= emptyUsage();
			for (const totals of [this.usageTotal, this.usageByModel[key]]) {
				if (!counted.has(totals)) {
					totals.records++;
					counted.add(totals);
				}
				totals.steps++;
				totals.inputTokens += step.usage?.inputTokens ?? 0;
				totals.outputTokens += step.usage?.outputTokens ?? 0;
				totals.cachedInputTokens += step.usage?.cachedInputTokens ?? 0;
				totals.cacheWriteTokens += step.usage?.cacheWriteTokens ?? 0;
				totals.requests += step.usage?.requests ?? 0;
				totals.costUsd += step.costUsd ?? 0;
			}
			this.daily[day].costUsd += step.costUsd ?? 0;
		}
	}

	result(now: Date = new Date()): AuditReport {
		const report = this.baseResult(now);
		if (!this.trust) return report;
		const scored = [...this.scored.values()];
		const recommendation = recommend(scored, this.trust.targetPrecision ?? DEFAULT_TARGET_PRECISION);
		return {
			...report,
			recommendation,
			calibrationByMethod: calibrationByMethod(scored),
			savings: savings(this.bands.auto, recommendation, this.trust.reviewCostUsd ?? 0),
			...(this.stages ? { stages: this.stages.result() } : {}),
		};
	}

	private baseResult(now: Date): AuditReport {
		const { gated, auto, review, reject, sampled } = this.bands;
		const roundUsage = (u: UsageTotals): UsageTotals => ({ ...u, costUsd: round(u.costUsd, 6) });
		return {
			stream: this.stream,
			window: { from: this.window.from ?? null, to: this.window.to ?? null },
			generatedAt: now.toISOString(),
			records: this.records,
			skipped: this.skipped,
			volume: { byStep: this.byStep, byNode: this.byNode, byLabel: this.byLabel },
			gate: {
				gated,
				auto,
				review,
				reject,
				sampled,
				autoRate: rate(auto, gated),
				reviewRate: rate(review, gated),
				rejectRate: rate(reject, gated),
			},
			agreement: {
				overall: finishReview(this.overall),
				byLabel: Object.fromEntries(
					Object.entries(this.agreementByLabel).map(([label, counts]) => [label, finishReview(counts)]),
				),
				corrections: Object.entries(this.corrections)
					.map(([pair, items]) => {
						const [aiLabel, personLabel] = pair.split('\u0000');
						return { aiLabel, personLabel, items };
					})
					.sort((a, b) => b.items - a.items || a.aiLabel.localeCompare(b.aiLabel)),
			},
			calibration: this.bins.map((b, i) => ({
				from: round(i / 10, 1),
				to: round((i + 1) / 10, 1),
				records: b.records,
				meanConfidence: b.records ? round(b.sum / b.records, 4) : null,
				reviewed: b.reviewed,
				approved: b.approved,
				agreementRate: rate(b.approved, b.reviewed),
			})),
			escalations: { ...this.escalations },
			errors: { total: this.errorTotal, byMessage: this.errorsByMessage, recent: [...this.recentErrors] },
			usage: {
				total: roundUsage(this.usageTotal),
				byModel: Object.fromEntries(Object.entries(this.usageByModel).map(([k, u]) => [k, roundUsage(u)])),
			},
			daily: Object.keys(this.daily)
				.sort()
				.map((date) => ({ date, ...this.daily[date], costUsd: round(this.daily[date].costUsd, 6) })),
		};
	}
}

type CostStep = Pick<StepCost, 'decisionId' | 'provider' | 'model'> & {
	usage: StepCost['usage'] | null;
	costUsd: number | null;
};

/** The AI steps a record accounts for: its `steps` (v2), or its one decision (v1). */
function costSteps(r: AuditRecord): CostStep[] {
	if (r.steps) return r.steps;
	if (r.model || r.usage || r.costUsd !== null) {
		return [{ decisionId: r.decisionId, provider: r.provider, model: r.model, usage: r.usage, costUsd: r.costUsd }];
	}
	return [];
}

export function buildReport(
	stream: string,
	records: Iterable<unknown>,
	window?: TimeWindow,
	now?: Date,
	trust?: TrustOptions,
): AuditReport {
	const builder = new ReportBuilder(stream, window, trust);
	for (const record of records) builder.push(record);
	return builder.result(now);
}

/** The window for "the last N days" up to `now`. */
export function lastDaysWindow(days: number, now: Date = new Date()): TimeWindow {
	return { from: new Date(now.getTime() - days * 86_400_000).toISOString(), to: now.toISOString() };
}

/** The report of a stream over a window, read page by page. */
export async function reportStream(
	sink: AuditSink,
	stream: string,
	window: TimeWindow = {},
	now?: Date,
	trust?: TrustOptions,
): Promise<AuditReport> {
	const builder = new ReportBuilder(stream, window, trust);
	if (trust?.stages) await readEarlierTrustChanges(sink, stream, window, builder);
	for await (const page of sink.read(stream, window)) {
		for (const record of page) builder.push(record);
	}
	return builder.result(now);
}

/**
 * The trust changes before the window that set where each label stood when it began. The stream's trust summary
 * names each label's last change (its time and sequence), so only those records are read; the records before the
 * window are read in full only when a label changed after the window's end (a past window), where the summary
 * cannot tell what came before.
 */
async function readEarlierTrustChanges(sink: AuditSink, stream: string, window: TimeWindow, builder: ReportBuilder): Promise<void> {
	if (!window.from) return;
	const from = Date.parse(window.from);
	const to = window.to ? Date.parse(window.to) : Infinity;
	let readAll = !sink.trustSummary;
	if (sink.trustSummary) {
		const summary = await sink.trustSummary(stream);
		for (const [label, entry] of Object.entries(summary.labels)) {
			if (!entry.changedAt) continue;
			const changedAt = Date.parse(entry.changedAt);
			if (changedAt >= to) readAll = true;
			if (changedAt >= from) continue;
			const instant = { from: entry.changedAt, to: new Date(changedAt + 1).toISOString() };
			for await (const page of sink.read(stream, instant)) {
				for (const record of page) {
					const r = record as Record<string, unknown>;
					if (r.kind === 'trust-change' && r.sequence === entry.changedSequence && (r.trust as { label?: unknown } | null)?.label === label) {
						builder.pushEarlier(record);
					}
				}
			}
		}
	}
	if (!readAll) return;
	for await (const page of sink.read(stream, { to: window.from })) {
		for (const record of page) builder.pushEarlier(record);
	}
}
