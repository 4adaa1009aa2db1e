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

/**
 * What every AI result carries, whatever its step: the part the AI nodes fill in common (shared/aiStep.ts).
 * Each step adds its answer's type and fields of its own: see the step schemas below.
 */
export const aiResultSchema = z.object({
	decisionId: z.string(),
	step: z.enum(AI_STEPS),
	/** the answer: a label, a list of labels, an extracted record or an action (null when the step failed) */
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
	/**
	 * The answer is another item's of the same run, asked with the same text and settings: this item made no
	 * request (its usage, cost and attempts are zero). Absent when the item asked itself.
	 */
	reused: z.boolean().optional(),
	/**
	 * "Items per Request" (AI Classify version 4): the answer came from one request for this many items; the
	 * usage is this item's share of it (input tokens by its share of the prompt, output tokens by its own entry).
	 */
	itemsInRequest: z.number().optional(),
	/** the item's answer in the request for several was missing or invalid, and it was asked again alone */
	askedAlone: z.boolean().optional(),
	/**
	 * The answer came from the result cache (AI Classify and AI Extract from version 4): the same request was
	 * answered before, at `cachedAt`, within the cache's time to live. No request was made (usage, cost and
	 * attempts are zero). Absent when the model was asked.
	 */
	cached: z.boolean().optional(),
	cachedAt: z.string().optional(),
	at: z.string(),
})
	// each step adds fields of its own, and a later version may add more: keep them when reading a result
	.passthrough();
/** The common part of a result, as the AI nodes write it; readers get a `StepResult`. */
export type AiResult = z.infer<typeof aiResultSchema>;

/**
 * The step schemas. Their own fields are optional: a failed item's result (`answer: null`, shared/aiStep.ts)
 * carries none of them, and neither does a result written before a field existed. Their answers are typed:
 * null on a failed item, else the step's own kind of answer.
 */
export const classifyResultSchema = aiResultSchema.extend({
	step: z.literal('classify'),
	/** the category, or the categories when several may apply */
	answer: z.union([z.string(), z.array(z.string())]).nullable(),
	/** one category: the answer again */
	label: z.string().optional(),
	/** several categories: the answer again, with a confidence per category in `scores` */
	labels: z.array(z.string()).optional(),
	/** confidence per category (with k samples also the categories that did not make it in); null: not measured */
	scores: z.record(z.number().nullable()).optional(),
	/** the node's confidence threshold */
	threshold: z.number().optional(),
	/** how many samples the agreement was measured over */
	samples: z.number().optional(),
	/** evidence quotes the model gave that are not in the text (dropped from `evidence`) */
	unsupportedEvidence: z.number().optional(),
});
export type ClassifyResult = z.infer<typeof classifyResultSchema>;

/** What AI Extract reports per field of the record. */
export const fieldResultSchema = z
	.object({
		value: z.unknown(),
		/** the model's verbatim quote from the text, null when it gave none */
		quote: z.string().nullable(),
		supported: z.boolean(),
		confidence: z.number(),
		/** why the value is not supported */
		problem: z.string().optional(),
	})
	.passthrough();
export type FieldResult = z.infer<typeof fieldResultSchema>;

const extractedRecord = z.record(z.unknown());

export const extractResultSchema = aiResultSchema.extend({
	step: z.literal('extract'),
	/** the record; an empty list when the text held no record at all */
	answer: z.union([extractedRecord, z.array(extractedRecord)]).nullable(),
	/** the record again (null when there was none) */
	data: extractedRecord.nullable().optional(),
	fields: z.record(fieldResultSchema).optional(),
	/** required fields without a value */
	missing: z.array(z.string()).optional(),
	/** fields whose value the text does not support */
	unsupported: z.array(z.string()).optional(),
	/** the text was cut to Max Input Characters */
	truncated: z.boolean().optional(),
	threshold: z.number().optional(),
	/** several records per item: which one this item holds, and how many there were */
	recordIndex: z.number().nullable().optional(),
	recordCount: z.number().optional(),
});
export type ExtractResult = z.infer<typeof extractResultSchema>;

