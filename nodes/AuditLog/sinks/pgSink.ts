/**
 * The PostgreSQL sink. Safe with several n8n workers appending to one stream at once: each append runs
 * in one transaction that first takes a transaction-scoped advisory lock on (table, stream), then reads
 * the stream's last (sequence, hash), chains the batch onto it and inserts it. The lock is released by
 * COMMIT/ROLLBACK, so a crashed worker never leaves it held; the primary key (stream, sequence) is the
 * last line of defence against a gap or a duplicate.
 *
 * One pool per node run, ended by `close()`: no connection outlives the execution that opened it.
 */
import { Pool, type PoolClient, type PoolConfig } from 'pg';

import { GENESIS_HEAD, sealRecords, type ChainHead } from '../chain';
import type { AuditDraft, AuditRecord } from '../record';
import { emptySummary, foldRecord, parseSummary, type TrustSummary } from '../trust/summary';
import { AuditSinkError, checkStreamName, type AuditSink, type TimeWindow } from './sink';

export const DEFAULT_TABLE = 'governed_ai_audit';

export const PG_SSL_MODES = ['disable', 'require', 'requireNoVerify'] as const;
export type PgSslMode = (typeof PG_SSL_MODES)[number];

/** The fields of the `governedAiPostgres` credential. */
export interface PgConnection {
	host: string;
	port: number;
	database: string;
	user: string;
	password?: string;
	ssl?: PgSslMode;
}

