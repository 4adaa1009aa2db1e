/**
 * Human Checkpoint version 3, "Review In: Review Inbox": instead of sending one signed link per execution,
 * the checkpoint records its waiting items in the review store (shared/reviewStore) with the execution's
 * signed resume link, which stays server-side. The Review Inbox node shows the items to signed-in reviewers,
 * stores their decisions and, once every item of the pause is decided, POSTs to that link. The webhook then
 * reads the decisions from the store (never from the request body) and runs them through the same
 * resolveSubmission / buildOutputs as a review from the page, so the same edits and checks apply.
 */
import type { IExecuteFunctions, INodeExecutionData, INodeProperties, IWebhookFunctions } from 'n8n-workflow';

import { answerLabels, latestAiResult } from '../../shared/contract';
import { itemId, openReviewStore, type StoredItem, type WaitingItemInput } from '../../shared/reviewStore';
import { readStoreSettings, storeCredential, storeProperties } from '../../shared/reviewStore/settings';
import { fromVersion } from '../../shared/node/versions';
import { resolveSubmission, ReviewInputError, type ResolvedReview, type ReviewSubmission } from './decisions';
import type { LinkParams } from './link';
import type { ReviewItemView } from './page/page';

export const REVIEW_IN_INBOX = 'inbox';
const inInbox = { reviewIn: [REVIEW_IN_INBOX] };
/** Milliseconds in each unit a checkpoint's time settings offer (wait limit, due time). */
export const UNIT_MS: Record<string, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

/** The parameters version 3 adds (none of them exist for versions 1 and 2). */
export const inboxProperties: INodeProperties[] = [
	{
		displayName: 'Review In',
		name: 'reviewIn',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Per-Execution Link', value: 'link', description: 'One signed review page per execution (and the JSON call)' },
			{ name: 'Review Inbox', value: REVIEW_IN_INBOX, description: 'The items wait in a Review Inbox with the other checkpoints\' items; reviewers sign in there' },
		],
		default: 'link',
		description: 'Where the items are reviewed',
	},
	...storeProperties(inInbox),
	{
		displayName: 'Reviewer Group',
		name: 'reviewerGroup',
		type: 'string',
		default: '',
		placeholder: 'e.g. support',
		displayOptions: { show: inInbox },
		description: 'The group (from the Governed AI Reviewers credential) that reviews these items. Empty: every reviewer of the inbox.',
	},
	{
		displayName: 'Route by Label or Action',
		name: 'routes',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		displayOptions: { show: inInbox },
		description: 'Send items whose AI answer is this label or action to another group, e.g. refund to finance',
		options: [
			{
				displayName: 'Route',
				name: 'route',
				values: [
					{ displayName: 'Label or Action', name: 'label', type: 'string', default: '', description: 'The AI answer (category label or action) to route' },
					{ displayName: 'Group', name: 'group', type: 'string', default: '', description: 'The group that reviews those items' },
				],
			},
		],
	},
	{
		displayName: 'Four Eyes',
		name: 'fourEyes',
		type: 'options',
		options: [
			{ name: 'When the AI Result Requires Approval', value: 'requiresApproval', description: 'Items whose AI Decide action is marked as needing approval' },
			{ name: 'Always', value: 'always' },
			{ name: 'Never', value: 'never' },
		],
		default: 'requiresApproval',
		displayOptions: { show: inInbox },
		description: 'Which items need approvals from two different reviewers. A rejection by either decides at once.',
	},
	{
		displayName: 'Due In',
		name: 'dueAmount',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: 0,
		displayOptions: { show: inInbox },
		description: 'How long reviewers have before an item is overdue and escalated (0: no due time). Keep it shorter than the wait limit, which sends items to No Response.',
	},
	{
		displayName: 'Due Unit',
		name: 'dueUnit',
		type: 'options',
		options: [
			{ name: 'Minutes', value: 'minutes' },
			{ name: 'Hours', value: 'hours' },
			{ name: 'Days', value: 'days' },
		],
		default: 'hours',
		displayOptions: { show: inInbox },
		description: 'Unit of Due In',
	},
	{
		displayName: 'Escalation Group',
		name: 'escalationGroup',
		type: 'string',
		default: '',
		displayOptions: { show: inInbox },
		description: 'The group that also sees an item once it is overdue (and is notified by the inbox)',
	},
].map((property) => fromVersion(3, property as INodeProperties));

/** versions 1 and 2 have no Review In, so this credential is never asked of them */
export const inboxCredential = storeCredential(inInbox);

export function usesInbox(node: { typeVersion: number }, reviewIn: unknown): boolean {
	return node.typeVersion >= 3 && reviewIn === REVIEW_IN_INBOX;
}

/** The round key rides in the signed link, so the webhook finds the round's items in the store. */
export function roundKeyOf(executionId: string, nodeId: string, pausedAt: string): string {
	return `${executionId}.${nodeId}.${Date.parse(pausedAt)}`;
}

