/**
 * The drift scenario of issue 16, shared by the unit test (full size, through n8n-core's engine) and the e2e
 * test (a real n8n against the provider server): three labels the AI answers, each with its own accuracy, and
 * a deterministic reviewer who knows the ground truth.
 *
 * Accuracy here is per AI label (what trust is kept under): of the items the AI labels `billing`, the share
 * whose ground truth is `billing`. A wrong answer's truth is `misc`, a category the AI never answers, so one
 * label's errors never count against another label.
 */
import { sha256 } from '../../../shared/hash';

export const LABELS = ['billing', 'shipping', 'other'] as const;
export type Label = (typeof LABELS)[number];
export const WRONG_TRUTH = 'misc';

/** Accuracy per label before and after the drop: billing drifts from 97 % to 70 %, the others hold. */
export const ACCURACY: Record<Label, [number, number]> = {
	billing: [0.97, 0.7],
	shipping: [0.97, 0.97],
	other: [0.8, 0.8],
};

/** Items of each label in phase 1 (before the drop): 1,500, as the issue asks. */
export const PHASE1_PER_LABEL = 1500;

/** A deterministic draw in [0, 1) from a key. */
export function draw(key: string): number {
	return parseInt(sha256(`drift-scenario:${key}`).slice(0, 12), 16) / 2 ** 48;
}

export interface ScenarioItem {
	/** unique across the scenario */
	id: string;
	/** what the AI answers */
	label: Label;
	/** the ground truth the reviewer knows */
	truth: string;
	phase: 1 | 2;
}

/** Item `index` of the scenario (labels in turn); phase 2 starts after `phase1PerLabel` items of each label. */
export function scenarioItem(run: string, index: number, phase1PerLabel = PHASE1_PER_LABEL): ScenarioItem {
	const label = LABELS[index % LABELS.length];
	const phase = index < phase1PerLabel * LABELS.length ? 1 : 2;
	const id = `${run}-${index}`;
	return { id, label, truth: draw(id) < ACCURACY[label][phase - 1] ? label : WRONG_TRUTH, phase };
}

/**
 * The reviewer: approves an answer equal to the truth, otherwise corrects it to the truth, as a Human
 * Checkpoint records it (`review`, with the edit of the answer as a diff).
 */
export function reviewOf(answer: string, truth: string, at = new Date().toISOString()) {
	const agreed = answer === truth;
	return {
		decision: agreed ? 'approved' : 'edited',
		reviewer: 'scenario-reviewer',
		comment: null,
		edits: agreed ? null : { 'ai.classify.answer': { from: answer, to: truth } },
		decidedAt: at,
		waitedMs: 0,
	};
}
