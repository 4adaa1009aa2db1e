/**
 * The report's stages (Audit Log version 2): per label (or action), the stage its items were routed in at the
 * end of the window, since when and why, and the trust changes recorded in the window.
 *
 * - **shadow**: the label's latest gated record in the window passed a Confidence Gate in Shadow mode (every
 *   item to a person, the AI's answer recorded beside their decision). Since: its first such record in the window.
 * - **review** / **auto**, Earned mode: as the label's last trust-change record set it (the gate's own rule,
 *   nodes/ConfidenceGate/trust.ts), with that record's time, reason and numbers; a label that never changed is
 *   at review. Changes before the window count for the stage (the report reads the one that set it).
 * - Autopilot or Assist mode, without trust changes: auto (the thresholds route confident items) or review.
 */
import { NO_LABEL, TRUST_STAGES, type TrustStage } from '../trust/summary';

export type ReportStage = 'shadow' | TrustStage;

/** One trust-change record as the report shows it. */
export interface StageChange {
	at: string;
	sequence: number | null;
	recordId: string | null;
	label: string;
	from: TrustStage;
	to: TrustStage;
	reason: string;
	/** items the rule judged (reviewed items stepping forward, sampled audits stepping back) and those agreed */
	reviewed: number;
	agreed: number;
	lowerBound: number | null;
	upperBound: number | null;
	target: number | null;
	gateNode: string | null;
}

export interface LabelStage {
	stage: ReportStage;
	/** what set the stage: a trust-change record, or the gate's mode */
	setBy: 'trust-change' | 'shadow mode' | 'autopilot mode' | 'assist mode' | 'earned mode';
	/** when the stage began, as far as the store tells (null: a label that never changed) */
	since: string | null;
	why: string;
	/** the trust change that set the stage, also when it was before the window */
	lastChange: StageChange | null;
	/** trust changes of this label in the window */
	changesInWindow: number;
}

