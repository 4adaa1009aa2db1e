/**
 * Audit Log benchmark (a script, not a test: it prints figures and never fails on them).
 *
 *   append rate to the file sink and to PostgreSQL (records/s), per batch size: a node run appends all
 *   its items in one batch; a batch of 1 is the worst case (one item per execution);
 *   verify time for 100,000 records, read back from the file and from PostgreSQL (median of 3).
 *
 * Targets: append >= 2,000/s to file, >= 1,000/s to PostgreSQL (batching), verify 100k < 5 s.
 * Run: npx tsc bench/audit-bench.ts --outDir .cache/bench --module commonjs --target es2022 \
 *        --esModuleInterop --skipLibCheck --types node && node .cache/bench/bench/audit-bench.js
 * From the repository root. PostgreSQL: 127.0.0.1:5432 db `test` (PGUSER, default postgres); writes bench/out/audit.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';

import { verifyStream } from '../nodes/AuditLog/chain';
import { type AuditDraft } from '../nodes/AuditLog/record';
import { FileSink } from '../nodes/AuditLog/sinks/fileSink';
import { PgSink, poolConfig, type PgConnection } from '../nodes/AuditLog/sinks/pgSink';
import { type AuditSink } from '../nodes/AuditLog/sinks/sink';
import { auditDrafts } from './audit-records';

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};

function makeDrafts(n: number, tag: string): AuditDraft[] {
	return auditDrafts(0, n, tag);
}

async function appendRate(sink: AuditSink, stream: string, source: AuditDraft[], batch: number): Promise<number> {
	// fresh ids: record ids are unique across a table
	const drafts = source.map((d) => ({ ...d, recordId: randomUUID() }));
	const started = process.hrtime.bigint();
	for (let i = 0; i < drafts.length; i += batch) await sink.append(stream, drafts.slice(i, i + batch));
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	return Math.round(drafts.length / seconds);
}

/**
 * Wall time, and this process's CPU time (less sensitive to other work on a shared machine), of three verifies:
 * the run with the median wall time, the CPU times of all three and the load average at the start of each.
 */
async function timeVerify(sink: AuditSink, stream: string) {
	const runs: Array<Awaited<ReturnType<typeof timeVerifyOnce>> & { loadAverage: number[] }> = [];
	for (let i = 0; i < 3; i++) {
		const loadAverage = loadavg().map((l) => Math.round(l * 100) / 100);
		runs.push({ ...(await timeVerifyOnce(sink, stream)), loadAverage });
	}
	const median = [...runs].sort((a, b) => a.seconds - b.seconds)[1];
	return { ...median, cpuSecondsMedian: runs.map((r) => r.cpuSeconds).sort((a, b) => a - b)[1], runs };
}

async function timeVerifyOnce(sink: AuditSink, stream: string) {
	const started = process.hrtime.bigint();
	const cpu = process.cpuUsage();
	const result = await verifyStream(sink, stream);
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	const used = process.cpuUsage(cpu);
	return {
		seconds: Math.round(seconds * 1000) / 1000,
		cpuSeconds: Math.round((used.user + used.system) / 1000) / 1000,
		valid: result.valid,
		records: result.records,
	};
}

async function main(): Promise<void> {
	const figures: Record<string, unknown> = {
		at: new Date().toISOString(),
		node: process.version,
		cpus: cpus().length,
		// the machine's load when the run started: figures from a busy machine are lower bounds
		loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
	};
	const t0 = process.hrtime.bigint();
	const big = makeDrafts(100_000, 'big');
	figures.buildRecordsPerSecond = Math.round(100_000 / (Number(process.hrtime.bigint() - t0) / 1e9));
	console.log(`build records: ${figures.buildRecordsPerSecond}/s`);

	// file
	const dir = await fs.mkdtemp(join(tmpdir(), 'audit-bench-'));
	try {
		const file = new FileSink(join(dir, '{stream}.jsonl'));
		const fileRates: Record<string, number> = {};
		for (const [batch, n] of [
			[1, 2_000],
			[100, 20_000],
			[1000, 20_000],
		] as const) {
			fileRates[`batch${batch}`] = await appendRate(file, `rate-${batch}`, big.slice(0, n), batch);
			console.log(`file append, batch ${batch}: ${fileRates[`batch${batch}`]} records/s`);
		}
		figures.fileAppendPerSecond = fileRates;
		await appendRate(file, 'verify', big, 1000);
		figures.fileVerify100k = await timeVerify(file, 'verify');
		console.log(`file verify 100k: ${JSON.stringify(figures.fileVerify100k)}`);
	} finally {
		await fs.rm(dir, { recursive: true, force: true });
	}

	// PostgreSQL
	const table = `audit_bench_${randomBytes(4).toString('hex')}`;
	const pg = new PgSink(connection, table);
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	try {
		const pgRates: Record<string, number> = {};
		for (const [batch, n] of [
			[1, 1_000],
			[100, 20_000],
			[1000, 20_000],
		] as const) {
			pgRates[`batch${batch}`] = await appendRate(pg, `rate-${batch}`, big.slice(0, n), batch);
			console.log(`postgres append, batch ${batch}: ${pgRates[`batch${batch}`]} records/s`);
		}
		figures.postgresAppendPerSecond = pgRates;
		figures.postgresAppend100kBatch1000PerSecond = await appendRate(pg, 'verify', big, 1000);
		figures.postgresVerify100k = await timeVerify(pg, 'verify');
		console.log(`postgres verify 100k: ${JSON.stringify(figures.postgresVerify100k)}`);
	} finally {
		await pg.close();
		await admin.query(`DROP TABLE IF EXISTS ${table}`);
		await admin.end();
	}

	figures.targets = { fileAppendPerSecond: 2000, postgresAppendPerSecond: 1000, verify100kSeconds: 5 };
	// run from the repository root
	const target = join(process.cwd(), 'bench', 'out');
	await fs.mkdir(target, { recursive: true });
	await fs.writeFile(join(target, 'audit.json'), JSON.stringify(figures, null, 2) + '\n');
	console.log(`written ${join(target, 'audit.json')}`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
