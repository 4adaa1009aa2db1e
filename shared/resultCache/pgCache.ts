/**
 * The result cache in a PostgreSQL table (queue mode: every main and worker shares it), through a
 * `governedAiPostgres`-shaped connection. One row per request key: the answer as jsonb, when it was stored and
 * when it expires. A store is an upsert, so runs writing the same key at once leave one row, the last answer.
 * Each run deletes the expired rows once, by the index on `expires_at`.
 *
 * One pool per node run, ended by `close()`: no connection outlives the execution that opened it.
 */
import { Pool } from 'pg';

import { inTransaction, poolConfig, quoteTableName, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { type CacheHit, type CacheOptions, isFresh, type ResultCache, type StoredAnswer } from './types';

export const DEFAULT_CACHE_TABLE = 'governed_ai_result_cache';

export class PgResultCache implements ResultCache {
	private readonly pool: Pool;
	private readonly table: string;
	private readonly plain: string;
	private ready?: Promise<void>;
	private readonly now: () => number;

	constructor(
		connection: PgConnection,
		tableName: string,
		private readonly options: CacheOptions,
	) {
		this.plain = (tableName || DEFAULT_CACHE_TABLE).trim();
		this.table = quoteTableName(this.plain);
		this.pool = new Pool({ ...poolConfig(connection), max: 4 });
		this.pool.on('error', () => undefined);
		this.now = options.now ?? Date.now;
	}

	/** The table (created when missing, one creator at a time) and this run's pruning, once per run. */
	private async prepare(): Promise<void> {
		this.ready ??= (async () => {
			const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.table]);
			if (!exists.rows[0]?.t) {
				await inTransaction(this.pool, async (client) => {
					await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 3)', [this.plain]);
					await client.query(
						`CREATE TABLE IF NOT EXISTS ${this.table} (key text PRIMARY KEY, answer jsonb NOT NULL, stored_at bigint NOT NULL, expires_at bigint NOT NULL)`,
					);
					const index = quoteTableName(`${this.plain.split('.').pop()!.slice(0, 52)}_expires`);
					await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.table} (expires_at)`);
				});
			}
			await this.pool.query(`DELETE FROM ${this.table} WHERE expires_at <= $1`, [this.now()]);
		})();
		try {
			await this.ready;
		} catch (error) {
			this.ready = undefined;
			throw error;
		}
	}

	async get(key: string): Promise<CacheHit | undefined> {
		await this.prepare();
		const found = await this.pool.query<{ answer: StoredAnswer; stored_at: string; expires_at: string }>(
			`SELECT answer, stored_at, expires_at FROM ${this.table} WHERE key = $1`,
			[key],
		);
		const row = found.rows[0];
		if (!row) return undefined;
		const storedAt = Number(row.stored_at);
		if (!isFresh(storedAt, Number(row.expires_at), this.options.ttlMs, this.now())) return undefined;
		return { answer: row.answer, storedAt };
	}

	async put(key: string, answer: StoredAnswer): Promise<void> {
		await this.prepare();
		const now = this.now();
		await this.pool.query(
			`INSERT INTO ${this.table} (key, answer, stored_at, expires_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (key) DO UPDATE SET answer = EXCLUDED.answer, stored_at = EXCLUDED.stored_at, expires_at = EXCLUDED.expires_at`,
			[key, JSON.stringify(answer), now, now + this.options.ttlMs],
		);
	}

	async close(): Promise<void> {
		await this.pool.end().catch(() => undefined);
	}
}
