/**
 * The PostgreSQL sink against the machine's real PostgreSQL (127.0.0.1:5432, db `test`, trust auth):
 * four appenders with their own pools write 1,000 records each in small interleaved batches, as four n8n
 * workers would, and the stream stays gap-free and valid; tampering with a row is named by Verify.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

import { sealRecords, verifyChain } from '../../nodes/AuditLog/chain';
import { verifyStream } from '../../nodes/AuditLog/chain';
import { reportStream } from '../../nodes/AuditLog/report/report';
import { PgSink, poolConfig, quoteTableName, testPgConnection, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import type { AuditRecord } from '../../nodes/AuditLog/record';
import { batchSizes, drafts } from './audit-helpers';

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};

const table = `audit_test_${randomBytes(4).toString('hex')}`;
const admin = new Pool({ ...poolConfig(connection), max: 1 });

afterAll(async () => {
	await admin.query(`DROP TABLE IF EXISTS ${table}`);
	await admin.end();
});

async function readAll(stream: string): Promise<unknown[]> {
	const sink = new PgSink(connection, table);
	try {
		const out: unknown[] = [];
		for await (const page of sink.read(stream)) out.push(...page);
		return out;
	} finally {
		await sink.close();
	}
}

async function verify(stream: string) {
	const sink = new PgSink(connection, table);
	try {
		return await verifyStream(sink, stream);
	} finally {
		await sink.close();
	}
}

describe('PostgreSQL sink', () => {
	jest.setTimeout(120_000);

	it('the credential test connects, and fails clearly on a wrong database', async () => {
		await expect(testPgConnection(connection)).resolves.toBeUndefined();
		await expect(testPgConnection({ ...connection, database: 'no_such_db_governed_ai' })).rejects.toThrow(/no_such_db_governed_ai/);
	});

	it('refuses table names that are not plain identifiers', () => {
		expect(quoteTableName('audit.events')).toBe('"audit"."events"');
		expect(() => quoteTableName('x; DROP TABLE y')).toThrow(/not allowed/);
	});

	it('four concurrent appenders × 1,000 records: sequence 1..4000, no gaps, valid chain; UPDATE and DELETE are named', async () => {
		const stream = 'concurrent';
		const writers = [0, 1, 2, 3].map(async (w) => {
			// separate pools, as separate n8n workers have
			const sink = new PgSink(connection, table);
			const all = drafts(1000, `w${w}`);
			const mine: AuditRecord[] = [];
			try {
				let at = 0;
				for (const size of batchSizes(1000, 20, w + 1)) {
					mine.push(...(await sink.append(stream, all.slice(at, at + size))));
					at += size;
				}
			} finally {
				await sink.close();
			}
			return mine;
		});
		const returned = (await Promise.all(writers)).flat();
		expect(returned).toHaveLength(4000);

		const stored = (await readAll(stream)) as AuditRecord[];
		expect(stored.map((r) => r.sequence)).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
		// each writer got back exactly what is stored, and the writers really interleaved
		const byId = new Map(stored.map((r) => [r.recordId, r]));
		for (const r of returned) expect(byId.get(r.recordId)?.hash).toBe(r.hash);
		const switches = stored.filter((r, i) => i > 0 && r.executionId !== stored[i - 1].executionId).length;
		expect(switches).toBeGreaterThan(3);
		expect(await verify(stream)).toMatchObject({ valid: true, records: 4000, firstBad: null, lastSequence: 4000 });

		// an UPDATE of one row's record
		const victim = stored[1233];
		await admin.query(
			`UPDATE ${table} SET record = jsonb_set(record, '{answer}', '"refund"') WHERE stream = $1 AND sequence = 1234`,
			[stream],
		);
		expect((await verify(stream)).firstBad).toMatchObject({ problem: 'edited', sequence: 1234, recordId: victim.recordId });

		// put it back: the chain is valid again (the check above really depended on the edit)
		await admin.query(`UPDATE ${table} SET record = $2::jsonb WHERE stream = $1 AND sequence = 1234`, [
			stream,
			JSON.stringify(victim),
		]);
		expect((await verify(stream)).valid).toBe(true);

		// a DELETE of a row
		const deleted = stored[2999];
		await admin.query(`DELETE FROM ${table} WHERE stream = $1 AND sequence = 3000`, [stream]);
		const afterDelete = await verify(stream);
		expect(afterDelete.valid).toBe(false);
		expect(afterDelete.firstBad).toMatchObject({ problem: 'deleted', sequence: 3000, recordId: deleted.recordId });
	});

	it('a row inserted with a forged chain link is named', async () => {
		const stream = 'forged';
		const sink = new PgSink(connection, table);
		try {
			await sink.append(stream, drafts(5, 'f'));
		} finally {
			await sink.close();
		}
		const [forged] = sealRecords(stream, { sequence: 5, hash: 'e'.repeat(64), recordId: null }, drafts(1, 'x'));
		await admin.query(
			`INSERT INTO ${table} (stream, sequence, record_id, at, prev_hash, hash, record) VALUES ($1, 6, $2, now(), $3, $4, $5)`,
			[stream, forged.recordId, forged.prevHash, forged.hash, JSON.stringify(forged)],
		);
		expect((await verify(stream)).firstBad).toMatchObject({ problem: 'inserted', sequence: 6, recordId: forged.recordId });
	});

	it('streams are independent chains, and report reads a window from the table', async () => {
		const sink = new PgSink(connection, table);
		try {
			await sink.append('a', drafts(3, 'a'));
			const b = await sink.append('b', drafts(2, 'b'));
			expect(b.map((r) => r.sequence)).toEqual([1, 2]);
			const more = await sink.append('a', drafts(1, 'a2'));
			expect(more[0].sequence).toBe(4);
			expect(verifyChain((await readAll('a')) as AuditRecord[]).valid).toBe(true);
			const report = await reportStream(sink, 'a', { from: '2000-01-01T00:00:00Z', to: '2999-01-01T00:00:00Z' });
			expect(report.records).toBe(4);
			const empty = await reportStream(sink, 'a', { from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' });
			expect(empty.records).toBe(0);
		} finally {
			await sink.close();
		}
	});

	it('reading a stream from a table that does not exist yet gives nothing, without creating it', async () => {
		const sink = new PgSink(connection, `${table}_missing`);
		try {
			expect(await verifyStream(sink, 'x')).toMatchObject({ valid: true, records: 0 });
		} finally {
			await sink.close();
		}
		const exists = await admin.query('SELECT to_regclass($1) AS t', [`${table}_missing`]);
		expect(exists.rows[0].t).toBeNull();
	});
});
