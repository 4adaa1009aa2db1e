/** Items shaped like an AI node's output (the item contract), for the Human Checkpoint tests. */
import { withAiResult, type AiResult } from '../../shared/contract';

export function aiResult(step: AiResult['step'], answer: unknown, extra: Partial<AiResult> = {}): AiResult {
	return {
		decisionId: `d-${JSON.stringify(answer)}`,
		step,
		answer,
		confidence: 0.72,
		confidenceMethod: 'logprobs',
		reason: 'mentions an invoice',
		evidence: ['please refund invoice 42'],
		needsReview: false,
		provider: 'openai',
		model: 'test-model',
		usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
		costUsd: 0.0001,
		attempts: 1,
		latencyMs: 12,
		promptHash: 'abc',
		at: '2026-01-01T00:00:00.000Z',
		...extra,
	};
}

export function classifiedItem(text: string, label: string): Record<string, unknown> {
	return withAiResult({ ticket: text, customer: 'ACME' }, 'classify', aiResult('classify', label));
}

export function extractedItem(record: Record<string, unknown>): Record<string, unknown> {
	return withAiResult({ doc: 'invoice.pdf' }, 'extract', aiResult('extract', record));
}