export const decideResultSchema = aiResultSchema.extend({
	step: z.literal('decide'),
	/** the action (escalate when the node escalated) */
	answer: z.string().nullable(),
	/** the action again */
	action: z.string().optional(),
	/** the model's own choice, also when the node escalated it; null when a rule decided */
	proposedAction: z.string().nullable().optional(),
	/** the rule that forced the action or the escalation */
	rule: z.string().nullable().optional(),
	rulesMatched: z.array(z.string()).optional(),
	/** actions the matched rules forbid for this item */
	forbidden: z.array(z.string()).optional(),
	threshold: z.number().optional(),
	samples: z.number().optional(),
	unsupportedEvidence: z.number().optional(),
});
export type DecideResult = z.infer<typeof decideResultSchema>;

/** One typed result per step: readers narrow on `step` to reach the answer's type and the step's fields. */
export const stepResultSchema = z.discriminatedUnion('step', [classifyResultSchema, extractResultSchema, decideResultSchema]);
export type StepResult = z.infer<typeof stepResultSchema>;

/** The fields of each step that repeat its answer; a corrected answer replaces them too. */
const ANSWER_MIRRORS = {
	classify: ['label', 'labels'],
	extract: ['data'],
	decide: ['action'],
} as const satisfies { [S in AiStep]: ReadonlyArray<keyof Extract<StepResult, { step: S }>> };

/** The answer a result repeats under the step's own names: each must hold the answer itself (`data` may be null). */
function mirrorsAgree(result: StepResult, ctx: z.RefinementCtx): void {
	const own = result as Record<string, unknown>;
	for (const field of ANSWER_MIRRORS[result.step]) {
		const value = own[field];
		if (value === undefined || (field === 'data' && value === null)) continue;
		if (JSON.stringify(value) !== JSON.stringify(result.answer)) {
			ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `${field} must repeat the answer` });
		}
	}
}

/**
 * The step schemas without leniency, for checking what this version's AI nodes write: no field the contract
 * does not name (here or in a field's record), and the fields that repeat the answer do repeat it.
 */
export const exactStepResultSchema = z
	.discriminatedUnion('step', [
		classifyResultSchema.extend({ usage: usageSchema.strict() }).strict(),
		extractResultSchema.extend({ usage: usageSchema.strict(), fields: z.record(fieldResultSchema.strict()).optional() }).strict(),
		decideResultSchema.extend({ usage: usageSchema.strict() }).strict(),
	])
	.superRefine((result, ctx) => mirrorsAgree(result as StepResult, ctx));

/** True for a classify result that may carry several labels (its answer is a list). */
export function isMultiLabel(result: StepResult): result is ClassifyResult & { answer: string[] } {
	return result.step === 'classify' && Array.isArray(result.answer);
}

/**
 * The label(s) a result is counted under: a classify result's category or categories, a decide result's action;
 * none for an extraction or a result without an answer. Also reads a result that does not meet the contract in
 * full, from its step and answer.
 */
export function answerLabels(result: { step?: AiStep; answer?: unknown }): string[] {
	const { step, answer } = result;
	if (step === 'extract') return [];
	if (typeof answer === 'string') return [answer];
	if (Array.isArray(answer) && answer.every((a) => typeof a === 'string')) return answer as string[];
	return [];
}

export interface LabelScore {
	label: string;
	/** the confidence in this label; null when it was not measured */
	score: number | null;
}

/**
 * Each label of a result with its own confidence: a category of several with its score (null for a label
 * without one, e.g. added by a reviewer), otherwise the result's confidence.
 */
export function labelScores(result: StepResult): LabelScore[] {
	const labels = answerLabels(result);
	const scores = isMultiLabel(result) ? result.scores : undefined;
	if (!scores) return labels.map((label) => ({ label, score: result.confidence }));
	return labels.map((label) => ({
		label,
		score: Object.prototype.hasOwnProperty.call(scores, label) ? (scores[label] ?? null) : null,
	}));
}

/**
 * A copy of a result with its answer replaced and the step's fields that repeat it set to it too (a
 * downstream node must read the answer a person approved, whichever name it reads). A result that does not
 * say its step gets every step's repeated fields it has.
 */
