/**
 * One writer at a time per file, across executions and across processes on one machine: the lock is a
 * file created with O_EXCL (`wx`), which the operating system lets exactly one caller create.
 *
 * A lock left behind by a crashed writer is taken over when its process is gone (same host) or when it
 * is older than `staleMs`. Writers hold the lock for milliseconds, so a stale limit of a minute is safe.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';

import { sleep } from 'n8n-workflow';

export interface LockOptions {
	/** give up after this long (ms) */
	timeoutMs?: number;
	/** a lock older than this (ms) is treated as abandoned */
	staleMs?: number;
}

interface LockOwner {
	pid: number;
	host: string;
	at: number;
}

/** Is no process with this id running on this machine? */
export function processGone(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return false;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'ESRCH';
	}
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
	let owner: Partial<LockOwner> = {};
	try {
		owner = JSON.parse(await fs.readFile(lockPath, 'utf8')) as Partial<LockOwner>;
	} catch {
		// being written right now, or gone: judge by its age below
	}
	if (owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && processGone(owner.pid)) {
		return true;
	}
	try {
		const stat = await fs.stat(lockPath);
		return Date.now() - stat.mtimeMs > staleMs;
	} catch {
		return false;
	}
}

/** Runs `work` while holding `<path>.lock`. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
	const lockPath = `${path}.lock`;
	const timeoutMs = options.timeoutMs ?? 30_000;
	const staleMs = options.staleMs ?? 60_000;
	const started = Date.now();
	let wait = 2;
	for (;;) {
		try {
			const handle = await fs.open(lockPath, 'wx');
			try {
				const owner: LockOwner = { pid: process.pid, host: hostname(), at: Date.now() };
				await handle.writeFile(JSON.stringify(owner));
			} finally {
				await handle.close();
			}
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		if (await isStale(lockPath, staleMs)) {
			// rename first: only one of several waiters can move a given lock file away
			const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
			try {
				await fs.rename(lockPath, aside);
				await fs.unlink(aside);
			} catch {
				// someone else took it over first
			}
			continue;
		}
		if (Date.now() - started > timeoutMs) {
			throw new Error(`Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}`);
		}
		await sleep(wait + Math.random() * wait);
		wait = Math.min(wait * 2, 50);
	}
	try {
		return await work();
	} finally {
		await fs.unlink(lockPath).catch(() => undefined);
	}
}
