/**
 * The trust summary of an audit stream: per label, its stage (review or auto, as the last trust-change record
 * set it) and the evidence gathered since that change: reviewed and agreed items per UTC day, and the outcomes
 * of the last sampled audits. Confidence Gate's Earned mode decides on it (nodes/ConfidenceGate/trust.ts).
 *
 * It is a fold over the stream's records in sequence order, nothing more: the sinks keep it up to date on
 * append (a small file beside the JSON Lines log, a row per stream in PostgreSQL) so the gate reads it in one
 * look-up however long the stream is, and can always rebuild it from the records (`summarize`). A test
 * checks the kept summary against a fold of every record and against a hand count.
 *
 * Counting (the report's definition of agreement): a record counts when a person decided on it (approved,
 * edited or rejected; no-response is left out), under the AI's label (the record's `label`); agreed means
 * approved unchanged. A sampled audit is such a record whose gate sent it to review for the audit sample.
 * A trust-change record starts a new epoch for its label: the evidence before it no longer counts, so a label
 * that stepped back earns auto-routing again only by new reviews. A change to the stage the label already
 * has (two gate runs noticing the same thing at once) changes nothing. A `recommendation` record (an Audit Log
 * Report's recommended thresholds) replaces the one kept before it: the gate reads the latest with the rest.
 */

export const TRUST_STAGES = ['review', 'auto'] as const;
export type TrustStage = (typeof TRUST_STAGES)[number];

/** The label a record without one is counted under (e.g. AI Extract, which has no labels). */
export const NO_LABEL = '(no label)';
/** Sampled-audit outcomes kept per label ('1' agreed, '0' not), newest last: the most the gate may judge on. */
export const MAX_AUDITS_KEPT = 200;
/** Days of evidence kept per label: the longest window the gate accepts. */
export const MAX_WINDOW_DAYS = 366;

export interface LabelTrust {
	stage: TrustStage;
	/** trust changes of this label so far (0: never changed, stage review) */
	epoch: number;
	/** the last trust change: its record's sequence and time, null before the first */
	changedSequence: number | null;
	changedAt: string | null;
	/** reviewed / agreed items since the last change, in all */
	reviewed: number;
	agreed: number;
	/** per UTC day (YYYY-MM-DD) since the last change: [reviewed, agreed] */
	days: Record<string, [number, number]>;
	/** outcomes of sampled audits since the last change, oldest first, at most MAX_AUDITS_KEPT */
	audits: string;
}

/** The stream's latest `recommendation` record, as a Confidence Gate with "Thresholds From: Latest Recommendation" reads it. */
export interface LatestRecommendation {
	recordId: string;
	sequence: number | null;
	at: string | null;
	targetPrecision: number;
	window: { from: string | null; to: string | null };
	/** label → recommended auto threshold; a label missing has none */
	thresholds: Record<string, number>;
}

export interface TrustSummary {
	/** the format of this summary */
	v: 1;
	stream: string;
	/** the last record folded in (0: none) and its hash, so a reader can tell a kept summary is current */
	throughSequence: number;
	throughHash: string | null;
	labels: Record<string, LabelTrust>;
	/**
	 * The latest recommendation record, absent before the first. Optional, so summaries kept before it existed
	 * stay valid: a stream could hold no recommendation record before this field did.
	 */
	recommendation?: LatestRecommendation;
}

export function emptySummary(stream: string): TrustSummary {
	return { v: 1, stream, throughSequence: 0, throughHash: null, labels: {} };
}

