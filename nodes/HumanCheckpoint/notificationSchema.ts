/**
 * The review notification as a published wire format: one JSON Schema, written once. The TypeScript types
 * come from it (FromSchema, used by notify.ts, which builds it), and the build writes it to
 * dist/schemas/review-notification.schema.json for whoever receives it (an n8n Webhook trigger, a Slack app).
 */
import type { FromSchema } from 'json-schema-to-ts';

/** Items listed in one notification; the page shows them all. */
export const MAX_NOTIFIED_ITEMS = 50;

export const reviewNotificationJsonSchema = {
	$schema: 'https://json-schema.org/draft/2020-12/schema',
	$id: 'https://unpkg.com/n8n-nodes-governed-ai/dist/schemas/review-notification.schema.json',
	title: 'Human Checkpoint review notification',
	description:
		'What a Human Checkpoint POSTs (Content-Type: application/json) to its Notification URL when it pauses for a review. Slack, Mattermost and Teams incoming webhooks post `text` to a channel; an n8n Webhook trigger receives all of it. It carries the signed review link and a short summary per item, never credentials.',
	type: 'object',
	properties: {
		text: {
			type: 'string',
			description:
				'A one-line message with the review title, what waits (e.g. "3 items waiting for review: “Refund please”, …", items named by their first shown field), the deadline if any (in the workflow\'s time zone), and the link.',
		},
		reviewUrl: {
			type: 'string',
			format: 'uri',
			description: 'The signed review link: GET shows the review page, POST decides (see review-decision.schema.json).',
		},
		items: {
			type: 'array',
			maxItems: MAX_NOTIFIED_ITEMS,
			description: `The first ${MAX_NOTIFIED_ITEMS} items under review.`,
			items: {
				type: 'object',
				properties: {
					index: { type: 'integer', minimum: 0, description: 'The item\'s 0-based index in the node\'s input (the index a decision names).' },
					title: {
						type: 'string',
						description: 'What the item is about, in one line: its first shown field (Fields to Show, or its first text field), e.g. a ticket\'s subject. Absent when the item has no such field.',
					},
					answer: {
						description: 'The AI answer under review (a label, labels, a record or an action); null without an AI result. An answer longer than 200 characters (written as JSON unless it is text) comes as a string of its first 200 characters and "…".',
					},
					confidence: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'The AI result\'s confidence 0..1; null when unknown.' },
					reason: { type: ['string', 'null'], description: 'The AI result\'s short reason.' },
					tool: {
						type: ['string', 'null'],
						description: 'Only when the node gates an AI Agent\'s tool call: the tool the agent wants to run.',
					},
					input: { description: 'Only for a tool call: the model\'s input for the tool (shortened like `answer`).' },
					message: { type: ['string', 'null'], description: 'Only for a tool call: n8n\'s Message for the reviewer.' },
				},
				required: ['index', 'answer', 'confidence', 'reason'],
				additionalProperties: false,
			},
		},
	},
	required: ['text', 'reviewUrl', 'items'],
	additionalProperties: false,
} as const;

export type Notification = FromSchema<typeof reviewNotificationJsonSchema>;
export type NotificationItem = Notification['items'][number];