export function poolConfig(connection: PgConnection): PoolConfig {
	const ssl = connection.ssl ?? 'disable';
	return {
		host: connection.host,
		port: Number(connection.port) || 5432,
		database: connection.database,
		user: connection.user,
		password: connection.password || undefined,
		ssl: ssl === 'disable' ? false : { rejectUnauthorized: ssl === 'require' },
		max: 2,
		connectionTimeoutMillis: 10_000,
	};
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `table` or `schema.table`, each part a plain identifier; returned quoted. */
/** Runs `work` in one transaction on a client of the pool: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	try {
		await client.query('BEGIN');
		const result = await work(client);
		await client.query('COMMIT');
		return result;
	} catch (error) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw error;
	} finally {
		client.release();
	}
}

export function quoteTableName(name: string): string {
	const parts = name.trim().split('.');
	if (parts.length > 2 || parts.some((p) => !IDENTIFIER.test(p))) {
		throw new AuditSinkError(
			`Table name "${name}" is not allowed: use letters, digits and underscores (optionally schema.table)`,
			'tableName',
		);
	}
	return parts.map((p) => `"${p}"`).join('.');
}

/** Connects and runs `SELECT 1`; used by the credential test. */
export async function testPgConnection(connection: PgConnection): Promise<void> {
	const pool = new Pool({ ...poolConfig(connection), max: 1 });
	try {
		await pool.query('SELECT 1');
	} finally {
		await pool.end();
	}
}

/** A credential test for a PostgreSQL connection (a database has no HTTP request to test with): connect and run SELECT 1. */
export async function pgCredentialTest(credential: { data?: unknown }): Promise<{ status: 'OK' | 'Error'; message: string }> {
	try {
		await testPgConnection(credential.data as PgConnection);
		return { status: 'OK', message: 'Connection successful' };
	} catch (error) {
		return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
	}
}

/** `<table>_trust` beside the table (the name cut so that it stays a valid identifier). */
export function trustTableName(table: string): string {
	const parts = table.trim().split('.');
	const name = parts.pop()!;
	return [...parts, `${name.slice(0, 57)}_trust`].join('.');
}

const PAGE = 5000;
const INSERT_CHUNK = 1000;
const COLUMNS = [
	'stream',
	'sequence',
	'record_id',
	'workflow_id',
	'execution_id',
	'node_name',
	'item_index',
	'at',
	'prev_hash',
	'hash',
	'record',
] as const;

export class PgSink implements AuditSink {
	private readonly pool: Pool;
	private readonly table: string;
	private readonly plainTable: string;
	/** the per-stream trust summaries (../trust/summary.ts): `<table>_trust` */
	private readonly trustTable: string;
	private tableReady = false;
	private trustTableReady = false;
	private closed = false;

	constructor(connection: PgConnection, tableName: string = DEFAULT_TABLE) {
		this.table = quoteTableName(tableName);
		this.plainTable = tableName.trim();
		this.trustTable = quoteTableName(trustTableName(this.plainTable));
		this.pool = new Pool(poolConfig(connection));
		// an idle client's network error must not crash the n8n process
		this.pool.on('error', () => undefined);
	}

	private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
		return await inTransaction(this.pool, work);
	}

	/** Creates the table when missing; serialised, since concurrent CREATE TABLE IF NOT EXISTS can clash. */
	async ensureTable(): Promise<void> {
		if (this.tableReady) return;
		const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.table]);
		if (!exists.rows[0]?.t) {
			await this.transaction(async (client) => {
				await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [this.plainTable]);
				await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
					stream text NOT NULL,
					sequence bigint NOT NULL,
					record_id text NOT NULL UNIQUE,
					workflow_id text,
					execution_id text,
					node_name text,
					item_index integer,
					at timestamptz NOT NULL,
					prev_hash text NOT NULL,
					hash text NOT NULL,
					record jsonb NOT NULL,
					PRIMARY KEY (stream, sequence)
				)`);
				const index = `"${this.plainTable.replace(/\./g, '_').slice(0, 50)}_stream_at"`;
				await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.table} (stream, at)`);
			});
		}
		this.tableReady = true;
	}

	async append(stream: string, drafts: AuditDraft[]): Promise<AuditRecord[]> {
		checkStreamName(stream);
		if (drafts.length === 0) return [];
		await this.ensureTable();
		return await this.transaction(async (client) => {
			await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [this.plainTable, stream]);
			const last = await client.query<{ sequence: string; hash: string; record_id: string }>(
				`SELECT sequence, hash, record_id FROM ${this.table} WHERE stream = $1 ORDER BY sequence DESC LIMIT 1`,
				[stream],
			);
			const row = last.rows[0];
			const head: ChainHead = row
				? { sequence: Number(row.sequence), hash: row.hash, recordId: row.record_id }
				: GENESIS_HEAD;
			const records = sealRecords(stream, head, drafts);
			for (let start = 0; start < records.length; start += INSERT_CHUNK) {
				const chunk = records.slice(start, start + INSERT_CHUNK);
				const values: unknown[] = [];
				const tuples = chunk.map((r, i) => {
					values.push(
						r.stream,
						r.sequence,
						r.recordId,
						r.workflowId,
						r.executionId,
						r.nodeName,
						r.itemIndex,
						r.at,
						r.prevHash,
						r.hash,
						JSON.stringify(r),
					);
					const base = i * COLUMNS.length;
					return `(${COLUMNS.map((_, c) => `$${base + c + 1}`).join(',')})`;
				});
				await client.query(`INSERT INTO ${this.table} (${COLUMNS.join(',')}) VALUES ${tuples.join(',')}`, values);
			}
			// a savepoint: whatever goes wrong with the summary (a cache) must not undo the append
			await client.query('SAVEPOINT trust_summary');
			try {
				await this.keepSummary(client, stream, head.sequence, records);
				await client.query('RELEASE SAVEPOINT trust_summary');
			} catch {
				await client.query('ROLLBACK TO SAVEPOINT trust_summary');
			}
			return records;
		});
	}

	/** Creates the trust summary table when missing (a table made by an earlier version has none yet). */
	private async ensureTrustTable(): Promise<void> {
		if (this.trustTableReady) return;
		const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.trustTable]);
		if (!exists.rows[0]?.t) {
			await this.transaction(async (client) => {
				await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 1)', [this.plainTable]);
				await client.query(`CREATE TABLE IF NOT EXISTS ${this.trustTable} (
					stream text PRIMARY KEY,
					through_sequence bigint NOT NULL,
					summary jsonb NOT NULL
				)`);
			});
		}
		this.trustTableReady = true;
	}

	/**
	 * In the append's transaction, under the stream's lock: folds the new records into the stream's summary when
	 * it was current up to them (or the stream is new); otherwise leaves it for the next reader to catch up.
	 */
	private async keepSummary(client: PoolClient, stream: string, previousSequence: number, records: AuditRecord[]): Promise<void> {
		await this.ensureTrustTable();
		const row = await client.query<{ summary: unknown }>(`SELECT summary FROM ${this.trustTable} WHERE stream = $1`, [stream]);
		const kept = row.rows[0] ? parseSummary(row.rows[0].summary, stream) : previousSequence === 0 ? emptySummary(stream) : null;
		if (!kept || kept.throughSequence !== previousSequence) return;
		for (const record of records) foldRecord(kept, record);
		await this.saveSummary(client, kept);
	}

	/** Stores a summary unless one further along is already there. */
	private async saveSummary(client: Pool | PoolClient, summary: TrustSummary): Promise<void> {
		await client.query(
			`INSERT INTO ${this.trustTable} AS kept (stream, through_sequence, summary) VALUES ($1, $2, $3)
			 ON CONFLICT (stream) DO UPDATE SET through_sequence = EXCLUDED.through_sequence, summary = EXCLUDED.summary
			 WHERE kept.through_sequence < EXCLUDED.through_sequence`,
			[summary.stream, summary.throughSequence, JSON.stringify(summary)],
		);
	}

	/**
	 * The stream's trust summary: the kept row, checked against the record it says it ends with (same hash),
	 * with the records appended since folded in (by the primary key, so only those are read); rebuilt from the
	 * first record when the check fails.
	 */
	async trustSummary(stream: string): Promise<TrustSummary> {
		checkStreamName(stream);
		const exists = await this.pool.query<{ t: string | null; k: string | null }>('SELECT to_regclass($1)::text AS t, to_regclass($2)::text AS k', [
			this.table,
			this.trustTable,
		]);
		if (!exists.rows[0]?.t) return emptySummary(stream);
		if (!exists.rows[0].k) await this.ensureTrustTable();
		// the kept row, the hash of the record it says it ends with, and the stream's last sequence (both by the primary key)
		const row = await this.pool.query<{ summary: unknown; hash: string | null; last: string | null }>(
			`SELECT kept.summary, records.hash, (SELECT max(sequence) FROM ${this.table} WHERE stream = $1) AS last
			 FROM (SELECT $1::text AS stream) wanted
			 LEFT JOIN ${this.trustTable} kept ON kept.stream = wanted.stream
			 LEFT JOIN ${this.table} records ON records.stream = kept.stream AND records.sequence = kept.through_sequence`,
			[stream],
		);
		const found = row.rows[0];
		let summary = found?.summary ? parseSummary(found.summary, stream) : null;
		if (summary && summary.throughSequence > 0 && found.hash !== summary.throughHash) summary = null;
		summary ??= emptySummary(stream);
		// current: nothing to fold
		if (summary.throughSequence === Number(found?.last ?? 0)) return summary;
		const from = summary.throughSequence;
		const client = await this.pool.connect();
		let open = false;
		try {
			await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
			open = true;
			await client.query(
				`DECLARE trust_read NO SCROLL CURSOR FOR SELECT record::text AS record FROM ${this.table} WHERE stream = $1 AND sequence > $2 ORDER BY sequence`,
				[stream, from],
			);
			for (;;) {
				const page = await client.query<{ record: string }>(`FETCH ${PAGE} FROM trust_read`);
				if (page.rows.length === 0) break;
				for (const r of page.rows) foldRecord(summary, JSON.parse(r.record) as unknown);
			}
			await client.query('COMMIT');
			open = false;
		} finally {
			if (open) await client.query('ROLLBACK').catch(() => undefined);
			client.release();
		}
		if (summary.throughSequence > from) await this.saveSummary(this.pool, summary);
		return summary;
	}

	/**
	 * One query through a cursor, fetched a page at a time: one consistent snapshot of the stream (an
	 * append committing meanwhile is either wholly in or wholly out), memory bounded by the page size, and
	 * one plan instead of one per page (paging with LIMIT sorted the whole rest of a freshly filled table
	 * for every page until autovacuum had analysed it).
	 */
	async *read(stream: string, window?: TimeWindow): AsyncIterable<unknown[]> {
		checkStreamName(stream);
		const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.table]);
		if (!exists.rows[0]?.t) return;
		const params: unknown[] = [stream];
		let filter = '';
		if (window?.from) {
			params.push(window.from);
			filter += ` AND at >= $${params.length}`;
		}
		if (window?.to) {
			params.push(window.to);
			filter += ` AND at < $${params.length}`;
		}
		const client = await this.pool.connect();
		let open = false;
		try {
			await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
			open = true;
			// jsonb as text, parsed here with JSON.parse
			await client.query(
				`DECLARE audit_read NO SCROLL CURSOR FOR SELECT record::text AS record FROM ${this.table} WHERE stream = $1${filter} ORDER BY sequence`,
				params,
			);
			for (;;) {
				const page = await client.query<{ record: string }>(`FETCH ${PAGE} FROM audit_read`);
				if (page.rows.length === 0) break;
				yield page.rows.map((r) => JSON.parse(r.record) as unknown);
			}
			await client.query('COMMIT');
			open = false;
		} finally {
			if (open) await client.query('ROLLBACK').catch(() => undefined);
			client.release();
		}
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await this.pool.end();
	}
}
