/**
 * The review store: what the Review Inbox shows and what Human Checkpoint (Review In: Review Inbox) leaves
 * there when it pauses. Two implementations behind one interface: an embedded file (one n8n, no setup) and
 * PostgreSQL (queue mode, several mains/workers).
 *
 * - A *round* is one pause of one checkpoint in one execution: its signed resume link lives here, server-side
 *   only (no list or item answer ever carries it), and the round is resumed once every item of it is decided.
 * - An *item* is one input item of that pause: waiting → decided → resumed (or expired when its final time
 *   limit passed). A decision is stored before the execution is resumed, so a crash between the two is
 *   finished by the next caller of `readyRounds()` (idempotent: `markResumed` only moves decided → resumed;
 *   the crashed caller's turn at the resume, `beginResume`, ends with its process).
 * - Claims expire; another reviewer cannot claim or decide an item claimed by someone else.
 * - Four eyes: an item that needs two approvals is decided by the second approval of a different reviewer; the
 *   same reviewer approving twice is refused; `publicItem()` never shows a pending first approval.
 */

export type ItemState = 'waiting' | 'decided' | 'resumed' | 'expired';
export type ReviewVerdict = 'approve' | 'reject';

/** What a checkpoint records for one item (all of it is shown to reviewers of its group, except the round's link). */
export interface WaitingItemInput {
	itemIndex: number;
	/** the page's view of the item: fields to show, the AI's answer, confidence, method, reason, evidence, … */
	view: Record<string, unknown>;
	/** label / action, for routing and filtering */
	label?: string | null;
	/** when the item is due (escalated after this); ISO */
	dueAt?: string | null;
	/** 1, or 2 for four eyes */
	approvalsRequired?: 1 | 2;
	group?: string | null;
}

export interface RoundInput {
	/** unique per pause: execution id, checkpoint node id and the time the pause began */
	roundKey: string;
	inbox: string;
	workflowId: string;
	workflowName: string;
	executionId: string;
	nodeName: string;
	/** the execution's signed resume link: server-side only */
	resumeUrl: string;
	createdAt: string;
	/** the final time limit (the items go to No Response after it); ISO */
	expiresAt?: string | null;
	group?: string | null;
	escalationGroup?: string | null;
}

export interface Approval {
	reviewer: string;
	verdict: ReviewVerdict;
	newAnswer?: unknown;
	changed?: boolean;
	comment?: string | null;
	at: string;
}

export interface StoredItem {
	id: string;
	roundKey: string;
	inbox: string;
	workflowId: string;
	workflowName: string;
	executionId: string;
	nodeName: string;
	itemIndex: number;
	view: Record<string, unknown>;
	label: string | null;
	group: string | null;
	escalationGroup: string | null;
	approvalsRequired: 1 | 2;
	createdAt: string;
	dueAt: string | null;
	expiresAt: string | null;
	state: ItemState;
	claimedBy: string | null;
	claimUntil: string | null;
	/** approvals so far (four eyes: the first one while waiting for the second); the deciding one last */
	approvals: Approval[];
	/** the final verdict, once decided */
	verdict: ReviewVerdict | null;
	decidedAt: string | null;
	escalatedAt: string | null;
	/** when a digest listed the item as new (absent until then) */
	announcedAt?: string | null;
	/** when a digest listed the item as due soon (absent until then) */
	dueSoonAnnouncedAt?: string | null;
}

/** An item as a reviewer may see it: no other reviewer's pending approval. */
export type PublicItem = Omit<StoredItem, 'approvals'> & { approvals?: Approval[] };

export function publicItem(item: StoredItem, viewer?: string): PublicItem {
	const { approvals, ...rest } = item;
	// the decision is shown once it is final, or to the reviewer who made it
	if (item.state !== 'waiting') return { ...rest, approvals };
	const own = viewer ? approvals.filter((a) => a.reviewer.toLowerCase() === viewer.toLowerCase()) : [];
	return own.length ? { ...rest, approvals: own } : rest;
}

export interface ItemFilter {
	inbox: string;
	/** only items of these groups (or their escalation group once escalated); undefined: all */
	groups?: string[];
	workflowId?: string;
	label?: string;
	/** claimed by this reviewer */
	assignee?: string;
	/** due at or before */
	dueBefore?: string;
	/** default ['waiting'] */
	states?: ItemState[];
	limit?: number;
}

export type ClaimOutcome =
	| { ok: true; item: StoredItem }
	| { ok: false; reason: 'not_found' | 'claimed' | 'already_decided' | 'expired'; item?: StoredItem };

export interface DecisionInput {
	reviewer: string;
	verdict: ReviewVerdict;
	newAnswer?: unknown;
	changed?: boolean;
	comment?: string | null;
}

