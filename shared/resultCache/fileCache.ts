/**
 * The result cache in a JSON Lines file in the n8n user folder (`<N8N_USER_FOLDER or home>/.n8n/governed-ai-cache/
 * results.jsonl` unless a path is given), one line per stored answer: `{ k: key, a: answer, s: stored at, e: expires at }`.
 *
 * A run reads the file once, at its first look-up, and writes its new answers in one append at its end, under the
 * Audit Log's lock file (one writer at a time across executions and processes on one machine). A line being
 * appended while another run reads is skipped as unreadable, so readers need no lock. Expired and replaced
 * lines are dropped when a writer finds them as many as the live ones: the file is then written anew to a
 * temporary file and renamed over the old one, so a reader sees the old file or the new one, never half of one.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { withFileLock } from '../../nodes/AuditLog/sinks/fileLock';
import { type CacheHit, type CacheOptions, isFresh, type ResultCache, type StoredAnswer } from './types';

export function defaultCacheFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n', 'governed-ai-cache');
}

/** The configured file, or the default one. */
export function cacheFilePath(configured?: string): string {
	return configured && configured.trim() ? configured.trim() : join(defaultCacheFolder(), 'results.jsonl');
}

interface Line {
	k: string;
	a: StoredAnswer;
	s: number;
	e: number;
}

interface FileState {
	entries: Map<string, Line>;
	lines: number;
	/** false when a crashed writer left half a line at the end: the next append starts on a line of its own */
	endsWithNewline: boolean;
}

/** `minDeadLines`: rewrite the file only once this many of its lines are expired or replaced (and as many as the live ones) */
type FileCacheOptions = CacheOptions & { minDeadLines?: number };

export class FileResultCache implements ResultCache {
	private state?: Promise<FileState>;
	private pending: Line[] = [];
	private readonly now: () => number;

	constructor(
		readonly path: string,
		private readonly options: FileCacheOptions,
	) {
		this.now = options.now ?? Date.now;
	}

	private async read(): Promise<FileState> {
		let text: string;
		try {
			text = await fs.readFile(this.path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: new Map(), lines: 0, endsWithNewline: true };
			throw new Error(`The result cache ${this.path} could not be read: ${(error as Error).message}`);
		}
		const entries = new Map<string, Line>();
		let lines = 0;
		for (const raw of text.split('\n')) {
			if (!raw) continue;
			lines++;
			try {
				const line = JSON.parse(raw) as Line;
				if (typeof line.k === 'string' && typeof line.s === 'number' && typeof line.e === 'number' && line.a) entries.set(line.k, line);
			} catch {
				// a line being appended right now, or a torn one: not an entry
			}
		}
		return { entries, lines, endsWithNewline: text.length === 0 || text.endsWith('\n') };
	}

	async get(key: string): Promise<CacheHit | undefined> {
		this.state ??= this.read();
		const line = (await this.state).entries.get(key);
		if (!line || !isFresh(line.s, line.e, this.options.ttlMs, this.now())) return undefined;
		return { answer: line.a, storedAt: line.s };
	}

	async put(key: string, answer: StoredAnswer): Promise<void> {
		const now = this.now();
		this.pending.push({ k: key, a: answer, s: now, e: now + this.options.ttlMs });
	}

	async close(): Promise<void> {
		const pending = this.pending;
		this.pending = [];
		if (pending.length === 0) return;
		await fs.mkdir(dirname(this.path), { recursive: true });
		await withFileLock(this.path, async () => {
			// what other runs wrote since this one read the file counts too
			const current = await this.read();
			const now = this.now();
			for (const line of pending) current.entries.set(line.k, line);
			let live = 0;
			for (const line of current.entries.values()) if (line.e > now) live++;
			const dead = current.lines + pending.length - live;
			if (dead >= Math.max(live, this.options.minDeadLines ?? 1000)) {
				const kept = [...current.entries.values()].filter((line) => line.e > now);
				const temp = `${this.path}.${process.pid}.tmp`;
				await fs.writeFile(temp, kept.map((line) => JSON.stringify(line) + '\n').join(''));
				await fs.rename(temp, this.path);
			} else {
				await fs.appendFile(this.path, (current.endsWithNewline ? '' : '\n') + pending.map((line) => JSON.stringify(line) + '\n').join(''));
			}
		});
	}
}
