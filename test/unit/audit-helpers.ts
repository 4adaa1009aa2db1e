/** Items and records for the audit tests. */
import type { AiResult } from '../../shared/contract';
import { withAiResult } from '../../shared/contract';
import { buildDraft, type AuditDraft } from '../../nodes/AuditLog/record';

export interface AiSpec {
	step?: AiResult['step'];
	answer?: unknown;
	confidence?: number | null;
	needsReview?: boolean;
	provider?: string;
	model?: string;
	inputTokens?: number;
	outputTokens?: number;
	costUsd?: number;
	error?: string;
}

export function aiResult(spec: AiSpec = {}): AiResult {
	return {
		decisionId: `d-${Math.random().toString(36).slice(2)}`,
		step: spec.step ?? 'classify',
		answer: 'answer' in spec ? spec.answer : 'billing',
		confidence: spec.confidence === undefined ? 0.9 : spec.confidence,
		confidenceMethod: 'logprobs',
		reason: 'because',
		evidence: ['quote'],
		needsReview: spec.needsReview ?? false,
		...(spec.error ? { error: spec.error } : {}),
		provider: spec.provider ?? 'openai',
		model: spec.model ?? 'gpt-4o-mini',
		responseId: 'resp_1',
		usage: {
			inputTokens: spec.inputTokens ?? 100,
			outputTokens: spec.outputTokens ?? 10,
			cachedInputTokens: 0,
			cacheWriteTokens: 0,
			requests: 1,
		},
		costUsd: spec.costUsd ?? 0.001,
		attempts: 1,
		latencyMs: 120,
		promptHash: 'p'.repeat(64),
		at: '2025-03-01T10:00:00.000Z',
	};
}

/** An item as it leaves an AI node (with `ai.latest`), optionally past a gate and a checkpoint. */
export function aiItem(
	text: string,
	spec: AiSpec = {},
	extra: { gate?: Record<string, unknown>; review?: Record<string, unknown> } = {},
): Record<string, unknown> {
	const json = withAiResult({ text }, spec.step ?? 'classify', aiResult(spec));
	if (extra.gate) json.gate = extra.gate;
	if (extra.review) json.review = extra.review;
	return json;
}

export function gate(band: 'auto' | 'review' | 'reject', confidence: number | null, label: string | null, sampled = false) {
	return { band, confidence, high: 0.8, low: 0.3, sampled, mode: 'autopilot', source: 'ai.classify', label, reason: 'r' };
}

export function review(decision: 'approved' | 'edited' | 'rejected' | 'no-response') {
	return {
		decision,
		reviewer: decision === 'no-response' ? null : 'ana@example.com',
		comment: null,
		edits: decision === 'edited' ? { label: { from: 'billing', to: 'technical' } } : null,
		decidedAt: '2025-03-01T11:00:00.000Z',
		waitedMs: 1000,
	};
}

/** `n` drafts of plain classify items; `tag` makes them distinguishable. */
export function drafts(n: number, tag: string, nodeName = 'Audit Log'): AuditDraft[] {
	const out: AuditDraft[] = [];
	for (let i = 0; i < n; i++) {
		out.push(
			buildDraft(aiItem(`${tag} ticket ${i}`), {
				workflowId: 'wf1',
				executionId: `${tag}`,
				nodeName,
				itemIndex: i,
			}),
		);
	}
	return out;
}

/** Splits `total` into batches of 1..maxBatch (deterministic per seed), so writers interleave. */
export function batchSizes(total: number, maxBatch: number, seed: number): number[] {
	const sizes: number[] = [];
	let left = total;
	let x = seed;
	while (left > 0) {
		x = (x * 1103515245 + 12345) % 2147483648;
		const size = Math.min(left, 1 + (x % maxBatch));
		sizes.push(size);
		left -= size;
	}
	return sizes;
}
