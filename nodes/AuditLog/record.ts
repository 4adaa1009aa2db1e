/**
 * The audit record: one per item that passes an Audit Log node, built from the item's latest AI result,
 * its gate result and its human review (see shared/contract.ts). A record never holds a secret: the item
 * itself never carries API keys, and the optional input copy drops every field whose name looks like one.
 *
 * Format versions (the chain hashes whatever a record holds, so both verify alike):
 * - v1: `usage` and `costUsd` of the recorded decision only.
 * - v2: adds `steps` (every AI step on the item: its decision id, model, usage and cost) and `total`
 *   (their sum), so an item that went through AI Classify and then AI Decide accounts for both calls.
 *   `usage` and `costUsd` keep their v1 meaning. The report reads both versions.
 * - v3: adds record kinds (a gate's trust change), the gate's stage and would-be band, and `cached` (the
 *   decision came from the result cache); written only for a record that holds one of them.
 */
import { randomUUID } from 'node:crypto';
// the contract's schemas are zod 3; the record's schema, converted from JSON Schema, is zod 4
import type { ZodTypeAny } from 'zod';
import type { z } from 'zod/v4';

import {
	AI_STEPS,
	LATEST_KEY,
	aiResultSchema,
	answerLabels,
	gateSchema,
	latestAiResult,
	reviewSchema,
	stepResultSchema,
	usageSchema,
	type AuditStamp,
	type StepResult,
	type Usage,
} from '../../shared/contract';
import { addUsage, emptyUsage } from '../../shared/cost';
import { redact } from '../../shared/redact';
import { canonicalJson, sha256 } from '../../shared/hash';
import { jsonSchemaToZod } from '../../shared/schema/jsonSchemaToZod';
import { AUDIT_RECORD_VERSIONS, auditRecordJsonSchema, type AuditRecord, type StepCost } from './recordSchema';

export const AUDIT_RECORD_VERSION = 2;
/** Every version the report and the schema read. */
export { AUDIT_RECORD_VERSIONS };

/** Item fields the nodes of this package add; the input hash covers everything else. */
export const CONTRACT_FIELDS = ['ai', 'gate', 'review', 'audit'] as const;

/** Field names never copied into a record. */
export const SECRET_FIELD = /key|secret|token|password/i;

/**
 * The record's published JSON Schema (recordSchema.ts), as the report enforces it when it reads a stream:
 * the same document integrators validate against. Its type comes from that schema too.
 */
export const auditRecordSchema = jsonSchemaToZod(auditRecordJsonSchema, { strict: false, open: true }) as z.ZodType<AuditRecord>;
export type { AuditRecord, StepCost };

/** A record before the sink numbers and chains it. */
export type AuditDraft = Omit<AuditRecord, 'stream' | 'sequence' | 'prevHash' | 'prevRecordId' | 'hash'>;

