/**
 * The HTTP sink: POSTs each batch as JSON `{ stream, records: [...] }` to a SIEM or log platform.
 *
 * The records are chained here, before they leave: the head of each stream's chain (last sequence, hash
 * and record id) is kept in a small state file next to the file sink's default location
 * (`.../governed-ai-audit/<stream>.http-chain.json`), updated under the same kind of lock only after the
 * endpoint answered 2xx. So a failed POST leaves no gap, and the receiver gets a chain it can verify
 * (export the records and feed them to Verify with "Records From: Input Items").
 *
 * The state file is local: one n8n machine per HTTP stream. With several workers on several machines,
 * give each its own stream name or use the PostgreSQL sink. The HTTP sink cannot read records back.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';

import { GENESIS_HEAD, headOf, sealRecords, type ChainHead } from '../chain';
import { defaultAuditFolder } from './fileSink';
import { withFileLock, type LockOptions } from './fileLock';
import type { AuditDraft, AuditRecord } from '../record';
import { AuditSinkError, checkStreamName, type AuditSink } from './sink';

/** Sends one batch; throws when the endpoint does not accept it. */
export type SendBatch = (body: { stream: string; records: AuditRecord[] }) => Promise<void>;

export function httpStatePath(stream: string, folder: string = defaultAuditFolder()): string {
	return join(folder, `${checkStreamName(stream)}.http-chain.json`);
}

async function readHead(path: string): Promise<ChainHead> {
	let text: string;
	try {
		text = await fs.readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return GENESIS_HEAD;
		throw error;
	}
	const head = JSON.parse(text) as Partial<ChainHead>;
	if (typeof head.sequence !== 'number' || typeof head.hash !== 'string') {
		throw new AuditSinkError(`The HTTP sink's chain state ${path} is damaged`, 'url');
	}
	return { sequence: head.sequence, hash: head.hash, recordId: head.recordId ?? null };
}

export class HttpSink implements AuditSink {
	constructor(
		private readonly send: SendBatch,
		private readonly stateFolder: string = defaultAuditFolder(),
		private readonly lockOptions: LockOptions = {},
	) {}

	async append(stream: string, drafts: AuditDraft[]): Promise<AuditRecord[]> {
		if (drafts.length === 0) return [];
		const path = httpStatePath(stream, this.stateFolder);
		await fs.mkdir(dirname(path), { recursive: true });
		return await withFileLock(
			path,
			async () => {
				const records = sealRecords(stream, await readHead(path), drafts);
				await this.send({ stream, records });
				// written atomically, so a crash leaves the old head or the new one, never half of each
				const tmp = `${path}.${process.pid}.tmp`;
				await fs.writeFile(tmp, JSON.stringify(headOf(records[records.length - 1])));
				await fs.rename(tmp, path);
				return records;
			},
			this.lockOptions,
		);
	}

	async *read(): AsyncIterable<unknown[]> {
		throw new AuditSinkError(
			'The HTTP sink cannot read records back. Verify and report from your log platform, or fetch the records (e.g. with an HTTP Request node) and set "Records From" to "Input Items"',
			'sink',
		);
	}

	async close(): Promise<void> {}
}
