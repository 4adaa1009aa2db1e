/**
 * The reviewer's JSON decision as a published wire format: one JSON Schema, written once. The TypeScript
 * type comes from it (FromSchema), the node validates every JSON call with it (decisions.ts, through
 * jsonSchemaToZod), and the build writes it to dist/schemas/review-decision.schema.json for integrators
 * (a Slack or Teams app, a ticketing system).
 *
 * The schema checks the shape; what depends on the paused items (every item decided once, edits that fit
 * the step's answerSchema) is checked after it and answered with 400 naming the item.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const REVIEW_ACTIONS = ['approve', 'reject'] as const;

/** The longest comment kept. */
export const MAX_TEXT = 10_000;

export const reviewDecisionJsonSchema = {
	$schema: 'https://json-schema.org/draft/2020-12/schema',
	$id: 'https://unpkg.com/n8n-nodes-governed-ai/dist/schemas/review-decision.schema.json',
	title: 'Human Checkpoint review decision',
	description:
		'The body a programmatic reviewer POSTs (Content-Type: application/json) to a Human Checkpoint\'s review link to decide every item of the paused review at once. The node answers 200 with { status: "ok", approved, edited, rejected, message }, or 400/403/410 with { status: "refused", message } naming the item; a refused call leaves the execution paused.',
	type: 'object',
	properties: {
		reviewer: {
			type: 'string',
			maxLength: 320,
			description: 'Who decides (a name or e-mail). With reviewer authentication on, the signed-in user counts instead.',
		},
		comment: {
			type: 'string',
			maxLength: MAX_TEXT,
			description: 'A comment for every item that has none of its own.',
		},
		items: {
			type: 'array',
			minItems: 1,
			description: 'One decision per item under review: every item exactly once.',
			items: {
				type: 'object',
				properties: {
					index: { type: 'integer', minimum: 0, description: 'The item\'s 0-based index in the node\'s input.' },
					decision: { type: 'string', enum: REVIEW_ACTIONS, description: 'approve or reject.' },
					edits: {
						description:
							'Approve with a correction: the new value of a label or action answer (e.g. "refund"), or, for a record (AI Extract), a map of field paths to new values (e.g. { "total": 12.5, "customer.vat": "DE1" }). It must fit the step\'s answerSchema. Ignored on a rejected item; refused for an AI Agent\'s tool call.',
					},
					answer: {
						description: 'Approve with a correction that replaces the whole answer. Send either edits or answer, not both.',
					},
					comment: { type: 'string', maxLength: MAX_TEXT, description: 'The reviewer\'s comment on this item.' },
				},
				required: ['index', 'decision'],
				additionalProperties: false,
			},
		},
	},
	required: ['items'],
	additionalProperties: false,
} as const;

export type ReviewSubmission = FromSchema<typeof reviewDecisionJsonSchema>;
