/**
 * The PostgreSQL review store (queue mode: several mains and workers share it), through the
 * `governedAiPostgres` credential the Audit Log uses. Two tables: `<table>` (one row per item, the item as
 * jsonb plus the columns queries need) and `<table>_rounds` (one row per pause, holding its resume link).
 *
 * Every change reads the row `FOR UPDATE` inside a transaction, applies the same rules as the file store
 * (types.ts) and writes it back: two reviewers clicking at the same moment are serialised by the row lock,
 * and the second one sees the first one's decision. `markResumed` is one conditional UPDATE, so only one
 * caller ever moves a round to resumed. A turn at a round's resume (`beginResume`) is a session advisory lock
 * on a connection the store keeps for it: one holder at a time across mains, and PostgreSQL drops it the
 * moment that connection closes, so a killed n8n leaves nothing that a restarted one must wait for.
 */
import { Pool, type PoolClient } from 'pg';

import { inTransaction, poolConfig, quoteTableName, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import {
	applyClaim,
	applyDecision,
	applyRelease,
	compareByDue,
	matchesFilter,
	newStoredItem,
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

export const DEFAULT_REVIEW_TABLE = 'governed_ai_review';

export class PgReviewStore implements ReviewStore {
	private readonly pool: Pool;
	private readonly items: string;
	private readonly rounds: string;
	private readonly plain: string;
	private ready = false;
	private closed = false;
	/** the connection holding this store's turns at resumes (advisory locks), and which rounds it holds */
	private turnClient?: PoolClient;
	private readonly turns = new Set<string>();

	constructor(connection: PgConnection, tableName: string = DEFAULT_REVIEW_TABLE) {
		this.plain = tableName.trim();
		this.items = quoteTableName(this.plain);
		this.rounds = quoteTableName(`${this.plain}_rounds`);
		this.pool = new Pool({ ...poolConfig(connection), max: 4 });
		this.pool.on('error', () => undefined);
	}

	private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
		return await inTransaction(this.pool, work);
	}

	async ensureTables(): Promise<void> {
		if (this.ready) return;
		const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.rounds]);
		if (!exists.rows[0]?.t) {
			await this.transaction(async (client) => {
				await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 1)', [this.plain]);
				await client.query(`CREATE TABLE IF NOT EXISTS ${this.items} (
					id text PRIMARY KEY,
					round_key text NOT NULL,
					inbox text NOT NULL,
					state text NOT NULL,
					due_at timestamptz,
					expires_at timestamptz,
					escalated_at timestamptz,
					item jsonb NOT NULL
				)`);
				const index = `"${this.plain.replace(/\./g, '_').slice(0, 50)}_inbox_state"`;
				await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.items} (inbox, state, due_at)`);
				const byRound = `"${this.plain.replace(/\./g, '_').slice(0, 50)}_round"`;
				await client.query(`CREATE INDEX IF NOT EXISTS ${byRound} ON ${this.items} (round_key)`);
				await client.query(`CREATE TABLE IF NOT EXISTS ${this.rounds} (
					round_key text PRIMARY KEY,
					inbox text NOT NULL,
					resume_url text NOT NULL,
					item_count integer NOT NULL,
					resumed boolean NOT NULL DEFAULT false,
					resuming_until timestamptz
				)`);
			});
		}
		this.ready = true;
	}

	private async write(client: PoolClient, item: StoredItem): Promise<void> {
		await client.query(
			`UPDATE ${this.items} SET state = $2, escalated_at = $3, item = $4 WHERE id = $1`,
			[item.id, item.state, item.escalatedAt, JSON.stringify(item)],
		);
	}

	/** the item's row locked for this transaction, changed by `apply` when it says so */
	private async change<O extends { ok: boolean; item?: StoredItem }>(
		id: string,
		apply: (item: StoredItem) => O,
		missing: O,
	): Promise<O> {
		await this.ensureTables();
		return await this.transaction(async (client) => {
			const row = await client.query<{ item: StoredItem }>(`SELECT item FROM ${this.items} WHERE id = $1 FOR UPDATE`, [id]);
			if (!row.rows[0]) return missing;
			const outcome = apply(row.rows[0].item);
			if (outcome.ok && outcome.item) await this.write(client, outcome.item);
			return outcome;
		});
	}

	async addRound(round: RoundInput, inputs: WaitingItemInput[]): Promise<void> {
		await this.ensureTables();
		await this.transaction(async (client) => {
			const added = await client.query(
				`INSERT INTO ${this.rounds} (round_key, inbox, resume_url, item_count) VALUES ($1, $2, $3, $4) ON CONFLICT (round_key) DO NOTHING`,
				[round.roundKey, round.inbox, round.resumeUrl, inputs.length],
			);
			if (added.rowCount === 0) return;
			for (const input of inputs) {
				const item = newStoredItem(round, input);
				await client.query(
					`INSERT INTO ${this.items} (id, round_key, inbox, state, due_at, expires_at, item) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
					[item.id, item.roundKey, item.inbox, item.state, item.dueAt, item.expiresAt, JSON.stringify(item)],
				);
			}
		});
	}

	async list(filter: ItemFilter): Promise<StoredItem[]> {
		await this.ensureTables();
		const states = filter.states ?? ['waiting'];
		const rows = await this.pool.query<{ item: string }>(
			`SELECT item::text AS item FROM ${this.items} WHERE inbox = $1 AND state = ANY($2) ORDER BY due_at NULLS LAST`,
			[filter.inbox, states],
		);
		const found = rows.rows.map((r) => JSON.parse(r.item) as StoredItem).filter((item) => matchesFilter(item, filter)).sort(compareByDue);
		return filter.limit ? found.slice(0, filter.limit) : found;
	}

	async get(id: string): Promise<StoredItem | undefined> {
		await this.ensureTables();
		const row = await this.pool.query<{ item: StoredItem }>(`SELECT item FROM ${this.items} WHERE id = $1`, [id]);
		return row.rows[0]?.item;
	}

	async claim(id: string, reviewer: string, now: Date, claimMs: number): Promise<ClaimOutcome> {
		return await this.change<ClaimOutcome>(id, (item) => applyClaim(item, reviewer, now, claimMs), { ok: false, reason: 'not_found' });
	}

	async release(id: string, reviewer: string, now: Date): Promise<ClaimOutcome> {
		return await this.change<ClaimOutcome>(id, (item) => applyRelease(item, reviewer, now), { ok: false, reason: 'not_found' });
	}

	async decide(id: string, decision: DecisionInput, now: Date): Promise<DecideOutcome> {
		return await this.change<DecideOutcome>(id, (item) => applyDecision(item, decision, now), { ok: false, reason: 'not_found' });
	}

	async readyRounds(inbox: string): Promise<ReadyRound[]> {
		await this.ensureTables();
		const rows = await this.pool.query<{ round_key: string; resume_url: string; items: StoredItem[] }>(
			`SELECT r.round_key, r.resume_url, json_agg(i.item ORDER BY (i.item->>'itemIndex')::int) AS items
			 FROM ${this.rounds} r JOIN ${this.items} i ON i.round_key = r.round_key
			 WHERE r.inbox = $1 AND NOT r.resumed
			 GROUP BY r.round_key, r.resume_url, r.item_count
			 HAVING count(*) = r.item_count AND bool_and(i.state = 'decided')`,
			[inbox],
		);
		return rows.rows.map((r) => ({ roundKey: r.round_key, resumeUrl: r.resume_url, items: r.items }));
	}

	/**
	 * The advisory lock is the turn: held by a live connection or by nobody, so `leaseMs` is not needed here
	 * (the resume call itself has a time limit). `resuming_until` is only written by a failed try: the time
	 * the next may start.
	 */
	async beginResume(roundKey: string, now: Date, _leaseMs: number): Promise<boolean> {
		await this.ensureTables();
		// session locks are re-entrant: this store's own turn is not taken twice
		if (this.turns.has(roundKey)) return false;
		this.turnClient ??= await this.pool.connect();
		const client = this.turnClient;
		const locked = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', [this.plain, roundKey]);
		if (!locked.rows[0]?.ok) return false;
		this.turns.add(roundKey);
		// read after taking the lock: a turn that ended just before may have resumed the round
		const open = await client.query(
			`SELECT 1 FROM ${this.rounds} WHERE round_key = $1 AND NOT resumed AND (resuming_until IS NULL OR resuming_until <= $2)`,
			[roundKey, now.toISOString()],
		);
		if (open.rowCount === 1) return true;
		await this.unlockTurn(roundKey);
		return false;
	}

	private async unlockTurn(roundKey: string): Promise<void> {
		if (!this.turns.delete(roundKey) || !this.turnClient) return;
		await this.turnClient.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [this.plain, roundKey]);
	}

	async endResume(roundKey: string, retryAt?: Date): Promise<void> {
		if (!this.turns.has(roundKey) || !this.turnClient) return;
		await this.turnClient.query(`UPDATE ${this.rounds} SET resuming_until = $2 WHERE round_key = $1`, [roundKey, retryAt?.toISOString() ?? null]);
		await this.unlockTurn(roundKey);
	}

	async markResumed(roundKey: string): Promise<boolean> {
		await this.ensureTables();
		return await this.transaction(async (client) => {
			const moved = await client.query(`UPDATE ${this.rounds} SET resumed = true WHERE round_key = $1 AND NOT resumed`, [roundKey]);
			if (moved.rowCount === 0) return false;
			await client.query(
				`UPDATE ${this.items} SET state = 'resumed', item = jsonb_set(item, '{state}', '"resumed"') WHERE round_key = $1 AND state = 'decided'`,
				[roundKey],
			);
			return true;
		});
	}

	async expire(inbox: string, now: Date): Promise<StoredItem[]> {
		await this.ensureTables();
		const rows = await this.pool.query<{ item: StoredItem }>(
			`UPDATE ${this.items} SET state = 'expired', item = jsonb_set(item, '{state}', '"expired"')
			 WHERE inbox = $1 AND state = 'waiting' AND expires_at <= $2 RETURNING item`,
			[inbox, now.toISOString()],
		);
		return rows.rows.map((r) => r.item);
	}

	async escalateDue(inbox: string, now: Date): Promise<StoredItem[]> {
		await this.ensureTables();
		const at = now.toISOString();
		const rows = await this.pool.query<{ item: StoredItem }>(
			`UPDATE ${this.items} SET escalated_at = $2, item = jsonb_set(item, '{escalatedAt}', to_jsonb($3::text))
			 WHERE inbox = $1 AND state = 'waiting' AND escalated_at IS NULL AND due_at <= $2 RETURNING item`,
			[inbox, at, at],
		);
		return rows.rows.map((r) => r.item).sort(compareByDue);
	}

	async takeForDigest(inbox: string, now: Date, soonMs: number): Promise<DigestItems> {
		await this.ensureTables();
		const at = now.toISOString();
		// one transaction; each UPDATE re-checks its WHERE on a row another run changed meanwhile, so two runs
		// never both take an item (the same rules as isDueSoon / isFresh)
		return await this.transaction(async (client) => {
			const dueSoon = await client.query<{ item: StoredItem }>(
				`UPDATE ${this.items} SET item = item || jsonb_build_object('dueSoonAnnouncedAt', $2::text)
				 WHERE inbox = $1 AND state = 'waiting' AND escalated_at IS NULL AND (item->>'dueSoonAnnouncedAt') IS NULL
				 AND due_at > $2::timestamptz AND due_at <= $3::timestamptz RETURNING item`,
				[inbox, at, new Date(now.getTime() + soonMs).toISOString()],
			);
			const fresh = await client.query<{ item: StoredItem }>(
				`UPDATE ${this.items} SET item = item || jsonb_build_object('announcedAt', $2::text)
				 WHERE inbox = $1 AND state = 'waiting' AND (item->>'announcedAt') IS NULL RETURNING item`,
				[inbox, at],
			);
			return { fresh: fresh.rows.map((r) => r.item).sort(compareByDue), dueSoon: dueSoon.rows.map((r) => r.item).sort(compareByDue) };
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		// ending the connection releases every turn it still holds
		this.turnClient?.release(true);
		this.turns.clear();
		await this.pool.end();
	}
}