export type DecideOutcome =
	| { ok: true; final: boolean; item: StoredItem }
	| {
			ok: false;
			reason: 'not_found' | 'claimed' | 'already_decided' | 'expired' | 'same_reviewer';
			item?: StoredItem;
	  };

export interface ReadyRound {
	roundKey: string;
	resumeUrl: string;
	items: StoredItem[];
}

/** What one digest run takes from the store: each item comes back once as new and once as due soon, ever. */
export interface DigestItems {
	/** waiting items no digest has listed yet */
	fresh: StoredItem[];
	/** waiting items, not escalated, due after now and within the window, not listed as due soon yet */
	dueSoon: StoredItem[];
}

/** The digest rules, shared by both stores. */
export function isFresh(item: StoredItem): boolean {
	return item.state === 'waiting' && !item.announcedAt;
}

export function isDueSoon(item: StoredItem, now: Date, soonMs: number): boolean {
	if (item.state !== 'waiting' || item.escalatedAt || item.dueSoonAnnouncedAt || !item.dueAt) return false;
	const due = Date.parse(item.dueAt);
	return due > now.getTime() && due <= now.getTime() + soonMs;
}

export interface ReviewStore {
	/** records a paused round and its items; adding the same round again changes nothing */
	addRound(round: RoundInput, items: WaitingItemInput[]): Promise<void>;
	list(filter: ItemFilter): Promise<StoredItem[]>;
	get(id: string): Promise<StoredItem | undefined>;
	claim(id: string, reviewer: string, now: Date, claimMs: number): Promise<ClaimOutcome>;
	release(id: string, reviewer: string, now: Date): Promise<ClaimOutcome>;
	/** records one reviewer's decision, atomically; never resumes anything itself */
	decide(id: string, decision: DecisionInput, now: Date): Promise<DecideOutcome>;
	/** rounds whose items are all decided and that are not resumed yet (with their resume link) */
	readyRounds(inbox: string): Promise<ReadyRound[]>;
	/**
	 * Takes the round's resume (true for one caller at a time): two inbox requests never both call the resume
	 * link. The turn lasts until the caller's `endResume`, at most `leaseMs`, and ends at once when the caller
	 * is gone: the PostgreSQL store holds it as a session lock of the caller's database connection, which
	 * PostgreSQL drops with the connection of a killed process; the file store (one n8n) records the process
	 * that holds it and voids the turn of a process that no longer runs. So after a crash and restart the next
	 * request resumes the round without waiting. A round whose last try failed is not taken before its `retryAt`.
	 */
	beginResume(roundKey: string, now: Date, leaseMs: number): Promise<boolean>;
	/** Ends this caller's turn (after `markResumed`, or with `retryAt` when the try failed: no new try before it). */
	endResume(roundKey: string, retryAt?: Date): Promise<void>;
	/** decided → resumed for the round's items; true if this call moved them */
	markResumed(roundKey: string): Promise<boolean>;
	/** waiting items past their final time limit → expired; returns them */
	expire(inbox: string, now: Date): Promise<StoredItem[]>;
	/** waiting items due at or before now and not escalated yet; marks them escalated and returns them */
	escalateDue(inbox: string, now: Date): Promise<StoredItem[]>;
	/** the items a digest run lists (isFresh, isDueSoon), marked as listed in the same change so no run lists them again */
	takeForDigest(inbox: string, now: Date, soonMs: number): Promise<DigestItems>;
	close(): Promise<void>;
}

export class ReviewStoreError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ReviewStoreError';
	}
}

export function itemId(roundKey: string, itemIndex: number): string {
	return `${roundKey}:${itemIndex}`;
}

/** A claim held by someone else and not expired. */
export function claimedByOther(item: StoredItem, reviewer: string, now: Date): boolean {
	return (
		item.claimedBy !== null &&
		item.claimedBy.toLowerCase() !== reviewer.toLowerCase() &&
		item.claimUntil !== null &&
		Date.parse(item.claimUntil) > now.getTime()
	);
}

function isExpired(item: StoredItem, now: Date): boolean {
	return item.expiresAt !== null && Date.parse(item.expiresAt) <= now.getTime();
}

/**
 * The decision rules, shared by both stores: given the item as it is now (read under a lock / row lock),
 * either a refusal or the item as it is after the decision.
 */