export interface DraftContext {
	workflowId: string | null;
	executionId: string | null;
	nodeName: string | null;
	itemIndex: number;
	/** which `ai.<key>` to record; the item's latest AI result when empty */
	aiKey?: string;
	includeInput?: boolean;
	now?: Date;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A plain-JSON copy: drops undefined, turns dates into strings, and replaces NUL characters, which
 * PostgreSQL's jsonb refuses. Done before hashing, so every sink stores exactly what was hashed.
 */
export function toPlainJson<T>(value: T): T {
	const text = JSON.stringify(value, (_key, v: unknown) =>
		typeof v === 'string' && v.includes('\u0000') ? v.replace(/\u0000/g, '\uFFFD') : v,
	);
	return (text === undefined ? null : JSON.parse(text)) as T;
}

/** The item's own fields, without the ones this package adds. */
export function inputFields(json: Json): Json {
	const out: Json = {};
	for (const [key, value] of Object.entries(json)) {
		if (!(CONTRACT_FIELDS as readonly string[]).includes(key)) out[key] = value;
	}
	return out;
}

/** A copy with secret-looking fields removed and personal data in text masked. */
export function redactInput(value: unknown): unknown {
	if (typeof value === 'string') return redact(value).text;
	if (Array.isArray(value)) return value.map(redactInput);
	if (isObject(value)) {
		const out: Json = {};
		for (const [key, member] of Object.entries(value)) {
			if (SECRET_FIELD.test(key)) continue;
			out[key] = redactInput(member);
		}
		return out;
	}
	return value;
}

/**
 * The gate's label, else the labels the gate saw (the AI's, also after a person edited the answer), else the
 * result's label(s): a category, several sorted, or an action.
 */
function labelOf(result: AiFields | undefined, gateLabel: string | null | undefined, gateLabels?: Array<{ label: string }>): string | null {
	if (typeof gateLabel === 'string' && gateLabel) return gateLabel;
	if (gateLabels?.length) return gateLabels.map((l) => l.label).sort().join(', ');
	const labels = result ? answerLabels(result) : [];
	return labels.length ? [...labels].sort().join(', ') : null;
}

function errorOf(json: Json, aiError: string | undefined): string | null {
	if (aiError) return aiError;
	// an item routed by Continue On Fail of an earlier node
	const error = json.error;
	if (typeof error === 'string') return error;
	if (isObject(error) && typeof error.message === 'string') return error.message;
	return null;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function usageOf(value: unknown): Usage | undefined {
	const parsed = usageSchema.safeParse(value);
	if (parsed.success) return parsed.data;
	if (!isObject(value)) return undefined;
	// a partial usage (e.g. of a failed call): count what is there
	const usage: Usage = {
		inputTokens: num(value.inputTokens) ?? 0,
		outputTokens: num(value.outputTokens) ?? 0,
		cachedInputTokens: num(value.cachedInputTokens) ?? 0,
		cacheWriteTokens: num(value.cacheWriteTokens) ?? 0,
		requests: num(value.requests) ?? 0,
	};
	return usage;
}

/** What a record reads from an AI result; every field optional, so a partial result still identifies its decision. */
type AiFields = Partial<StepResult>;

/**
 * An AI result as the record reads it: its step's shape, or, for a result that does not meet it in full
 * (e.g. of an item that failed early), every field of that shape that has the right type. Not an AI result
 * at all (no step and no decision id): undefined.
 */
function readAiResult(value: unknown): AiFields | undefined {
	if (!isObject(value)) return undefined;
	const parsed = stepResultSchema.safeParse(value);
	if (parsed.success) return parsed.data;
	const step = (AI_STEPS as readonly unknown[]).includes(value.step) ? (value.step as StepResult['step']) : undefined;
	if (!step && !str(value.decisionId)) return undefined;
	const shape = (step ? stepResultSchema.optionsMap.get(step)! : aiResultSchema).shape;
	const fields: Json = {};
	for (const [name, schema] of Object.entries(shape) as Array<[string, ZodTypeAny]>) {
		const field = schema.safeParse(value[name]);
		if (field.success && field.data !== undefined) fields[name] = field.data;
	}
	// the answer as the item holds it, and the usage of a failed call counted as far as it goes
	return { ...fields, answer: value.answer, confidence: (fields.confidence as number | undefined) ?? null, usage: usageOf(value.usage) } as AiFields;
}

/** The recorded decision: `ai.<aiKey>`, else `ai[ai.latest]`. */
function recordedAiResult(json: Json, aiKey: string | undefined): { key: string; result: AiFields } | undefined {
	const strict = latestAiResult(json, aiKey);
	if (strict) return strict;
	const ai = json.ai;
	if (!isObject(ai)) return undefined;
	const key = aiKey || str(ai[LATEST_KEY]);
	if (!key) return undefined;
	const result = readAiResult(ai[key]);
	return result ? { key, result } : undefined;
}

/** Every AI step on the item (each `ai.<key>` that is an AI result), in the order the steps added them. */
export function stepCosts(json: Json): StepCost[] {
	const ai = json.ai;
	if (!isObject(ai)) return [];
	const steps: StepCost[] = [];
	for (const [key, value] of Object.entries(ai)) {
		if (key === LATEST_KEY) continue;
		const result = readAiResult(value);
		if (!result) continue;
		steps.push({
			key,
			step: result.step ?? null,
			decisionId: result.decisionId ?? null,
			provider: result.provider ?? null,
			model: result.model ?? null,
			usage: result.usage ?? emptyUsage(),
			costUsd: result.costUsd ?? 0,
		});
	}
	return steps;
}

export function sumUsage(steps: Array<{ usage: Usage; costUsd: number }>): { usage: Usage; costUsd: number } {
	const usage = steps.reduce((sum, s) => addUsage(sum, s.usage), emptyUsage());
	// sums of prices in floating point: keep them at a fixed, generous precision
	return { usage, costUsd: Math.round(steps.reduce((sum, s) => sum + s.costUsd, 0) * 1e12) / 1e12 };
}

/** Builds the record for one item. Throws only on values JSON cannot hold. */
/**
 * Whether the AI node itself sent the item to review. A version 2 Human Checkpoint rewrites `needsReview` with
 * the person's verdict and names them in `reviewedBy`; the AI's own flag is then the review reason it gave
 * (every AI node gives one exactly when it flags an item), so the report's escalations keep their meaning.
 */
function flaggedByAi(ai: AiFields | undefined): boolean | null {
	if (!ai) return null;
	if ((ai as Json).reviewedBy !== undefined) return ai.reviewReason !== undefined && ai.reviewReason !== null;
	return ai.needsReview ?? null;
}

export function buildDraft(json: Json, ctx: DraftContext): AuditDraft {
	const latest = recordedAiResult(json, ctx.aiKey || undefined);
	const ai = latest?.result;
	const steps = stepCosts(json);
	const gateParsed = gateSchema.safeParse(json.gate);
	const gate = gateParsed.success ? gateParsed.data : null;
	const reviewParsed = reviewSchema.safeParse(json.review);
	const review = reviewParsed.success ? reviewParsed.data : null;
	const input = toPlainJson(inputFields(json));

	const draft: AuditDraft = {
		// v3 only for what v2 cannot hold (a gate's stage or would-be band), so v2 readers keep reading the rest
		v: gate?.trust || gate?.wouldBe || ai?.cached ? 3 : AUDIT_RECORD_VERSION,
		recordId: randomUUID(),
		workflowId: ctx.workflowId,
		executionId: ctx.executionId,
		nodeName: ctx.nodeName,
		itemIndex: ctx.itemIndex,
		at: (ctx.now ?? new Date()).toISOString(),
		inputHash: sha256(canonicalJson(input)),
		...(ctx.includeInput ? { input: redactInput(input) as Json } : {}),
		aiKey: latest?.key ?? null,
		step: ai?.step ?? null,
		decisionId: ai?.decisionId ?? null,
		decidedAt: ai?.at ?? null,
		provider: ai?.provider ?? null,
		model: ai?.model ?? null,
		responseId: ai?.responseId ?? null,
		promptHash: ai?.promptHash ?? null,
		answer: ai ? (ai.answer ?? null) : null,
		label: labelOf(ai, gate?.label, gate?.labels),
		confidence: ai ? (ai.confidence ?? null) : (gate?.confidence ?? null),
		confidenceMethod: ai?.confidenceMethod ?? null,
		reason: ai?.reason ?? null,
		needsReview: flaggedByAi(ai),
		reviewReason: ai?.reviewReason ?? null,
		requiresApproval: ai?.requiresApproval ?? null,
		gate: gate
			? {
					band: gate.band,
					sampled: gate.sampled,
					mode: gate.mode,
					high: gate.high,
					low: gate.low,
					...(gate.trust ? { stage: gate.trust.stage } : {}),
					...(gate.wouldBe ? { wouldBe: gate.wouldBe } : {}),
				}
			: null,
		review: review
			? {
					decision: review.decision,
					reviewer: review.reviewer,
					comment: review.comment,
					edits: review.edits,
					decidedAt: review.decidedAt,
					waitedMs: review.waitedMs,
				}
			: null,
		usage: ai?.usage ?? null,
		costUsd: ai?.costUsd ?? null,
		steps,
		total: sumUsage(steps),
		...(ai?.cached ? { cached: true } : {}),
		attempts: ai?.attempts ?? null,
		latencyMs: ai?.latencyMs ?? null,
		error: errorOf(json, ai?.error),
	};
	return toPlainJson(draft);
}

export interface TrustChange {
	label: string;
	from: 'review' | 'auto';
	to: 'review' | 'auto';
	reason: string;
	reviewed: number;
	agreed: number;
	lowerBound?: number;
	upperBound?: number;
	target: number;
	minReviewed?: number;
	windowDays?: number;
	auditWindow?: number;
	gateNode?: string;
}

/**
 * A trust-change record (v3): a label stepped forward to auto-routing or back to review. It carries no
 * decision, so its decision fields are null; it is chained like any record, so the change is as tamper-evident
 * as the decisions that led to it.
 */
export function buildTrustChangeDraft(change: TrustChange, ctx: Omit<DraftContext, 'itemIndex' | 'aiKey' | 'includeInput'>): AuditDraft {
	const trust = toPlainJson(change);
	return recordWithoutDecision({ kind: 'trust-change', trust }, trust, ctx, change.label, change.reason);
}

/** What a `recommendation` record holds: the thresholds a report recommended (report/recommend.ts), compactly. */
export interface RecordedRecommendation {
	targetPrecision: number;
	criterion: string;
	window: { from: string | null; to: string | null };
	thresholds: Record<string, number>;
	labels: Record<string, { threshold: number | null; reviewed: number; lowerBound: number | null; reason?: string }>;
	reportNode?: string;
}

/**
 * A recommendation record (v3): an Audit Log Report with "Record Recommendation" on writes what it recommends
 * into the stream it reports on, so a Confidence Gate can route by it. Chained like any record: which
 * thresholds were in force, from when, is as tamper-evident as the decisions they routed.
 */
export function buildRecommendationDraft(
	recommendation: RecordedRecommendation,
	ctx: Omit<DraftContext, 'itemIndex' | 'aiKey' | 'includeInput'>,
): AuditDraft {
	const body = toPlainJson(recommendation);
	const labels = Object.keys(body.thresholds);
	const reason = `recommended auto thresholds for ${labels.length} label${labels.length === 1 ? '' : 's'} at target precision ${body.targetPrecision}`;
	return recordWithoutDecision({ kind: 'recommendation', recommendation: body }, body, ctx, null, reason);
}

/** A v3 record of another kind than a decision: its own part, hashed as its input, and every decision field null. */
function recordWithoutDecision(
	own: Pick<AuditDraft, 'kind' | 'trust' | 'recommendation'>,
	hashed: unknown,
	ctx: Omit<DraftContext, 'itemIndex' | 'aiKey' | 'includeInput'>,
	label: string | null,
	reason: string,
): AuditDraft {
	const draft: AuditDraft = {
		v: 3,
		...own,
		recordId: randomUUID(),
		workflowId: ctx.workflowId,
		executionId: ctx.executionId,
		nodeName: ctx.nodeName,
		itemIndex: 0,
		at: (ctx.now ?? new Date()).toISOString(),
		inputHash: sha256(canonicalJson(hashed)),
		aiKey: null,
		step: null,
		decisionId: null,
		decidedAt: null,
		provider: null,
		model: null,
		responseId: null,
		promptHash: null,
		answer: null,
		label,
		confidence: null,
		confidenceMethod: null,
		reason,
		needsReview: null,
		reviewReason: null,
		requiresApproval: null,
		gate: null,
		review: null,
		usage: null,
		costUsd: null,
		attempts: null,
		latencyMs: null,
		error: null,
	};
	return toPlainJson(draft);
}

export function stampOf(record: AuditRecord): AuditStamp {
	return { recordId: record.recordId, stream: record.stream, sequence: record.sequence, hash: record.hash };
}
