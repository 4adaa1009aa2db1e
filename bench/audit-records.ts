/** The decision records the Audit Log benchmarks append: an AI Classify result per ticket, as Audit Log stores it. */
import { buildDraft, type AuditDraft } from '../nodes/AuditLog/record';
import { withAiResult } from '../shared/contract';

export function auditItem(i: number): Record<string, unknown> {
	return withAiResult({ subject: `Ticket ${i}`, text: `My invoice ${i} was charged twice, please refund.` }, 'classify', {
		decisionId: `d-${i}`,
		step: 'classify',
		answer: i % 3 === 0 ? 'billing' : i % 3 === 1 ? 'technical' : 'other',
		confidence: (i % 100) / 100,
		confidenceMethod: 'logprobs',
		reason: 'The customer mentions a double charge.',
		evidence: ['charged twice'],
		needsReview: i % 7 === 0,
		provider: 'openai',
		model: 'gpt-4o-mini',
		responseId: `resp_${i}`,
		usage: { inputTokens: 180, outputTokens: 24, cachedInputTokens: 128, cacheWriteTokens: 0, requests: 1 },
		costUsd: 0.000041,
		attempts: 1,
		latencyMs: 350,
		promptHash: 'a'.repeat(64),
		at: new Date().toISOString(),
	});
}

/** Drafts for items `from` .. `from + n - 1`, as one Audit Log run of those items would append them. */
export function auditDrafts(from: number, n: number, executionId: string): AuditDraft[] {
	return Array.from({ length: n }, (_, k) =>
		buildDraft(auditItem(from + k), { workflowId: 'bench', executionId, nodeName: 'Audit Log', itemIndex: (from + k) % 100 }),
	);
}
