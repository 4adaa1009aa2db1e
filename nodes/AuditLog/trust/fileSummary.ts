/**
 * The trust summary of a JSON Lines stream, kept in a small file beside the log (`<log>.trust.json`): the
 * summary, plus the byte offset in the log up to which it is folded and where the last folded line starts.
 * The sink refreshes it after each append (under the log's lock); a reader checks that the line before the
 * offset is still the record the summary names (same sequence and hash), folds in whatever was appended
 * since (by the offset: no need to read the rest), and rebuilds from the start when the check fails. The
 * file is only a cache: deleting it costs one full read of the log, never a wrong answer.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';

import { emptySummary, foldRecord, parseSummary, type TrustSummary } from './summary';

interface KeptSummary {
	summary: TrustSummary;
	/** bytes of the log folded in: the end of the last folded line */
	offset: number;
	/** where that last line starts */
	lineStart: number;
}

export function summaryPathOf(logPath: string): string {
	return `${logPath}.trust.json`;
}

async function loadKept(logPath: string, stream: string): Promise<KeptSummary | null> {
	let text: string;
	try {
		text = await fs.readFile(summaryPathOf(logPath), 'utf8');
	} catch {
		return null;
	}
	try {
		const value = JSON.parse(text) as Partial<KeptSummary>;
		const summary = parseSummary(value.summary, stream);
		if (!summary || typeof value.offset !== 'number' || typeof value.lineStart !== 'number') return null;
		return { summary, offset: value.offset, lineStart: value.lineStart };
	} catch {
		return null;
	}
}

async function saveKept(logPath: string, kept: KeptSummary): Promise<void> {
	const target = summaryPathOf(logPath);
	const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
	try {
		await fs.writeFile(temporary, JSON.stringify(kept));
		await fs.rename(temporary, target);
	} catch {
		// a cache: the next reader folds from the log again
		await fs.rm(temporary, { force: true }).catch(() => undefined);
	}
}

/** Whether the kept summary still describes the start of this log: the line before its offset is its last record. */
async function stillHolds(handle: fs.FileHandle, size: number, kept: KeptSummary): Promise<boolean> {
	const { summary, offset, lineStart } = kept;
	if (offset === 0) return summary.throughSequence === 0;
	if (offset > size || lineStart < 0 || lineStart >= offset || offset - lineStart > 64 * 1024 * 1024) return false;
	const buffer = Buffer.alloc(offset - lineStart);
	await handle.read(buffer, 0, buffer.length, lineStart);
	const text = buffer.toString('utf8');
	if (!text.endsWith('\n')) return false;
	try {
		const last = JSON.parse(text.slice(0, -1)) as Record<string, unknown>;
		return last.sequence === summary.throughSequence && last.hash === summary.throughHash;
	} catch {
		return false;
	}
}

const CHUNK = 4 * 1024 * 1024;

/** Folds the complete lines of the log from `kept.offset` on into `kept` (in place); returns whether it moved. */
async function foldFrom(handle: fs.FileHandle, size: number, kept: KeptSummary): Promise<boolean> {
	let position = kept.offset;
	let carry = Buffer.alloc(0);
	let moved = false;
	while (position < size) {
		const length = Math.min(CHUNK, size - position);
		const chunk = Buffer.alloc(length);
		const { bytesRead } = await handle.read(chunk, 0, length, position);
		if (bytesRead === 0) break;
		const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
		const dataStart = position - carry.length;
		position += bytesRead;
		let lineStart = 0;
		for (let newline = data.indexOf(10, lineStart); newline !== -1; newline = data.indexOf(10, lineStart)) {
			if (newline > lineStart) {
				let record: unknown = null;
				try {
					record = JSON.parse(data.toString('utf8', lineStart, newline));
				} catch {
					// not a record (Verify names it); it moves nothing
				}
				foldRecord(kept.summary, record);
				kept.lineStart = dataStart + lineStart;
				kept.offset = dataStart + newline + 1;
				moved = true;
			}
			lineStart = newline + 1;
		}
		// an incomplete last line (a write under way) is left for the next reader
		carry = Buffer.from(data.subarray(lineStart));
	}
	return moved;
}

/** The stream's trust summary: the kept one brought up to date, or rebuilt from the log when it cannot be trusted. */
export async function readFileSummary(logPath: string, stream: string): Promise<TrustSummary> {
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(logPath, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptySummary(stream);
		throw error;
	}
	try {
		const { size } = await handle.stat();
		let kept = await loadKept(logPath, stream);
		if (!kept || !(await stillHolds(handle, size, kept))) kept = { summary: emptySummary(stream), offset: 0, lineStart: 0 };
		if (await foldFrom(handle, size, kept)) await saveKept(logPath, kept);
		return kept.summary;
	} finally {
		await handle.close();
	}
}

/**
 * After an append (called under the log's lock): folds the records just written into the kept summary when it
 * was current up to where they start; otherwise leaves it for the next reader to catch up. Never throws: the
 * records are already safe in the log.
 */
export async function keepFileSummary(
	logPath: string,
	stream: string,
	written: { start: number; lines: string[]; records: unknown[]; previousSequence: number },
): Promise<void> {
	try {
		let kept = await loadKept(logPath, stream);
		if (written.start === 0) kept = { summary: emptySummary(stream), offset: 0, lineStart: 0 };
		if (!kept || kept.offset !== written.start || kept.summary.throughSequence !== written.previousSequence) return;
		let offset = written.start;
		written.records.forEach((record, i) => {
			foldRecord(kept.summary, record);
			kept.lineStart = offset;
			offset += Buffer.byteLength(written.lines[i], 'utf8') + 1;
		});
		kept.offset = offset;
		await saveKept(logPath, kept);
	} catch {
		// the reader rebuilds it
	}
}
