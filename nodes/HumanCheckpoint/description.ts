/** What the editor shows of the Human Checkpoint: the review page, the wait limit, reviewer checks and the resume webhooks. */
import { NodeConnectionTypes, SEND_AND_WAIT_OPERATION, type INodeCredentialDescription, type INodeTypeDescription } from 'n8n-workflow';

import { inboxCredential, inboxProperties } from './inbox';

/** The review link's own sign-in, and the inbox's store. */
const checkpointCredentials: INodeCredentialDescription[] = [
	{ name: 'httpBasicAuth', required: true, displayOptions: { show: { authentication: ['basicAuth'] } } },
	{ name: 'httpHeaderAuth', required: true, displayOptions: { show: { authentication: ['headerAuth'] } } },
	inboxCredential,
];
import { OUTPUT_NAMES } from './outputs';

/** Parameters of the per-execution link that a version 3 checkpoint reviewing in an inbox does not use. */
const notInInbox = { hide: { reviewIn: ['inbox'] } };

export const versionDescription: INodeTypeDescription = {
	displayName: 'Human Checkpoint',
	name: 'humanCheckpoint',
	icon: { light: 'file:humanCheckpoint.svg', dark: 'file:humanCheckpoint.dark.svg' },
	group: ['transform'],
	// 2: an approved item's AI result reads needsReview false (outputs.ts); Fields to Show
	// 3: Review In (per-execution link or a Review Inbox, inbox.ts)
	version: [1, 2, 3],
	subtitle: '={{ $parameter["limitWaitTime"] ? "Review, time limit " + $parameter["resumeAmount"] + " " + $parameter["resumeUnit"] : "Review, no time limit" }}',
	// n8n lists its AI Agent "Human review" tool generated from this node under the same name (it copies the
	// displayName) with its own description, "Request human approval for tools": this one says it is the workflow step.
	description: 'Pause the workflow until a person approves, edits or rejects each item on a review page',
	defaults: { name: 'Human Checkpoint' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
	outputNames: [...OUTPUT_NAMES],
	credentials: checkpointCredentials,
	webhooks: [
		{
			name: 'default',
			httpMethod: 'GET',
			responseMode: 'onReceived',
			responseData: '',
			path: '={{ $nodeId }}',
			restartWebhook: true,
			isFullPath: true,
		},
		{
			name: 'default',
			httpMethod: 'POST',
			responseMode: 'onReceived',
			responseData: '',
			path: '={{ $nodeId }}',
			restartWebhook: true,
			isFullPath: true,
		},
	],
	properties: [
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Send for Review and Wait',
					value: SEND_AND_WAIT_OPERATION,
					action: 'Send for review and wait',
					description: 'Pause until a person decides on every item',
				},
			],
			default: SEND_AND_WAIT_OPERATION,
			description: 'What the node does. The review link is signed by n8n for this operation.',
		},
		...inboxProperties,
		{
			displayName: 'Review Title',
			name: 'title',
			type: 'string',
			default: 'Review AI results',
			description: 'Heading of the review page and first words of the notification',
		},
		{
			displayName: 'Instructions',
			name: 'instructions',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '',
			description: 'What the reviewer should check, shown above the items',
		},
		{
			displayName: 'Fields to Show',
			name: 'fieldsToShow',
			type: 'string',
			default: '',
			placeholder: 'e.g. subject, text',
			// from version 2 only, so that a version 1 node keeps exactly the parameters it was saved with
			displayOptions: { show: { '@version': [{ _cnd: { gte: 2 } }] } },
			description:
				'Comma-separated fields of the item the reviewer reads first, as text, with the AI\'s evidence marked (a dot reaches into a field: customer.name). The first names the item on the page and in the notification. Leave empty for the item\'s own text fields. Other fields stay available, folded.',
		},
		{
			displayName: 'AI Result Key',
			name: 'resultKey',
			type: 'string',
			default: '',
			placeholder: 'e.g. classify',
			description: 'Which ai.&lt;key&gt; result to review and edit. Leave empty for the most recent AI result on each item.',
		},
		{
			displayName: 'Limit Wait Time',
			name: 'limitWaitTime',
			type: 'boolean',
			default: false,
			description: 'Whether to stop waiting after a while. When the time is up n8n sends the items, unchanged and without a review, to the "No Response" output.',
		},
		{
			displayName: 'Amount',
			name: 'resumeAmount',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 2 },
			default: 1,
			displayOptions: { show: { limitWaitTime: [true] } },
			description: 'How long to wait for the review. n8n checks waiting executions once a minute, so short limits end up to a minute late.',
		},
		{
			displayName: 'Unit',
			name: 'resumeUnit',
			type: 'options',
			options: [
				{ name: 'Minutes', value: 'minutes' },
				{ name: 'Hours', value: 'hours' },
				{ name: 'Days', value: 'days' },
			],
			default: 'hours',
			displayOptions: { show: { limitWaitTime: [true] } },
			description: 'Unit of the amount',
		},
		{
			displayName: 'Reviewer Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'None (Signed Link Only)', value: 'none' },
				{ name: 'Basic Auth', value: 'basicAuth' },
				{ name: 'Header Secret', value: 'headerAuth' },
			],
			default: 'none',
			description: 'Extra check on top of the signed link. Basic auth also fixes the reviewer to the signed-in user. A header secret suits programmatic reviewers and proxies that add it.',
		},
		{
			displayName: 'Allowed Reviewers',
			name: 'allowedReviewers',
			displayOptions: notInInbox,
			type: 'string',
			default: '',
			placeholder: 'e.g. ada@example.com, grace@example.com',
			description: 'Comma-separated names or e-mails allowed to decide (case-insensitive). Leave empty to allow anyone with the link.',
		},
		{
			displayName: 'Notification URL',
			name: 'notificationUrl',
			displayOptions: notInInbox,
			type: 'string',
			default: '',
			placeholder: 'e.g. https://hooks.slack.com/services/...',
			description: 'Optional. POST {text, reviewUrl, items} here when the review starts: a Slack, Teams or Mattermost incoming webhook, or an n8n Webhook that sends the link by e-mail.',
		},
	],
};