/** The item's label or action, for routing and the inbox's filter. */
export function labelOf(view: ReviewItemView): string | null {
	if (view.answer === undefined || view.step === undefined) return null;
	const labels = answerLabels({ step: view.step, answer: view.answer });
	if (labels.length) return labels.join(', ');
	const answer = view.answer as Record<string, unknown> | null;
	return typeof answer?.action === 'string' ? answer.action : null;
}

interface Route {
	label?: string;
	group?: string;
}

/** Records the paused items in the inbox's store (idempotent per round). */
export async function recordInInbox(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	views: ReviewItemView[],
	params: LinkParams,
	resumeUrl: string,
	until: Date | undefined,
): Promise<void> {
	const p = (name: string, fallback: unknown) => ctx.getNodeParameter(name, 0, fallback);
	const settings = await readStoreSettings(p, async () => await ctx.getCredentials('governedAiPostgres', 0));
	const dueAmount = Number(p('dueAmount', 0));
	const dueMs = Number.isFinite(dueAmount) && dueAmount > 0 ? dueAmount * (UNIT_MS[String(p('dueUnit', 'hours'))] ?? 3_600_000) : 0;
	const pausedAt = Date.parse(params.pausedAt);
	const group = String(p('reviewerGroup', '') ?? '').trim() || null;
	const routes = ((p('routes', {}) as { route?: Route[] }).route ?? []).filter((r) => r.label && r.group);
	const fourEyes = String(p('fourEyes', 'requiresApproval'));
	const resultKey = String(p('resultKey', '') ?? '').trim();
	const inputs: WaitingItemInput[] = views.map((view, i) => {
		const label = labelOf(view);
		const route = routes.find((r) => label !== null && label.toLowerCase() === String(r.label).trim().toLowerCase());
		const ai = latestAiResult(items[i].json, resultKey || undefined)?.result;
		const twoNeeded = fourEyes === 'always' || (fourEyes === 'requiresApproval' && ai?.requiresApproval === true);
		return {
			itemIndex: i,
			view: { ...view, ai: items[i].json.ai ?? null },
			label,
			group: route ? String(route.group).trim() : group,
			dueAt: dueMs ? new Date(pausedAt + dueMs).toISOString() : null,
			approvalsRequired: twoNeeded ? 2 : 1,
		};
	});
	const workflow = ctx.getWorkflow();
	const store = openReviewStore(settings);
	try {
		await store.addRound(
			{
				roundKey: roundKeyOf(ctx.getExecutionId(), ctx.getNode().id, params.pausedAt),
				inbox: settings.inbox,
				workflowId: String(workflow.id ?? ''),
				workflowName: String(workflow.name ?? ''),
				executionId: ctx.getExecutionId(),
				nodeName: ctx.getNode().name,
				resumeUrl,
				createdAt: params.pausedAt,
				expiresAt: until ? until.toISOString() : null,
				group,
				escalationGroup: String(p('escalationGroup', '') ?? '').trim() || null,
			},
			inputs,
		);
	} finally {
		await store.close();
	}
}

/** One item's decision as the store holds it, as the JSON review call would send it. */
function submissionEntry(item: StoredItem): ReviewSubmission['items'][number] {
	const deciding = item.approvals[item.approvals.length - 1];
	const edited = [...item.approvals].reverse().find((a) => a.verdict === 'approve' && a.newAnswer !== undefined);
	const comment = [...item.approvals].reverse().find((a) => a.comment)?.comment;
	return {
		index: item.itemIndex,
		decision: deciding.verdict,
		...(item.verdict === 'approve' && edited ? { answer: edited.newAnswer } : {}),
		...(comment ? { comment } : {}),
	};
}

/**
 * The round's decisions, read from the store, as a resolved review (each item with its own reviewers); a
 * ReviewInputError when the round is not (wholly) decided in the store.
 */
export async function decisionsFromInbox(ctx: IWebhookFunctions, views: ReviewItemView[], roundKey: string): Promise<ResolvedReview> {
	const p = (name: string, fallback: unknown) => ctx.getNodeParameter(name, fallback);
	const settings = await readStoreSettings(p, async () => await ctx.getCredentials('governedAiPostgres'));
	const store = openReviewStore(settings);
	let stored: Array<StoredItem | undefined>;
	try {
		stored = await Promise.all(views.map((_, i) => store.get(itemId(roundKey, i))));
	} finally {
		await store.close();
	}
	const undecided = stored.filter((item) => !item || (item.state !== 'decided' && item.state !== 'resumed'));
	if (undecided.length) throw new ReviewInputError(`${undecided.length} item(s) of this review are not decided in the inbox yet`);
	const items = stored as StoredItem[];
	const submission: ReviewSubmission = { reviewer: 'inbox', items: items.map(submissionEntry) };
	const review = resolveSubmission(submission, views, 'inbox');
	for (const decision of review.decisions) {
		decision.reviewer = items[decision.index].approvals.map((a) => a.reviewer).join(', ');
	}
	return review;
}