export function applyDecision(item: StoredItem, decision: DecisionInput, now: Date): DecideOutcome {
	if (item.state !== 'waiting') {
		return { ok: false, reason: item.state === 'expired' ? 'expired' : 'already_decided', item };
	}
	if (isExpired(item, now)) return { ok: false, reason: 'expired', item };
	if (claimedByOther(item, decision.reviewer, now)) return { ok: false, reason: 'claimed', item };
	const reviewer = decision.reviewer.trim();
	if (item.approvals.some((a) => a.reviewer.toLowerCase() === reviewer.toLowerCase())) {
		return { ok: false, reason: 'same_reviewer', item };
	}
	const approval: Approval = {
		reviewer,
		verdict: decision.verdict,
		at: now.toISOString(),
		comment: decision.comment ?? null,
		...(decision.newAnswer !== undefined ? { newAnswer: decision.newAnswer, changed: decision.changed ?? true } : {}),
	};
	const approvals = [...item.approvals, approval];
	const final = decision.verdict === 'reject' || approvals.length >= item.approvalsRequired;
	const next: StoredItem = final
		? { ...item, approvals, state: 'decided', verdict: decision.verdict, decidedAt: now.toISOString(), claimedBy: null, claimUntil: null }
		: // four eyes, first approval: the claim is released so a second reviewer can take the item
			{ ...item, approvals, claimedBy: null, claimUntil: null };
	return { ok: true, final, item: next };
}

export function applyClaim(item: StoredItem, reviewer: string, now: Date, claimMs: number): ClaimOutcome {
	if (item.state !== 'waiting') return { ok: false, reason: item.state === 'expired' ? 'expired' : 'already_decided', item };
	if (isExpired(item, now)) return { ok: false, reason: 'expired', item };
	if (claimedByOther(item, reviewer, now)) return { ok: false, reason: 'claimed', item };
	return { ok: true, item: { ...item, claimedBy: reviewer.trim(), claimUntil: new Date(now.getTime() + claimMs).toISOString() } };
}

export function applyRelease(item: StoredItem, reviewer: string, now: Date): ClaimOutcome {
	if (item.state !== 'waiting') return { ok: false, reason: item.state === 'expired' ? 'expired' : 'already_decided', item };
	if (claimedByOther(item, reviewer, now)) return { ok: false, reason: 'claimed', item };
	return { ok: true, item: { ...item, claimedBy: null, claimUntil: null } };
}

export function newStoredItem(round: RoundInput, input: WaitingItemInput): StoredItem {
	return {
		id: itemId(round.roundKey, input.itemIndex),
		roundKey: round.roundKey,
		inbox: round.inbox,
		workflowId: round.workflowId,
		workflowName: round.workflowName,
		executionId: round.executionId,
		nodeName: round.nodeName,
		itemIndex: input.itemIndex,
		view: input.view,
		label: input.label ?? null,
		group: input.group ?? round.group ?? null,
		escalationGroup: round.escalationGroup ?? null,
		approvalsRequired: input.approvalsRequired === 2 ? 2 : 1,
		createdAt: round.createdAt,
		dueAt: input.dueAt ?? null,
		expiresAt: round.expiresAt ?? null,
		state: 'waiting',
		claimedBy: null,
		claimUntil: null,
		approvals: [],
		verdict: null,
		decidedAt: null,
		escalatedAt: null,
	};
}

/** The filter as a predicate (the file store; the PostgreSQL store does the same in SQL). */
export function matchesFilter(item: StoredItem, filter: ItemFilter): boolean {
	const states = filter.states ?? ['waiting'];
	if (item.inbox !== filter.inbox || !states.includes(item.state)) return false;
	if (filter.groups) {
		const groups = filter.groups.map((g) => g.toLowerCase());
		const inGroup = item.group === null || groups.includes(item.group.toLowerCase());
		const escalatedTo = item.escalatedAt !== null && item.escalationGroup !== null && groups.includes(item.escalationGroup.toLowerCase());
		if (!inGroup && !escalatedTo) return false;
	}
	if (filter.workflowId && item.workflowId !== filter.workflowId) return false;
	if (filter.label && (item.label ?? '').toLowerCase() !== filter.label.toLowerCase()) return false;
	if (filter.assignee && (item.claimedBy ?? '').toLowerCase() !== filter.assignee.toLowerCase()) return false;
	if (filter.dueBefore && (item.dueAt === null || Date.parse(item.dueAt) > Date.parse(filter.dueBefore))) return false;
	return true;
}

/** Sorted by due time (items without a due time last), then by age, then by position. */
export function compareByDue(a: StoredItem, b: StoredItem): number {
	const due = (x: StoredItem) => (x.dueAt ? Date.parse(x.dueAt) : Number.POSITIVE_INFINITY);
	return due(a) - due(b) || a.createdAt.localeCompare(b.createdAt) || a.roundKey.localeCompare(b.roundKey) || a.itemIndex - b.itemIndex;
}
