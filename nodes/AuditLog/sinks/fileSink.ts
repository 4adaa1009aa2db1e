/**
 * The embedded sink: one JSON Lines file per stream, by default under the n8n user folder
 * (`<N8N_USER_FOLDER or home>/.n8n/governed-ai-audit/<stream>.jsonl`). Appends happen under a lock file,
 * and the sequence continues from the file's last line, so concurrent executions and several processes on
 * one machine keep one valid chain. (Several machines: use the PostgreSQL sink.)
 */
import { createReadStream, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { GENESIS_HEAD, sealRecords, type ChainHead } from '../chain';
import { withFileLock, type LockOptions } from './fileLock';
import type { AuditDraft, AuditRecord } from '../record';
import { keepFileSummary, readFileSummary } from '../trust/fileSummary';
import type { TrustSummary } from '../trust/summary';
import { AuditSinkError, checkStreamName, inWindow, type AuditSink, type TimeWindow } from './sink';

export function defaultAuditFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n', 'governed-ai-audit');
}

/** The file of a stream: the configured path (with `{stream}` filled in) or the default location. */
export function auditFilePath(stream: string, configured?: string): string {
	checkStreamName(stream);
	if (configured && configured.trim()) return configured.trim().replace(/\{stream\}/g, stream);
	return join(defaultAuditFolder(), `${stream}.jsonl`);
}

const PAGE = 5000;

/**
 * The lines of a file, read in 1 MB chunks and split on the newline byte before decoding (readline, or a utf8
 * stream decoder and string slicing, cost several times more per line; a newline byte never occurs inside a
 * multi-byte UTF-8 character, so every line decodes whole). Memory stays at one chunk and one page of lines,
 * however large the file. A `\r` before the newline is dropped, as readline does.
 */
async function* fileLines(path: string): AsyncIterable<string> {
	// the start of a line that continues in the next chunk
	let rest: Buffer | null = null;
	for await (const read of createReadStream(path, { highWaterMark: 1 << 20 })) {
		const chunk = read as Buffer;
		let start = 0;
		let end = chunk.indexOf(10);
		if (rest) {
			if (end === -1) {
				rest = Buffer.concat([rest, chunk]);
				continue;
			}
			yield lineOf(Buffer.concat([rest, chunk.subarray(0, end)]), 0, end + rest.length);
			rest = null;
			start = end + 1;
			end = chunk.indexOf(10, start);
		}
		for (; end !== -1; end = chunk.indexOf(10, start)) {
			yield lineOf(chunk, start, end);
			start = end + 1;
		}
		// a copy: the stream may reuse the chunk's memory
		if (start < chunk.length) rest = Buffer.from(chunk.subarray(start));
	}
	if (rest) yield lineOf(rest, 0, rest.length);
}

function lineOf(buffer: Buffer, start: number, end: number): string {
	return buffer.toString('utf8', start, end > start && buffer[end - 1] === 13 ? end - 1 : end);
}

/** The last complete line of a file, read from its end so a large log costs the same as a small one. */
async function lastLine(path: string): Promise<string | null> {
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(path, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw error;
	}
	try {
		const { size } = await handle.stat();
		if (size === 0) return null;
		let chunk = 64 * 1024;
		for (;;) {
			const start = Math.max(0, size - chunk);
			const buffer = Buffer.alloc(size - start);
			await handle.read(buffer, 0, buffer.length, start);
			const text = buffer.toString('utf8');
			if (!text.endsWith('\n')) {
				throw new AuditSinkError(
					`The audit file ${path} ends with an incomplete line (a write was interrupted); run Verify and repair the file before appending`,
					'filePath',
				);
			}
			const body = text.slice(0, -1);
			const cut = body.lastIndexOf('\n');
			if (cut >= 0) return body.slice(cut + 1);
			if (start === 0) return body;
			chunk *= 4;
		}
	} finally {
		await handle.close();
	}
}

export class FileSink implements AuditSink {
	constructor(
		private readonly configuredPath?: string,
		private readonly lockOptions: LockOptions = {},
	) {}

	pathOf(stream: string): string {
		return auditFilePath(stream, this.configuredPath);
	}

	async append(stream: string, drafts: AuditDraft[]): Promise<AuditRecord[]> {
		if (drafts.length === 0) return [];
		const path = this.pathOf(stream);
		await fs.mkdir(dirname(path), { recursive: true });
		return await withFileLock(
			path,
			async () => {
				const head = await this.headOf(path, stream);
				const records = sealRecords(stream, head, drafts);
				const lines = records.map((r) => JSON.stringify(r));
				const handle = await fs.open(path, 'a');
				let start: number;
				try {
					start = (await handle.stat()).size;
					await handle.writeFile(lines.join('\n') + '\n');
					// the records are on disk before the items leave the node with their stamps
					await handle.datasync();
				} finally {
					await handle.close();
				}
				// the trust summary beside the log (a cache a reader can always rebuild), still under the lock
				await keepFileSummary(path, stream, { start, lines, records, previousSequence: head.sequence });
				return records;
			},
			this.lockOptions,
		);
	}

	private async headOf(path: string, stream: string): Promise<ChainHead> {
		const line = await lastLine(path);
		if (line === null) return GENESIS_HEAD;
		let last: Record<string, unknown>;
		try {
			last = JSON.parse(line) as Record<string, unknown>;
		} catch {
			throw new AuditSinkError(`The last line of the audit file ${path} is not JSON; run Verify`, 'filePath');
		}
		if (typeof last.sequence !== 'number' || typeof last.hash !== 'string' || typeof last.recordId !== 'string') {
			throw new AuditSinkError(`The last line of the audit file ${path} is not an audit record; run Verify`, 'filePath');
		}
		if (last.stream !== stream) {
			throw new AuditSinkError(
				`The audit file ${path} holds the stream "${String(last.stream)}", not "${stream}": use one file per stream (put {stream} in the file path)`,
				'filePath',
			);
		}
		return { sequence: last.sequence, hash: last.hash, recordId: last.recordId };
	}

	async *read(stream: string, window?: TimeWindow): AsyncIterable<unknown[]> {
		const path = this.pathOf(stream);
		try {
			await fs.access(path);
		} catch {
			return;
		}
		let page: unknown[] = [];
		let lineNumber = 0;
		for await (const line of fileLines(path)) {
			lineNumber++;
			if (line === '') continue;
			let value: unknown;
			try {
				value = JSON.parse(line);
			} catch {
				// handed on as is: Verify reports it as malformed at this position
				value = { unparsable: line.slice(0, 200), line: lineNumber };
			}
			const at = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).at : undefined;
			if (window && !inWindow(at, window)) continue;
			page.push(value);
			if (page.length >= PAGE) {
				yield page;
				page = [];
			}
		}
		if (page.length) yield page;
	}

	/** The stream's trust summary (see ../trust/summary.ts), from the small file kept beside the log. */
	async trustSummary(stream: string): Promise<TrustSummary> {
		return await readFileSummary(this.pathOf(stream), stream);
	}

	async close(): Promise<void> {}
}
