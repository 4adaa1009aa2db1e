/**
 * Turns the reviewer's decisions into the node's three outputs. Each input item comes out exactly
 * once, with its input fields (and binary data) kept, `review` added, `approved` set (n8n's AI
 * Agent "Human review" tool reads that boolean) and `pairedItem` pointing at its input.
 */
import { latestAiResult, type ReviewResult } from '../../shared/contract';
import type { ResolvedReview } from './decisions';
import { diffValues, mergeAnswer } from './edits';

/** Output order matters: on timeout n8n itself sends the original items to output 0. */
export const OUTPUT_NAMES = ['No Response', 'Approved', 'Rejected'] as const;
export const OUTPUT_NO_RESPONSE = 0;
export const OUTPUT_APPROVED = 1;
export const OUTPUT_REJECTED = 2;

export interface PausedItem {
	json: Record<string, unknown>;
	binary?: Record<string, unknown>;
}

export interface OutputItem {
	json: Record<string, unknown>;
	binary?: Record<string, unknown>;
	pairedItem: { item: number };
}

export interface BuildOutputsOptions {
	/** the `ai.<key>` each item's answer lives under (undefined: the item had no AI result) */
	keys: Array<string | undefined>;
	decidedAt: Date;
	pausedAt?: Date;
	/**
	 * Version 2: the AI result under review says the person settled it. `needsReview` is false once approved
	 * (the answer, the AI's or the corrected one, is a person's now) and true once rejected (the answer was
	 * refused: nothing may act on it as if it were sure); `reviewedBy` names the reviewer. Version 1 leaves
	 * the AI result as it was.
	 */
	markReviewed?: boolean;
}

/** The item with its `ai.<key>` result marked as decided by a person (copies, never the paused input). */
function markReviewed(json: Record<string, unknown>, key: string, approved: boolean, reviewer: string): Record<string, unknown> {
	const ai = json.ai as Record<string, unknown> | undefined;
	const result = ai?.[key];
	if (!ai || typeof result !== 'object' || result === null || Array.isArray(result)) return json;
	return { ...json, ai: { ...ai, [key]: { ...result, needsReview: !approved, reviewedBy: reviewer } } };
}

export function buildOutputs(
	items: PausedItem[],
	review: ResolvedReview,
	options: BuildOutputsOptions,
): OutputItem[][] {
	const outputs: OutputItem[][] = OUTPUT_NAMES.map(() => []);
	const waitedMs =
		options.pausedAt && !Number.isNaN(options.pausedAt.getTime())
			? Math.max(0, options.decidedAt.getTime() - options.pausedAt.getTime())
			: null;
	for (const decision of review.decisions) {
		const input = items[decision.index];
		const key = options.keys[decision.index];
		let json = { ...input.json };
		let edits: ReviewResult['edits'] = null;
		if (decision.action === 'approve' && decision.changed && key !== undefined) {
			const from = latestAiResult(json, key)?.result.answer;
			edits = diffValues(from, decision.newAnswer, `ai.${key}.answer`);
			json = mergeAnswer(json, key, decision.newAnswer);
		}
		const reviewer = decision.reviewer ?? review.reviewer;
		const result: ReviewResult = {
			decision: decision.action === 'reject' ? 'rejected' : edits ? 'edited' : 'approved',
			reviewer,
			comment: decision.comment,
			edits,
			decidedAt: options.decidedAt.toISOString(),
			waitedMs,
		};
		if (options.markReviewed && key !== undefined) json = markReviewed(json, key, decision.action === 'approve', reviewer);
		json.review = result;
		json.approved = decision.action === 'approve';
		const out: OutputItem = { json, pairedItem: { item: decision.index } };
		if (input.binary) out.binary = input.binary;
		outputs[decision.action === 'approve' ? OUTPUT_APPROVED : OUTPUT_REJECTED].push(out);
	}
	return outputs;
}