export interface ReportStages {
	byLabel: Record<string, LabelStage>;
	/** the window's trust changes, oldest first */
	changes: StageChange[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const numOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A stored trust-change record as the report shows it, or null when it is not one. */
export function stageChangeOf(raw: unknown): StageChange | null {
	if (!isObject(raw) || raw.kind !== 'trust-change' || !isObject(raw.trust) || typeof raw.at !== 'string') return null;
	const t = raw.trust;
	const stages = TRUST_STAGES as readonly unknown[];
	if (typeof t.label !== 'string' || !stages.includes(t.from) || !stages.includes(t.to)) return null;
	return {
		at: raw.at,
		sequence: numOrNull(raw.sequence),
		recordId: strOrNull(raw.recordId),
		label: t.label,
		from: t.from as TrustStage,
		to: t.to as TrustStage,
		reason: typeof t.reason === 'string' ? t.reason : '',
		reviewed: numOrNull(t.reviewed) ?? 0,
		agreed: numOrNull(t.agreed) ?? 0,
		lowerBound: numOrNull(t.lowerBound),
		upperBound: numOrNull(t.upperBound),
		target: numOrNull(t.target),
		gateNode: strOrNull(t.gateNode),
	};
}

/** Order of records: by time, then by sequence (records from the input may come in any order). */
function later(a: { at: string; sequence: number | null }, b: { at: string; sequence: number | null }): boolean {
	const ta = Date.parse(a.at);
	const tb = Date.parse(b.at);
	if (ta !== tb) return ta > tb;
	return (a.sequence ?? 0) > (b.sequence ?? 0);
}

interface GateSeen {
	at: string;
	sequence: number | null;
	mode: string;
	stage: TrustStage | null;
}

const MODE_WHY: Record<string, string> = {
	shadow: "Confidence Gate in Shadow mode: every item goes to a person; the AI's answer is recorded beside their decision",
	autopilot: 'Confidence Gate in Autopilot mode: confident items are auto-routed by the thresholds',
	assist: 'Confidence Gate in Assist mode: every item goes to a person',
	earned: 'Earned mode, never changed: every item goes to a person until its reviews earn auto-routing',
	earnedAuto: 'Earned mode: auto-routing was earned before the records this report read',
};

/** Collects the stages while the report reads its records. */
export class StagesBuilder {
	private readonly changes: StageChange[] = [];
	/** the last change of each label before the window */
	private readonly earlier = new Map<string, StageChange>();
	private readonly latestGate = new Map<string, GateSeen>();
	private readonly firstShadow = new Map<string, string>();

	/** A trust-change record inside the window. */
	change(raw: unknown): void {
		const change = stageChangeOf(raw);
		if (change) this.changes.push(change);
	}

	/** A trust-change record from before the window: it only sets where a label stood when the window began. */
	earlierChange(raw: unknown): void {
		const change = stageChangeOf(raw);
		if (!change) return;
		const known = this.earlier.get(change.label);
		if (!known || later(change, known)) this.earlier.set(change.label, change);
	}

	/** A decision record inside the window that passed a gate. */
	gated(label: string | null, at: string, sequence: number, gate: { mode?: unknown; stage?: unknown }): void {
		const key = label ?? NO_LABEL;
		const seen: GateSeen = {
			at,
			sequence,
			mode: typeof gate.mode === 'string' ? gate.mode : 'autopilot',
			stage: (TRUST_STAGES as readonly unknown[]).includes(gate.stage) ? (gate.stage as TrustStage) : null,
		};
		const known = this.latestGate.get(key);
		if (!known || later(seen, known)) this.latestGate.set(key, seen);
		if (seen.mode === 'shadow') {
			const first = this.firstShadow.get(key);
			if (first === undefined || Date.parse(at) < Date.parse(first)) this.firstShadow.set(key, at);
		}
	}

	result(): ReportStages {
		const lastChange = new Map(this.earlier);
		const inWindow: Record<string, number> = {};
		// as the trust summary counts them: a change to the stage the label already has (two gate runs noticing
		// the same thing at once) changes nothing
		const changes = [...this.changes]
			.sort((a, b) => (later(a, b) ? 1 : later(b, a) ? -1 : 0))
			.filter((change) => {
				// a label's first change read: its `from` is where it stood (its earlier change may not have been read)
				if ((lastChange.get(change.label)?.to ?? change.from) === change.to) return false;
				lastChange.set(change.label, change);
				inWindow[change.label] = (inWindow[change.label] ?? 0) + 1;
				return true;
			});
		const labels = [...new Set([...lastChange.keys(), ...this.latestGate.keys()])].sort((a, b) => a.localeCompare(b));
		const byLabel: Record<string, LabelStage> = {};
		for (const label of labels) {
			const gate = this.latestGate.get(label);
			const change = lastChange.get(label) ?? null;
			const changesInWindow = inWindow[label] ?? 0;
			if (gate?.mode === 'shadow') {
				byLabel[label] = { stage: 'shadow', setBy: 'shadow mode', since: this.firstShadow.get(label) ?? gate.at, why: MODE_WHY.shadow, lastChange: change, changesInWindow };
			} else if (change) {
				byLabel[label] = { stage: change.to, setBy: 'trust-change', since: change.at, why: change.reason, lastChange: change, changesInWindow };
			} else if (gate) {
				const mode = gate.mode in MODE_WHY ? gate.mode : 'autopilot';
				const stage: TrustStage = gate.stage ?? (mode === 'autopilot' ? 'auto' : 'review');
				const why = mode === 'earned' && stage === 'auto' ? MODE_WHY.earnedAuto : MODE_WHY[mode];
				byLabel[label] = { stage, setBy: `${mode} mode` as LabelStage['setBy'], since: null, why, lastChange: null, changesInWindow };
			}
		}
		return { byLabel, changes };
	}
}
