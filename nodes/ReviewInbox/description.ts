/** What the editor shows of the Review Inbox: its address, the inbox and store it serves, and its events output. */
import { NodeConnectionTypes, type INodeCredentialDescription, type INodeTypeDescription } from 'n8n-workflow';

import { changedAtVersion } from '../../shared/node/versions';
import { storeCredential, storeProperties } from '../../shared/reviewStore/settings';

/** The reviewers who sign in, and the store when it is PostgreSQL. */
const inboxNodeCredentials: INodeCredentialDescription[] = [{ name: 'governedAiReviewers', required: true }, storeCredential()];

export const versionDescription: INodeTypeDescription = {
	displayName: 'Review Inbox',
	name: 'reviewInbox',
	icon: { light: 'file:reviewInbox.svg', dark: 'file:reviewInbox.dark.svg' },
	group: ['trigger'],
	version: [1, 2],
	subtitle: '={{ "Inbox " + $parameter["inboxName"] }}',
	description: 'One page where signed-in reviewers work through the items waiting at every Human Checkpoint that uses this inbox',
	defaults: { name: 'Review Inbox' },
	inputs: [],
	outputs: [NodeConnectionTypes.Main],
	outputNames: ['Events'],
	credentials: inboxNodeCredentials,
	webhooks: [
		{ name: 'default', httpMethod: 'GET', responseMode: 'onReceived', path: '={{ $parameter["path"] }}', isFullPath: true },
		{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: '={{ $parameter["path"] }}', isFullPath: true },
	],
	properties: [
		{
			displayName:
				'Activate this workflow, then open the production URL above to review. Human Checkpoints (version 3) with "Review In: Review Inbox" and the same inbox name and store send their items here. Connect an Audit Log node to record every claim, decision and resume.',
			name: 'notice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Path',
			name: 'path',
			type: 'string',
			default: 'review-inbox',
			required: true,
			description: 'The page lives at &lt;n8n URL&gt;/webhook/&lt;path&gt;',
		},
		...storeProperties(),
		{
			displayName: 'Claim Minutes',
			name: 'claimMinutes',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 30,
			description: 'How long a claim keeps other reviewers off an item',
		},
		// version 2: the digest also lists new items and items due soon
		...changedAtVersion(
			2,
			{
				displayName: 'Notification URL',
				name: 'notificationUrl',
				type: 'string',
				default: '',
				placeholder: 'e.g. https://hooks.slack.com/services/...',
				description: 'Optional. When items pass their due time, POST one digest per group {text, group, inboxUrl, items} here: a Slack, Teams or Mattermost incoming webhook, or an n8n Webhook that e-mails it. Escalation runs on every inbox request; GET &lt;inbox URL&gt;?api=escalate from a Schedule Trigger makes it periodic.',
			},
			{
				description:
					'Optional. POST one digest per group {text, group, inboxUrl, items} here: a Slack, Teams or Mattermost incoming webhook, or an n8n Webhook that e-mails it. Overdue items are escalated on every inbox request; new items and items due within the hour are listed (each once) when a Schedule Trigger calls GET &lt;inbox URL&gt;?api=escalate.',
			},
		),
		{
			displayName: 'Record Views',
			name: 'recordViews',
			type: 'boolean',
			default: false,
			description: 'Whether opening the inbox or an item also leaves an event (one execution per view). Claims, decisions and resumes always do.',
		},
	],
};
