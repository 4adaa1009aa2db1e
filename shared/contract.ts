/**
 * The item contract: how the six nodes compose.
 *
 * An AI node keeps the input item and adds its result under `ai.<key>` (`ai.classify`, `ai.extract`,
 * `ai.decide`, or a renamed key), and records that key in `ai.latest` so that Confidence Gate, Human
 * Checkpoint and Audit Log can find the most recent AI result with zero configuration.
 * Gate adds `gate`, Checkpoint adds `review`, Audit Log adds `audit`.
 *
 * Types are inferred from these zod schemas; nothing here is written twice.
 */
import { z } from 'zod';

export const AI_STEPS = ['classify', 'extract', 'decide'] as const;
export type AiStep = (typeof AI_STEPS)[number];

export const CONFIDENCE_METHODS = [
	'logprobs',
	'k-sample',
	'model-estimate',
	'evidence+estimate',
	'rule',
	'none',
] as const;
export type ConfidenceMethod = (typeof CONFIDENCE_METHODS)[number];

export const usageSchema = z.object({
	inputTokens: z.number(),
	outputTokens: z.number(),
	/** input tokens served from the provider's prompt cache */
	cachedInputTokens: z.number(),
	/** input tokens written to the prompt cache (Anthropic) */
	cacheWriteTokens: z.number(),
	requests: z.number(),
});
export type Usage = z.infer<typeof usageSchema>;

export const aiResultSchema = z.object({
	decisionId: z.string(),
	step: z.enum(AI_STEPS),
	/** the answer: a label, a list of labels, an extracted record or an action */
	answer: z.unknown(),
	confidence: z.number().min(0).max(1).nullable(),
	confidenceMethod: z.enum(CONFIDENCE_METHODS),
	reason: z.string(),
	evidence: z.array(z.string()),
	/** true when the node sent the item to its review / escalate output */
	needsReview: z.boolean(),
	reviewReason: z.string().optional(),
	/** set when the item failed and Continue On Fail routed it */
	error: z.string().optional(),
	provider: z.string(),
	model: z.string(),
	responseId: z.string().optional(),
	usage: usageSchema,
	costUsd: z.number(),
	attempts: z.number(),
	latencyMs: z.number(),
	promptHash: z.string(),
	/** AI Decide: the chosen action must be approved by a person */
	requiresApproval: z.boolean().optional(),
	/**
	 * The JSON Schema every answer of this step must satisfy (a category, an allowed action, a record of the
	 * extraction schema), so that a node that cannot see the AI node's settings (Human Checkpoint) holds a
	 * person's correction to the same contract. Absent on results written before it existed.
	 */
	answerSchema: z.record(z.unknown()).optional(),
	at: z.string(),
})
	// each node adds fields of its own (label, scores, fields, rule…): keep them when reading a result
	.passthrough();
export type AiResult = z.infer<typeof aiResultSchema>;

export const GATE_BANDS = ['auto', 'review', 'reject'] as const;
export type GateBand = (typeof GATE_BANDS)[number];

export const gateSchema = z.object({
	band: z.enum(GATE_BANDS),
	confidence: z.number().nullable(),
	high: z.number(),
	low: z.number(),
	/** an Auto item sent to Review for the random audit sample */
	sampled: z.boolean(),
	mode: z.enum(['autopilot', 'assist', 'shadow']),
	/** where the confidence came from, e.g. `ai.classify` or `expression` */
	source: z.string(),
	label: z.string().nullable(),
	reason: z.string(),
});
export type GateResult = z.infer<typeof gateSchema>;

export const REVIEW_DECISIONS = ['approved', 'edited', 'rejected', 'no-response'] as const;
export const reviewSchema = z.object({
	decision: z.enum(REVIEW_DECISIONS),
	reviewer: z.string().nullable(),
	comment: z.string().nullable(),
	/** the fields the reviewer changed: path -> { from, to } */
	edits: z.record(z.object({ from: z.unknown(), to: z.unknown() })).nullable(),
	decidedAt: z.string().nullable(),
	waitedMs: z.number().nullable(),
});
export type ReviewResult = z.infer<typeof reviewSchema>;

export const auditStampSchema = z.object({
	recordId: z.string(),
	stream: z.string(),
	sequence: z.number(),
	hash: z.string(),
});
export type AuditStamp = z.infer<typeof auditStampSchema>;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Key under `ai` that names the most recent result. Not allowed as a result key. */
export const LATEST_KEY = 'latest';

/** Returns a copy of the item's json with `ai.<key>` set to `result` and `ai.latest` pointing at it. */
export function withAiResult(json: Json, key: string, result: AiResult): Json {
	const ai = isObject(json.ai) ? json.ai : {};
	return { ...json, ai: { ...ai, [key]: result, [LATEST_KEY]: key } };
}

/**
 * The most recent AI result on an item: `ai[ai.latest]`, or with `key` the named one.
 * Returns undefined when there is none (e.g. a Gate placed before any AI node).
 */
export function latestAiResult(
	json: Json,
	key?: string,
): { key: string; result: AiResult } | undefined {
	const ai = json.ai;
	if (!isObject(ai)) return undefined;
	const chosen = key || (typeof ai[LATEST_KEY] === 'string' ? (ai[LATEST_KEY] as string) : undefined);
	if (!chosen) return undefined;
	const parsed = aiResultSchema.safeParse(ai[chosen]);
	return parsed.success ? { key: chosen, result: parsed.data } : undefined;
}

export function validateResultKey(key: string): string | undefined {
	if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
		return 'must start with a letter and contain only letters, digits and underscores';
	}
	if (key === LATEST_KEY) return `"${LATEST_KEY}" is reserved`;
	return undefined;
}
