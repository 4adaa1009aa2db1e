/**
 * The embedded review store: one JSON file per inbox in the n8n user folder
 * (`<N8N_USER_FOLDER or home>/.n8n/governed-ai-review/<inbox>.json`), changed only under the Audit Log's
 * lock file (one writer at a time across executions and processes on one machine) and replaced atomically
 * (written to a temporary file, then renamed), so a crash never leaves half a file. For one n8n; several
 * mains or workers on several machines use the PostgreSQL store.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';

import { processGone, withFileLock } from '../../nodes/AuditLog/sinks/fileLock';
import {
	applyClaim,
	applyDecision,
	applyRelease,
	compareByDue,
	isDueSoon,
	isFresh,
	matchesFilter,
	newStoredItem,
	ReviewStoreError,
	type ClaimOutcome,
	type DecideOutcome,
	type DecisionInput,
	type DigestItems,
	type ItemFilter,
	type ReadyRound,
	type ReviewStore,
	type RoundInput,
	type StoredItem,
	type WaitingItemInput,
} from './types';

/** Who holds a round's turn at the resume: this process (`run` tells two runs apart that got the same pid). */
interface ResumeHolder {
	pid: number;
	host: string;
	run: string;
}

interface StoredRound {
	roundKey: string;
	resumeUrl: string;
	itemIds: string[];
	resumed: boolean;
	/** while `resumingBy` is set: the end of its turn; otherwise when a failed try may be repeated */
	resumingUntil?: number;
	resumingBy?: ResumeHolder | null;
}

/** This run of this process: a turn recorded with another run and this pid was left by a process that is gone. */
const THIS_RUN: ResumeHolder = { pid: process.pid, host: hostname(), run: randomBytes(8).toString('hex') };

function isThisRun(holder: ResumeHolder): boolean {
	return holder.pid === THIS_RUN.pid && holder.host === THIS_RUN.host && holder.run === THIS_RUN.run;
}

/** A holder on this machine whose process no longer runs (killed, crashed, restarted) holds nothing. */
function holderGone(holder: ResumeHolder): boolean {
	if (holder.host !== THIS_RUN.host || isThisRun(holder)) return false;
	return holder.pid === THIS_RUN.pid || processGone(holder.pid);
}

interface FileState {
	rounds: Record<string, StoredRound>;
	items: Record<string, StoredItem>;
}

const INBOX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkInboxName(name: string): string {
	const trimmed = name.trim();
	if (!INBOX_NAME.test(trimmed)) {
		throw new ReviewStoreError(`Inbox name "${name}" is not allowed: use letters, digits, dot, dash and underscore (up to 64)`);
	}
	return trimmed;
}

export function defaultReviewFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n', 'governed-ai-review');
}

export class FileReviewStore implements ReviewStore {
	private readonly path: string;

	/** `folder`: where the inbox files live (default: the n8n user folder's governed-ai-review) */
	constructor(inbox: string, folder: string = defaultReviewFolder()) {
		this.path = join(folder, `${checkInboxName(inbox)}.json`);
	}

	private async load(): Promise<FileState> {
		try {
			return JSON.parse(await fs.readFile(this.path, 'utf8')) as FileState;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { rounds: {}, items: {} };
			throw new ReviewStoreError(`The review store ${this.path} could not be read: ${(error as Error).message}`);
		}
	}

	private async save(state: FileState): Promise<void> {
		const temp = `${this.path}.${process.pid}.tmp`;
		await fs.writeFile(temp, JSON.stringify(state));
		await fs.rename(temp, this.path);
	}

	/** read-modify-write under the lock; `change` returns whether it changed anything */
	private async update<T>(change: (state: FileState) => { result: T; changed: boolean }): Promise<T> {
		await fs.mkdir(dirname(this.path), { recursive: true });
		return await withFileLock(this.path, async () => {
			const state = await this.load();
			const { result, changed } = change(state);
			if (changed) await this.save(state);
			return result;
		});
	}

	async addRound(round: RoundInput, items: WaitingItemInput[]): Promise<void> {
		await this.update((state) => {
			if (state.rounds[round.roundKey]) return { result: undefined, changed: false };
			const stored = items.map((input) => newStoredItem(round, input));
			for (const item of stored) state.items[item.id] = item;
			state.rounds[round.roundKey] = { roundKey: round.roundKey, resumeUrl: round.resumeUrl, itemIds: stored.map((i) => i.id), resumed: false };
			return { result: undefined, changed: true };
		});
	}

	async list(filter: ItemFilter): Promise<StoredItem[]> {
		const state = await this.load();
		const found = Object.values(state.items).filter((item) => matchesFilter(item, filter)).sort(compareByDue);
		return filter.limit ? found.slice(0, filter.limit) : found;
	}

	async get(id: string): Promise<StoredItem | undefined> {
		return (await this.load()).items[id];
	}

