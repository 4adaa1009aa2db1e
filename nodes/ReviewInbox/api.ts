/**
 * The inbox's JSON API and sign-in, one webhook path:
 *   GET                       the page (or the sign-in page); never decides anything
 *   GET  ?api=items&…         the reviewer's waiting items, sorted by due time (filters: workflow, label, assignee, due)
 *   GET  ?api=item&id=…       one item
 *   POST form name, password  sign in (sets the session cookie)
 *   POST JSON { action: 'signIn', name, password } | { action: 'signOut' }
 *   POST JSON { action: 'claim' | 'release', id }
 *   POST JSON { action: 'decide', id, decision: 'approve' | 'reject', answer?, edits?, comment? }
 *   POST JSON { action: 'bulkApprove', ids: [...], comment? }
 * Decisions are stored first (store.decide), then every fully decided pause is resumed (resume.ts). A refusal
 * answers 4xx with { status: 'refused', reason, message }, never a silent 200.
 */
import type { IDataObject } from 'n8n-workflow';

import { publicItem, type DecideOutcome, type ClaimOutcome, type ItemFilter, type ReviewStore, type StoredItem } from '../../shared/reviewStore';
import { resolveSubmission, ReviewInputError, type ReviewSubmission } from '../HumanCheckpoint/decisions';
import { diffValues } from '../HumanCheckpoint/edits';
import type { ReviewItemView } from '../HumanCheckpoint/page/page';
import type { Identity } from './identity';

export interface ApiAnswer {
	status: number;
	body: IDataObject;
}

export interface InboxEvent extends IDataObject {
	event: string;
}

const REFUSALS: Record<string, { status: number; message: string }> = {
	not_found: { status: 404, message: 'There is no such item in this inbox.' },
	claimed: { status: 409, message: 'Another reviewer has claimed this item.' },
	already_decided: { status: 409, message: 'This item has already been decided.' },
	expired: { status: 410, message: 'The time limit for this item has passed; it has gone to No Response.' },
	same_reviewer: { status: 403, message: 'Four eyes: this item needs a second, different reviewer.' },
	forbidden: { status: 403, message: 'This item belongs to a group you are not in.' },
};

export function refusal(reason: string, extra: IDataObject = {}): ApiAnswer {
	const known = REFUSALS[reason] ?? { status: 400, message: reason };
	return { status: known.status, body: { status: 'refused', reason, message: known.message, ...extra } };
}

/** May this reviewer see and decide this item? Items without a group are everyone's. */
export function mayReview(item: StoredItem, who: Identity): boolean {
	if (item.group === null) return true;
	const groups = who.groups.map((g) => g.toLowerCase());
	if (groups.includes(item.group.toLowerCase())) return true;
	return item.escalatedAt !== null && item.escalationGroup !== null && groups.includes(item.escalationGroup.toLowerCase());
}

export function listFilter(inbox: string, query: Record<string, unknown>, who: Identity, now: Date): ItemFilter {
	const text = (name: string) => (typeof query[name] === 'string' && (query[name] as string).trim() ? (query[name] as string).trim() : undefined);
	const assignee = text('assignee');
	const due = text('due');
	return {
		inbox,
		workflowId: text('workflow'),
		label: text('label'),
		assignee: assignee === 'me' ? who.name : assignee,
		dueBefore: due === 'overdue' ? now.toISOString() : due === 'soon' ? new Date(now.getTime() + 3_600_000).toISOString() : undefined,
	};
}

/** What the page gets for an item: everything but other reviewers' pending approvals (and never a link). */
function shown(item: StoredItem, who: Identity): IDataObject {
	// the AI result as a whole stays server-side (it feeds the audit events); the view has what the page shows
	const view: Record<string, unknown> = { ...item.view };
	delete view.ai;
	return { ...(publicItem(item, who.name) as unknown as IDataObject), view: view as IDataObject };
}

export async function listItems(store: ReviewStore, filter: ItemFilter, who: Identity): Promise<IDataObject[]> {
	const items = await store.list(filter);
	return items.filter((item) => mayReview(item, who)).map((item) => shown(item, who));
}

function eventBase(item: StoredItem, who: Identity, now: Date): InboxEvent {
	return {
		event: '',
		at: now.toISOString(),
		reviewer: who.name,
		via: who.via,
		itemId: item.id,
		inbox: item.inbox,
		workflowId: item.workflowId,
		workflowName: item.workflowName,
		executionId: item.executionId,
		node: item.nodeName,
		itemIndex: item.itemIndex,
	};
}