function newLabel(): LabelTrust {
	return { stage: 'review', epoch: 0, changedSequence: null, changedAt: null, reviewed: 0, agreed: 0, days: {}, audits: '' };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const DECIDED = new Set(['approved', 'edited', 'rejected']);

/** Folds one stored record into the summary (in place). Records that are not audit records move nothing but the position. */
export function foldRecord(summary: TrustSummary, raw: unknown): void {
	if (!isObject(raw)) return;
	if (typeof raw.sequence === 'number') summary.throughSequence = raw.sequence;
	summary.throughHash = typeof raw.hash === 'string' ? raw.hash : summary.throughHash;
	const at = typeof raw.at === 'string' ? raw.at : null;
	if (raw.kind === 'recommendation') {
		const latest = recommendationOf(raw);
		if (latest) summary.recommendation = latest;
		return;
	}
	if (raw.kind === 'trust-change') {
		const trust = raw.trust;
		if (!isObject(trust) || typeof trust.label !== 'string' || !(TRUST_STAGES as readonly unknown[]).includes(trust.to)) return;
		const current = summary.labels[trust.label];
		if ((current?.stage ?? 'review') === trust.to) return;
		summary.labels[trust.label] = {
			...newLabel(),
			stage: trust.to as TrustStage,
			epoch: (current?.epoch ?? 0) + 1,
			changedSequence: typeof raw.sequence === 'number' ? raw.sequence : null,
			changedAt: at,
		};
		return;
	}
	const review = raw.review;
	if (!isObject(review) || !DECIDED.has(review.decision as string)) return;
	const label = typeof raw.label === 'string' && raw.label ? raw.label : NO_LABEL;
	const entry = (summary.labels[label] ??= newLabel());
	const agreed = review.decision === 'approved' ? 1 : 0;
	entry.reviewed++;
	entry.agreed += agreed;
	if (at && !Number.isNaN(Date.parse(at))) {
		const day = new Date(Date.parse(at)).toISOString().slice(0, 10);
		const counts = (entry.days[day] ??= [0, 0]);
		counts[0]++;
		counts[1] += agreed;
		pruneDays(entry, day);
	}
	if (isObject(raw.gate) && raw.gate.sampled === true) {
		entry.audits = (entry.audits + String(agreed)).slice(-MAX_AUDITS_KEPT);
	}
}

function recommendationOf(raw: Json): LatestRecommendation | null {
	const body = raw.recommendation;
	if (!isObject(body) || typeof body.targetPrecision !== 'number' || !isObject(body.thresholds) || typeof raw.recordId !== 'string') return null;
	const thresholds: Record<string, number> = {};
	for (const [label, value] of Object.entries(body.thresholds)) {
		if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) thresholds[label] = value;
	}
	const window = isObject(body.window) ? body.window : {};
	const when = (value: unknown) => (typeof value === 'string' ? value : null);
	return {
		recordId: raw.recordId,
		sequence: typeof raw.sequence === 'number' ? raw.sequence : null,
		at: when(raw.at),
		targetPrecision: body.targetPrecision,
		window: { from: when(window.from), to: when(window.to) },
		thresholds,
	};
}

/** Drops days older than the longest window before `latest`; only runs when a new day appears. */
function pruneDays(entry: LabelTrust, latest: string): void {
	const days = Object.keys(entry.days);
	if (days.length <= MAX_WINDOW_DAYS) return;
	const oldest = new Date(Date.parse(`${latest}T00:00:00.000Z`) - (MAX_WINDOW_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
	for (const day of days) if (day < oldest) delete entry.days[day];
}

/** The summary of records given in sequence order (what the kept summaries must always equal). */
export function summarize(stream: string, records: Iterable<unknown>, from: TrustSummary = emptySummary(stream)): TrustSummary {
	for (const record of records) foldRecord(from, record);
	return from;
}

/** A summary as stored: checked enough to be trusted, else null (the reader then rebuilds it). */
export function parseSummary(value: unknown, stream: string): TrustSummary | null {
	if (!isObject(value) || value.v !== 1 || value.stream !== stream) return null;
	if (typeof value.throughSequence !== 'number' || !isObject(value.labels)) return null;
	if (value.throughHash !== null && typeof value.throughHash !== 'string') return null;
	return value as unknown as TrustSummary;
}

/** The first UTC day of a window of `days` days that ends today (`now`'s day). */
export function windowStartDay(days: number, now: Date = new Date()): string {
	const today = Date.parse(now.toISOString().slice(0, 10) + 'T00:00:00.000Z');
	return new Date(today - (Math.max(1, days) - 1) * 86_400_000).toISOString().slice(0, 10);
}

/** Reviewed and agreed items of a label since its last change, within the window. */
export function evidenceInWindow(entry: LabelTrust, windowDays: number, now?: Date): { reviewed: number; agreed: number } {
	const start = windowStartDay(windowDays, now);
	let reviewed = 0;
	let agreed = 0;
	for (const [day, [r, a]] of Object.entries(entry.days)) {
		if (day < start) continue;
		reviewed += r;
		agreed += a;
	}
	return { reviewed, agreed };
}