	async claim(id: string, reviewer: string, now: Date, claimMs: number): Promise<ClaimOutcome> {
		return await this.update((state) => {
			const item = state.items[id];
			if (!item) return { result: { ok: false, reason: 'not_found' } as ClaimOutcome, changed: false };
			const outcome = applyClaim(item, reviewer, now, claimMs);
			if (outcome.ok) state.items[id] = outcome.item;
			return { result: outcome, changed: outcome.ok };
		});
	}

	async release(id: string, reviewer: string, now: Date): Promise<ClaimOutcome> {
		return await this.update((state) => {
			const item = state.items[id];
			if (!item) return { result: { ok: false, reason: 'not_found' } as ClaimOutcome, changed: false };
			const outcome = applyRelease(item, reviewer, now);
			if (outcome.ok) state.items[id] = outcome.item;
			return { result: outcome, changed: outcome.ok };
		});
	}

	async decide(id: string, decision: DecisionInput, now: Date): Promise<DecideOutcome> {
		return await this.update((state) => {
			const item = state.items[id];
			if (!item) return { result: { ok: false, reason: 'not_found' } as DecideOutcome, changed: false };
			const outcome = applyDecision(item, decision, now);
			if (outcome.ok) state.items[id] = outcome.item;
			return { result: outcome, changed: outcome.ok };
		});
	}

	async readyRounds(inbox: string): Promise<ReadyRound[]> {
		const state = await this.load();
		const ready: ReadyRound[] = [];
		for (const round of Object.values(state.rounds)) {
			if (round.resumed) continue;
			const items = round.itemIds.map((id) => state.items[id]);
			if (items.length && items[0].inbox === inbox && items.every((item) => item.state === 'decided')) {
				ready.push({ roundKey: round.roundKey, resumeUrl: round.resumeUrl, items: items.sort((a, b) => a.itemIndex - b.itemIndex) });
			}
		}
		return ready;
	}

	async beginResume(roundKey: string, now: Date, leaseMs: number): Promise<boolean> {
		return await this.update((state) => {
			const round = state.rounds[roundKey];
			if (!round || round.resumed) return { result: false, changed: false };
			const holderLeft = round.resumingBy ? holderGone(round.resumingBy) : false;
			if (!holderLeft && (round.resumingUntil ?? 0) > now.getTime()) return { result: false, changed: false };
			round.resumingBy = THIS_RUN;
			round.resumingUntil = now.getTime() + leaseMs;
			return { result: true, changed: true };
		});
	}

	async endResume(roundKey: string, retryAt?: Date): Promise<void> {
		await this.update((state) => {
			const round = state.rounds[roundKey];
			if (!round?.resumingBy || !isThisRun(round.resumingBy)) return { result: undefined, changed: false };
			round.resumingBy = null;
			round.resumingUntil = retryAt?.getTime();
			return { result: undefined, changed: true };
		});
	}

	async markResumed(roundKey: string): Promise<boolean> {
		return await this.update((state) => {
			const round = state.rounds[roundKey];
			if (!round || round.resumed) return { result: false, changed: false };
			round.resumed = true;
			for (const id of round.itemIds) if (state.items[id].state === 'decided') state.items[id].state = 'resumed';
			return { result: true, changed: true };
		});
	}

	async expire(inbox: string, now: Date): Promise<StoredItem[]> {
		return await this.update((state) => {
			const expired: StoredItem[] = [];
			for (const item of Object.values(state.items)) {
				if (item.inbox === inbox && item.state === 'waiting' && item.expiresAt && Date.parse(item.expiresAt) <= now.getTime()) {
					item.state = 'expired';
					expired.push(item);
				}
			}
			return { result: expired, changed: expired.length > 0 };
		});
	}

	async escalateDue(inbox: string, now: Date): Promise<StoredItem[]> {
		return await this.update((state) => {
			const due: StoredItem[] = [];
			for (const item of Object.values(state.items)) {
				if (item.inbox === inbox && item.state === 'waiting' && !item.escalatedAt && item.dueAt && Date.parse(item.dueAt) <= now.getTime()) {
					item.escalatedAt = now.toISOString();
					due.push(item);
				}
			}
			return { result: due.sort(compareByDue), changed: due.length > 0 };
		});
	}

	async takeForDigest(inbox: string, now: Date, soonMs: number): Promise<DigestItems> {
		return await this.update((state) => {
			const taken: DigestItems = { fresh: [], dueSoon: [] };
			const at = now.toISOString();
			for (const item of Object.values(state.items)) {
				if (item.inbox !== inbox) continue;
				if (isDueSoon(item, now, soonMs)) {
					item.dueSoonAnnouncedAt = at;
					taken.dueSoon.push(item);
				}
				if (isFresh(item)) {
					item.announcedAt = at;
					taken.fresh.push(item);
				}
			}
			taken.fresh.sort(compareByDue);
			taken.dueSoon.sort(compareByDue);
			return { result: taken, changed: taken.fresh.length + taken.dueSoon.length > 0 };
		});
	}

	async close(): Promise<void> {
		// nothing held between calls
	}
}