/** An audit-ready item: the event under `inbox`, the AI result it concerns under `ai`, a final decision under `review`. */
export function eventItem(event: InboxEvent, item: StoredItem | undefined): IDataObject {
	const json: IDataObject = { inbox: event };
	const ai = item?.view.ai;
	if (ai && typeof ai === 'object') json.ai = ai as IDataObject;
	if (item && event.event === 'decided') {
		const last = item.approvals[item.approvals.length - 1];
		const edited = item.verdict === 'approve' ? [...item.approvals].reverse().find((a) => a.newAnswer !== undefined && a.changed) : undefined;
		const view = item.view as unknown as ReviewItemView;
		const edits = edited && view.key ? diffValues(view.answer, edited.newAnswer, `ai.${view.key}.answer`) : null;
		json.review = {
			decision: item.verdict === 'reject' ? 'rejected' : edits ? 'edited' : 'approved',
			reviewer: item.approvals.map((a) => a.reviewer).join(', '),
			comment: [...item.approvals].reverse().find((a) => a.comment)?.comment ?? null,
			edits: edits as IDataObject | null,
			decidedAt: last.at,
			waitedMs: Math.max(0, Date.parse(last.at) - Date.parse(item.createdAt)),
		};
	}
	return json;
}

function claimAnswer(outcome: ClaimOutcome, who: Identity): ApiAnswer {
	if (!outcome.ok) return refusal(outcome.reason, outcome.reason === 'claimed' ? { claimedBy: outcome.item?.claimedBy ?? null } : {});
	return { status: 200, body: { status: 'ok', item: shown(outcome.item, who) } };
}

export async function claimItem(store: ReviewStore, id: string, who: Identity, now: Date, claimMs: number, release: boolean, events: IDataObject[]): Promise<ApiAnswer> {
	const current = await store.get(id);
	if (!current) return refusal('not_found');
	if (!mayReview(current, who)) return refusal('forbidden');
	const outcome = release ? await store.release(id, who.name, now) : await store.claim(id, who.name, now, claimMs);
	if (outcome.ok) events.push(eventItem({ ...eventBase(outcome.item, who, now), event: release ? 'released' : 'claimed' }, outcome.item));
	return claimAnswer(outcome, who);
}

export interface DecideRequest {
	decision: unknown;
	answer?: unknown;
	edits?: unknown;
	comment?: unknown;
}

/** Checks the decision with the checkpoint's own rules (resolveSubmission: edits, the answer's schema), then stores it. */
export async function decideItem(store: ReviewStore, id: string, request: DecideRequest, who: Identity, now: Date, events: IDataObject[]): Promise<ApiAnswer> {
	const current = await store.get(id);
	if (!current) return refusal('not_found');
	if (!mayReview(current, who)) return refusal('forbidden');
	if (request.decision !== 'approve' && request.decision !== 'reject') {
		return { status: 400, body: { status: 'refused', reason: 'invalid', message: 'decision must be "approve" or "reject"' } };
	}
	const view = { ...(current.view as unknown as ReviewItemView), index: 0 };
	const entry: ReviewSubmission['items'][number] = { index: 0, decision: request.decision };
	if (request.answer !== undefined) entry.answer = request.answer;
	if (request.edits !== undefined) entry.edits = request.edits as ReviewSubmission['items'][number]['edits'];
	if (typeof request.comment === 'string' && request.comment.trim()) entry.comment = request.comment.trim().slice(0, 2000);
	let resolved;
	try {
		resolved = resolveSubmission({ reviewer: who.name, items: [entry] }, [view], who.name).decisions[0];
	} catch (error) {
		if (error instanceof ReviewInputError) {
			return { status: 400, body: { status: 'refused', reason: 'invalid', message: error.message.replace(/^Item 0: /, '') } };
		}
		throw error;
	}
	const outcome: DecideOutcome = await store.decide(
		id,
		{
			reviewer: who.name,
			verdict: resolved.action,
			comment: resolved.comment,
			...(resolved.newAnswer !== undefined ? { newAnswer: resolved.newAnswer, changed: resolved.changed } : {}),
		},
		now,
	);
	if (!outcome.ok) {
		return refusal(outcome.reason, outcome.reason === 'claimed' ? { claimedBy: outcome.item?.claimedBy ?? null } : {});
	}
	events.push(eventItem({ ...eventBase(outcome.item, who, now), event: outcome.final ? 'decided' : 'first-approval' }, outcome.item));
	return {
		status: 200,
		body: {
			status: 'ok',
			final: outcome.final,
			message: outcome.final ? 'Decision recorded.' : 'First approval recorded; a second reviewer must approve too.',
			item: shown(outcome.item, who),
		},
	};
}

export async function bulkApprove(store: ReviewStore, ids: unknown, comment: unknown, who: Identity, now: Date, events: IDataObject[]): Promise<ApiAnswer> {
	if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string') || ids.length > 500) {
		return { status: 400, body: { status: 'refused', reason: 'invalid', message: 'ids must be a list of 1 to 500 item ids' } };
	}
	const results: IDataObject[] = [];
	for (const id of ids as string[]) {
		const answer = await decideItem(store, id, { decision: 'approve', comment }, who, now, events);
		results.push({ id, status: answer.body.status, ...(answer.status === 200 ? { final: answer.body.final } : { reason: answer.body.reason, message: answer.body.message }) });
	}
	const approved = results.filter((r) => r.status === 'ok').length;
	return { status: 200, body: { status: approved === ids.length ? 'ok' : 'partial', approved, refused: ids.length - approved, results } };
}
