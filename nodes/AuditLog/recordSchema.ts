/**
 * The audit record as a published wire format: one JSON Schema, written once. The TypeScript types come
 * from it (FromSchema), the report validates records with it at run time (through jsonSchemaToZod), and
 * the build writes it to dist/schemas/audit-record.schema.json for integrators (a SIEM, a data warehouse).
 *
 * `additionalProperties: false` says what a record holds; the report reads records leniently all the same
 * (fields it does not know are dropped, not refused), as it always has.
 */
import type { FromSchema } from 'json-schema-to-ts';

import { CONFIDENCE_METHODS, GATE_BANDS, REVIEW_DECISIONS } from '../../shared/contract';

/** Every format version a record may have (the report reads them all). */
export const AUDIT_RECORD_VERSIONS = [1, 2, 3] as const;

/** What a record records: a decision (absent `kind`: every record before v3), a label's trust change, or a report's recommended thresholds. */
export const AUDIT_RECORD_KINDS = ['decision', 'trust-change', 'recommendation'] as const;
export const TRUST_STAGE_NAMES = ['review', 'auto'] as const;

const nullableString = (description: string) => ({ type: ['string', 'null'], description }) as const;

export const auditRecordJsonSchema = {
	$schema: 'https://json-schema.org/draft/2020-12/schema',
	$id: 'https://unpkg.com/n8n-nodes-governed-ai/dist/schemas/audit-record.schema.json',
	title: 'Audit record',
	description:
		'One record per item that passed an Audit Log node (n8n-nodes-governed-ai): the item\'s AI decision, its Confidence Gate result and its human review, hash-chained per stream. Sinks store it as written: one JSON object per line (file), a jsonb column (PostgreSQL), or in the `records` of a POSTed batch `{ stream, records }` (HTTP). Format v1 holds the cost of the recorded decision only; v2 adds `steps` and `total`; v3 adds record kinds (`kind`, `trust`: a Confidence Gate in Earned mode recording that a label stepped forward to auto-routing or back to review) and the gate\'s `stage` and `wouldBe`, and `recommendation` records (an Audit Log Report recording the thresholds it recommends, which a Confidence Gate can take its thresholds from), and `cached` (the decision came from AI Classify\'s or AI Extract\'s result cache). A record is written as v3 only when it holds one of those. A record never holds an API key.',
	type: 'object',
	$defs: {
		usage: {
			type: 'object',
			description: 'Tokens and requests of one or more model calls.',
			properties: {
				inputTokens: { type: 'number', description: 'Input (prompt) tokens, cached ones included.' },
				outputTokens: { type: 'number', description: 'Output (completion) tokens.' },
				cachedInputTokens: { type: 'number', description: 'Input tokens served from the provider\'s prompt cache.' },
				cacheWriteTokens: { type: 'number', description: 'Input tokens written to the prompt cache (Anthropic).' },
				requests: { type: 'number', description: 'Model requests made, retries included.' },
			},
			required: ['inputTokens', 'outputTokens', 'cachedInputTokens', 'cacheWriteTokens', 'requests'],
			additionalProperties: false,
		},
		stepCost: {
			type: 'object',
			description: 'One AI step on the item, as far as cost goes.',
			properties: {
				key: { type: 'string', description: 'The step\'s key under the item\'s `ai` (e.g. `classify`).' },
				step: nullableString('classify, extract or decide; null when the result does not say.'),
				decisionId: nullableString('The step\'s decision id.'),
				provider: nullableString('anthropic or openai (OpenAI-compatible servers included).'),
				model: nullableString('The model that answered.'),
				usage: { $ref: '#/$defs/usage' },
				costUsd: { type: 'number', description: 'Estimated cost of the step in USD.' },
			},
			required: ['key', 'step', 'decisionId', 'provider', 'model', 'usage', 'costUsd'],
			additionalProperties: false,
		},
	},
	properties: {
		v: { enum: AUDIT_RECORD_VERSIONS, description: 'Format version. v2 adds `steps` and `total`; v3 adds `kind`, `trust`, `gate.stage`, `gate.wouldBe` and `cached`.' },
		kind: {
			enum: AUDIT_RECORD_KINDS,
			description:
				'v3: what the record records. Absent or `decision`: an item\'s AI decision, gate and review. `trust-change`: a label\'s stage changed (see `trust`); `recommendation`: a report\'s recommended thresholds (see `recommendation`). Both have null decision fields (aiKey … latencyMs), itemIndex 0, and an inputHash of `trust` or `recommendation`.',
		},
		recommendation: {
			type: 'object',
			description:
				'v3, `recommendation` records: the auto thresholds an Audit Log Report (version 3, "Record Recommendation" on) recommended per label, over its time window. A Confidence Gate with "Thresholds From: Latest Recommendation" routes by the latest one.',
			properties: {
				targetPrecision: { type: 'number', description: 'The target precision the report was given.' },
				criterion: { type: 'string', description: 'How a threshold was judged: `wilson-lower-bound` (95 % lower bound of the precision meets the target).' },
				window: {
					type: 'object',
					description: 'The time window of the records the recommendation is computed from (ISO 8601; null: open).',
					properties: { from: nullableString('Inclusive start.'), to: nullableString('Exclusive end.') },
					required: ['from', 'to'],
					additionalProperties: false,
				},
				thresholds: {
					type: 'object',
					additionalProperties: { type: 'number' },
					description: 'Label → the lowest confidence whose reviewed items meet the target; only labels that have one.',
				},
				labels: {
					type: 'object',
					description: 'Every label the report saw: its threshold (null when none meets the target), its reviewed items and why there is none.',
					additionalProperties: {
						type: 'object',
						properties: {
							threshold: { type: ['number', 'null'], description: 'The recommended threshold, or null.' },
							reviewed: { type: 'integer', minimum: 0, description: 'Reviewed items of the label in the window.' },
							lowerBound: { type: ['number', 'null'], description: 'Wilson 95 % lower bound of the precision at the threshold.' },
							reason: { type: 'string', description: 'Why there is no threshold.' },
						},
						required: ['threshold', 'reviewed', 'lowerBound'],
						additionalProperties: false,
					},
				},
				reportNode: { type: 'string', description: 'The Audit Log node that made the report.' },
			},
			required: ['targetPrecision', 'criterion', 'window', 'thresholds', 'labels'],
			additionalProperties: false,
		},
		trust: {
			type: 'object',
			description: 'v3, `trust-change` records: which label changed stage, from what to what, and the numbers behind it.',
			properties: {
				label: { type: 'string', description: 'The label or action (the record label a decision is counted under).' },
				from: { enum: TRUST_STAGE_NAMES, description: 'The stage before: review (every item to a person) or auto (confident items auto-routed).' },
				to: { enum: TRUST_STAGE_NAMES, description: 'The stage after.' },
				reason: { type: 'string', description: 'Why, in words.' },
				reviewed: { type: 'integer', minimum: 0, description: 'Items the rule judged: reviewed items in the window (forward), sampled audits (back).' },
				agreed: { type: 'integer', minimum: 0, description: 'Of those, approved unchanged.' },
				lowerBound: { type: 'number', description: 'Wilson 95 % lower bound of the agreement (forward).' },
				upperBound: { type: 'number', description: 'Wilson 95 % upper bound of the agreement (back).' },
				target: { type: 'number', description: 'The target agreement the gate was set to.' },
				minReviewed: { type: 'integer', description: 'The minimum of reviewed items the gate was set to.' },
				windowDays: { type: 'integer', description: 'The window of reviewed items, in UTC days.' },
				auditWindow: { type: 'integer', description: 'How many of the latest sampled audits the step back judges.' },
				gateNode: { type: 'string', description: 'The Confidence Gate node that made the change.' },
			},
			required: ['label', 'from', 'to', 'reason', 'reviewed', 'agreed', 'target'],
			additionalProperties: false,
		},
		// identity
		recordId: { type: 'string', description: 'A UUID, unique per record.' },
		stream: { type: 'string', description: 'The audit stream (one hash chain) the record belongs to.' },
		sequence: { type: 'integer', minimum: 1, description: 'Position in the stream, from 1, without gaps.' },
		workflowId: nullableString('The n8n workflow that ran the Audit Log node.'),
		executionId: nullableString('The n8n execution.'),
		nodeName: nullableString('The Audit Log node that wrote the record.'),
		itemIndex: { type: 'integer', minimum: 0, description: 'The item\'s index in the node\'s input.' },
		at: { type: 'string', description: 'When the record was made: ISO 8601, UTC (e.g. 2026-01-01T10:00:00.000Z).' },
		// the input
		inputHash: {
			type: 'string',
			description: 'sha256 (hex) of the canonical JSON of the item\'s own fields (without ai, gate, review and audit).',
		},
		input: {
			type: 'object',
			additionalProperties: true,
			description: 'A copy of the item\'s own fields with secret-looking fields dropped and personal data masked; only when "Include Redacted Input" is on.',
		},
		// the AI decision (all null when the item carries no AI result)
		aiKey: nullableString('The key under the item\'s `ai` holding the recorded decision; null when the item has no AI result.'),
		step: nullableString('classify, extract or decide.'),
		decisionId: nullableString('The AI step\'s decision id.'),
		decidedAt: nullableString('When the AI step answered (ISO 8601).'),
		provider: nullableString('anthropic or openai (OpenAI-compatible servers included).'),
		model: nullableString('The model that answered.'),
		responseId: nullableString('The provider\'s id of the response.'),
		promptHash: nullableString('sha256 (hex) of the prompt and settings that produced the decision.'),
		answer: { description: 'The answer: a label, a list of labels, an extracted record or an action; null without an AI result.' },
		label: nullableString('The label the decision is counted under in reports: the gate\'s label, else a text answer (several labels sorted, joined with ", ").'),
		confidence: { type: ['number', 'null'], description: 'Confidence 0..1; null when none could be measured.' },
		confidenceMethod: { enum: [...CONFIDENCE_METHODS, null], description: 'How the confidence was measured.' },
		reason: nullableString('The model\'s short reason.'),
		needsReview: { type: ['boolean', 'null'], description: 'True when the AI node sent the item to its review / escalate output.' },
		reviewReason: nullableString('Why the AI node asked for review.'),
		requiresApproval: { type: ['boolean', 'null'], description: 'AI Decide: the chosen action needs a person\'s approval.' },
		// the gate
		gate: {
			type: ['object', 'null'],
			description: 'The Confidence Gate\'s routing; null when the item passed no gate.',
			properties: {
				band: { enum: GATE_BANDS, description: 'The output the gate chose.' },
				sampled: { type: 'boolean', description: 'A confident item sent to Review for the random audit sample.' },
				mode: { type: 'string', description: 'Rollout mode: shadow, assist or autopilot.' },
				high: { type: 'number', description: 'The auto threshold that applied.' },
				low: { type: 'number', description: 'The reject threshold that applied.' },
				stage: { enum: TRUST_STAGE_NAMES, description: 'v3, Earned mode: the stage of the item\'s label when the gate ran.' },
				wouldBe: {
					enum: GATE_BANDS,
					description: 'v3, Shadow and Earned mode: the band the AI alone would have chosen (thresholds and flags), to compare with what a person decided.',
				},
			},
			required: ['band', 'sampled', 'mode', 'high', 'low'],
			additionalProperties: false,
		},
		// the person
		review: {
			type: ['object', 'null'],
			description: 'The Human Checkpoint\'s decision; null when no person reviewed the item.',
			properties: {
				decision: { enum: REVIEW_DECISIONS, description: 'approved, edited (approved with a corrected answer), rejected or no-response.' },
				reviewer: nullableString('Who decided (the signed-in user, or the name the reviewer gave).'),
				comment: nullableString('The reviewer\'s comment.'),
				edits: {
					type: ['object', 'null'],
					description: 'What the reviewer changed: field path (e.g. `ai.classify.answer`) -> { from, to }.',
					additionalProperties: {
						type: 'object',
						properties: {
							from: { description: 'The AI\'s value (null when the field did not exist).' },
							to: { description: 'The reviewer\'s value (null when the field was removed).' },
						},
						additionalProperties: false,
					},
				},
				decidedAt: nullableString('When the reviewer decided (ISO 8601).'),
				waitedMs: { type: ['number', 'null'], description: 'Milliseconds between the pause and the decision.' },
			},
			required: ['decision', 'reviewer', 'comment', 'edits', 'decidedAt', 'waitedMs'],
			additionalProperties: false,
		},
		// cost of the recorded decision
		usage: { anyOf: [{ $ref: '#/$defs/usage' }, { type: 'null' }], description: 'Tokens of the recorded decision.' },
		costUsd: { type: ['number', 'null'], description: 'Estimated cost of the recorded decision in USD.' },
		steps: {
			type: 'array',
			items: { $ref: '#/$defs/stepCost' },
			description: 'v2: every AI step on the item, in the order the steps ran (absent in v1).',
		},
		total: {
			type: 'object',
			description: 'v2: the sum over `steps` (absent in v1).',
			properties: {
				usage: { $ref: '#/$defs/usage' },
				costUsd: { type: 'number', description: 'Estimated cost of every step in USD.' },
			},
			required: ['usage', 'costUsd'],
			additionalProperties: false,
		},
		cached: {
			type: 'boolean',
			description: 'v3: present (true) when the recorded decision came from the result cache: the same request was answered before, and no request was made for this item (its usage and cost are zero).',
		},
		attempts: { type: ['number', 'null'], description: 'Model calls the recorded step made (retries and samples included).' },
		latencyMs: { type: ['number', 'null'], description: 'How long the recorded step took.' },
		error: nullableString('Why the item failed, when it did (an AI step\'s error, or an earlier node\'s routed by Continue On Fail).'),
		// the chain
		prevHash: { type: 'string', description: 'The previous record\'s hash in the stream; 64 zeros for the first.' },
		prevRecordId: nullableString('The previous record\'s id; null for the first.'),
		hash: {
			type: 'string',
			description:
				'sha256 (hex) of `prevHash` followed by the record without `hash` as canonical JSON (keys sorted by UTF-16 code units, no whitespace): recompute it and follow prevHash to verify a stream.',
		},
	},
	required: [
		'v',
		'recordId',
		'stream',
		'sequence',
		'workflowId',
		'executionId',
		'nodeName',
		'itemIndex',
		'at',
		'inputHash',
		'aiKey',
		'step',
		'decisionId',
		'decidedAt',
		'provider',
		'model',
		'responseId',
		'promptHash',
		'answer',
		'label',
		'confidence',
		'confidenceMethod',
		'reason',
		'needsReview',
		'reviewReason',
		'requiresApproval',
		'gate',
		'review',
		'usage',
		'costUsd',
		'attempts',
		'latencyMs',
		'error',
		'prevHash',
		'prevRecordId',
		'hash',
	],
	additionalProperties: false,
} as const;

export type AuditRecord = FromSchema<typeof auditRecordJsonSchema>;
/** One AI step on the item, as far as cost goes (v2). */
export type StepCost = NonNullable<AuditRecord['steps']>[number];