export function withAnswer(result: Record<string, unknown>, answer: unknown): Record<string, unknown> {
	const step = (AI_STEPS as readonly unknown[]).includes(result.step) ? (result.step as AiStep) : undefined;
	const mirrors: readonly string[] = step ? ANSWER_MIRRORS[step] : Object.values(ANSWER_MIRRORS).flat();
	const updated: Record<string, unknown> = { ...result, answer: structuredClone(answer) };
	for (const field of mirrors) {
		if (Object.prototype.hasOwnProperty.call(result, field)) updated[field] = structuredClone(answer);
	}
	return updated;
}

export const GATE_BANDS = ['auto', 'review', 'reject'] as const;
export type GateBand = (typeof GATE_BANDS)[number];

export const THRESHOLD_SOURCES = ['typed', 'recommendation', 'no-recommendation'] as const;

export const gateSchema = z.object({
	band: z.enum(GATE_BANDS),
	confidence: z.number().nullable(),
	high: z.number(),
	low: z.number(),
	/** an Auto item sent to Review for the random audit sample */
	sampled: z.boolean(),
	/**
	 * autopilot: by the bands; assist: every item to Review; shadow: every item to Review as before the AI
	 * existed, the AI's band kept in `wouldBe`; earned: auto-routing only for labels that earned it (`trust`).
	 */
	mode: z.enum(['autopilot', 'assist', 'shadow', 'earned']),
	/** where the confidence came from, e.g. `ai.classify` or `expression` */
	source: z.string(),
	/** the label whose thresholds applied; null without one, and for a result with several labels (see `labels`) */
	label: z.string().nullable(),
	reason: z.string(),
	/** a result with several labels: each label's confidence, thresholds and band (the item takes the lowest band) */
	labels: z
		.array(
			z.object({
				label: z.string(),
				confidence: z.number().nullable(),
				high: z.number(),
				low: z.number(),
				band: z.enum(GATE_BANDS),
				thresholdSource: z.enum(THRESHOLD_SOURCES).optional(),
			}),
		)
		.optional(),
	/**
	 * version 3: where the thresholds that applied came from. typed: the typed numbers; recommendation: the
	 * latest recommendation recorded in the audit stream; no-recommendation: it has none for the label, so the
	 * label is not auto-routed (Review). With Latest Recommendation, `recommendation` names the one read (null
	 * when the stream holds none); with Typed Numbers it is null.
	 */
	thresholdSource: z.enum(THRESHOLD_SOURCES).optional(),
	recommendation: z
		.object({
			recordId: z.string(),
			at: z.string().nullable(),
			targetPrecision: z.number(),
			window: z.object({ from: z.string().nullable(), to: z.string().nullable() }),
		})
		.nullable()
		.optional(),
	/** shadow and earned mode: the band the AI alone would have chosen (bands and flags, before any stage or sample) */
	wouldBe: z.enum(GATE_BANDS).optional(),
	/** earned mode: the label's stage and the numbers behind it when the gate ran, and the change this run made */
	trust: z
		.object({
			label: z.string(),
			stage: z.enum(['review', 'auto']),
			/** reviewed / agreed items in the window since the label's last change (stage review) */
			reviewed: z.number(),
			agreed: z.number(),
			/** sampled audits judged / agreed (stage auto) */
			audits: z.number(),
			auditsAgreed: z.number(),
			/** the trust change this run recorded for the label, if any */
			changed: z.object({ from: z.enum(['review', 'auto']), to: z.enum(['review', 'auto']), reason: z.string(), recordId: z.string() }).nullable(),
		})
		.optional(),
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
): { key: string; result: StepResult } | undefined {
	const ai = json.ai;
	if (!isObject(ai)) return undefined;
	const chosen = key || (typeof ai[LATEST_KEY] === 'string' ? (ai[LATEST_KEY] as string) : undefined);
	if (!chosen) return undefined;
	const parsed = stepResultSchema.safeParse(ai[chosen]);
	return parsed.success ? { key: chosen, result: parsed.data } : undefined;
}

export function validateResultKey(key: string): string | undefined {
	if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
		return 'must start with a letter and contain only letters, digits and underscores';
	}
	if (key === LATEST_KEY) return `"${LATEST_KEY}" is reserved`;
	return undefined;
}
