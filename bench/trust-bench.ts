/**
 * Trust-state benchmark (a script, not a test: it prints figures and never fails on them).
 *
 * With 1,000,000 records in one stream, the time of Confidence Gate's once-per-run read of the trust state in
 * Earned mode: open the store, read the stream's trust summary, decide the changes (nodes/ConfidenceGate/
 * trust.ts), close. For the file sink (the default) and PostgreSQL. Target: < 200 ms.
 *
 *   kept      the summary the sink keeps on append is current (the normal case)
 *   catch-up  1,000 records were appended since the kept summary (e.g. by an older version of the package)
 *   rebuild   no kept summary at all: every record is folded once (a first read after an upgrade)
 *
 * Records: realistic decision records (AI Classify results, 20 labels, 60 days), 30 % of them reviewed
 * (5 % of those edited), a tenth of the reviewed ones sampled audits, and a trust change every 50,000 records.
 * Run from the repository root: node -r ./scripts/register-ts.js bench/trust-bench.ts [--records=1000000]
 * PostgreSQL: 127.0.0.1:5432 db `test` (PGUSER, default postgres). Writes bench/out/trust.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';

import { buildDraft, buildTrustChangeDraft, type AuditDraft } from '../nodes/AuditLog/record';
import { FileSink } from '../nodes/AuditLog/sinks/fileSink';
import { PgSink, poolConfig, trustTableName, type PgConnection } from '../nodes/AuditLog/sinks/pgSink';
import { type AuditSink } from '../nodes/AuditLog/sinks/sink';
import { summaryPathOf } from '../nodes/AuditLog/trust/fileSummary';
import { trustChanges } from '../nodes/ConfidenceGate/trust';
import { withAiResult } from '../shared/contract';
import { sha256 } from '../shared/hash';

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};
const RECORDS = Number(/--records=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 1_000_000);
const CHUNK = 10_000;
const SETTINGS = { target: 0.9, minReviewed: 200, windowDays: 30, auditWindow: 20 };
const LABELS = Array.from({ length: 20 }, (_, i) => `label${i}`);
const START = Date.parse('2026-10-05T00:00:00Z');
const SPAN = 60 * 86_400_000;

/** One built draft per label and kind, cloned per record with its own ids, time and review (buildDraft's checks are slow). */
const templates = new Map<string, AuditDraft>();
function template(label: string, reviewed: boolean): AuditDraft {
	const key = `${label}/${reviewed}`;
	let found = templates.get(key);
	if (!found) {
		const json = withAiResult({ subject: 'Ticket', text: 'My invoice was charged twice, please refund.' }, 'classify', {
			decisionId: 'd',
			step: 'classify',
			answer: label,
			confidence: 0.95,
			confidenceMethod: 'logprobs',
			reason: 'The customer mentions a double charge.',
			evidence: ['charged twice'],
			needsReview: false,
			provider: 'openai',
			model: 'gpt-4o-mini',
			responseId: 'resp',
			usage: { inputTokens: 180, outputTokens: 24, cachedInputTokens: 128, cacheWriteTokens: 0, requests: 1 },
			costUsd: 0.000041,
			attempts: 1,
			latencyMs: 350,
			promptHash: 'a'.repeat(64),
			at: new Date(START).toISOString(),
		});
		json.gate = { band: reviewed ? 'review' : 'auto', confidence: 0.95, high: 0.85, low: 0.4, sampled: false, mode: 'earned', source: 'ai.classify', label, reason: 'r' };
		if (reviewed) json.review = { decision: 'approved', reviewer: 'ops@example.com', comment: null, edits: null, decidedAt: null, waitedMs: 60_000 };
		found = buildDraft(json, { workflowId: 'bench', executionId: 'e', nodeName: 'Audit Log', itemIndex: 0 });
		templates.set(key, found);
	}
	return found;
}

function draft(i: number): AuditDraft {
	const label = LABELS[i % LABELS.length];
	const at = new Date(START + Math.floor((i / RECORDS) * SPAN)).toISOString();
	if (i > 0 && i % 50_000 === 0) {
		return buildTrustChangeDraft(
			{ label, from: 'review', to: 'auto', reason: 'bench', reviewed: 200, agreed: 196, target: 0.9 },
			{ workflowId: 'bench', executionId: `e${i}`, nodeName: 'Gate', now: new Date(at) },
		);
	}
	const round = Math.floor(i / LABELS.length);
	const reviewed = round % 10 < 3;
	const base = template(label, reviewed);
	const edited = reviewed && round % 100 === 2;
	return {
		...base,
		recordId: randomUUID(),
		executionId: `e${Math.floor(i / 100)}`,
		itemIndex: i % 100,
		at,
		decisionId: `d-${i}`,
		decidedAt: at,
		responseId: `resp_${i}`,
		inputHash: sha256(`input ${i}`),
		gate: { ...base.gate!, sampled: reviewed && round % 100 < 3 },
		review: reviewed
			? { ...base.review!, decision: edited ? 'edited' : 'approved', edits: edited ? { 'ai.classify.answer': { from: label, to: 'other' } } : null, decidedAt: at }
			: null,
		steps: base.steps!.map((step) => ({ ...step, decisionId: `d-${i}` })),
	};
}

async function fill(sink: AuditSink, stream: string, from: number, to: number): Promise<number> {
	const started = process.hrtime.bigint();
	for (let i = from; i < to; i += CHUNK) {
		const drafts: AuditDraft[] = [];
		for (let j = i; j < Math.min(to, i + CHUNK); j++) drafts.push(draft(j));
		await sink.append(stream, drafts);
		if ((i / CHUNK) % 10 === 0) process.stdout.write(`\r  ${stream}: ${i + drafts.length} records`);
	}
	process.stdout.write('\n');
	return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The gate's read: a sink as the gate opens it, the summary, the changes, close. Milliseconds. */
async function gateRead(open: () => AuditSink, stream: string): Promise<{ ms: number; labels: number; throughSequence: number }> {
	const started = process.hrtime.bigint();
	const sink = open();
	try {
		const summary = await sink.trustSummary!(stream);
		trustChanges(summary, SETTINGS, new Date(START + SPAN));
		return { ms: Number(process.hrtime.bigint() - started) / 1e6, labels: Object.keys(summary.labels).length, throughSequence: summary.throughSequence };
	} finally {
		await sink.close();
	}
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function repeated(open: () => AuditSink, stream: string, times = 15) {
	const runs = [];
	for (let i = 0; i < times; i++) runs.push(await gateRead(open, stream));
	const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
	return { medianMs: round(ms[Math.floor(ms.length / 2)]), maxMs: round(ms[ms.length - 1]), minMs: round(ms[0]), runs: times, throughSequence: runs[0].throughSequence, labels: runs[0].labels };
}

/**
 * PostgreSQL gets the very records the file sink chained (same ids, sequences and hashes), loaded server-side
 * in chunks of 10,000 (jsonb_array_elements): appending a million records one batch at a time through the sink
 * takes many minutes on this shared machine, and the read measured here does not depend on how rows arrived.
 */
async function loadIntoPg(admin: Pool, logPath: string, table: string): Promise<number> {
	const started = process.hrtime.bigint();
	let loaded = 0;
	let lines: string[] = [];
	const flush = async () => {
		if (!lines.length) return;
		await admin.query(
			`INSERT INTO "${table}" (stream, sequence, record_id, workflow_id, execution_id, node_name, item_index, at, prev_hash, hash, record)
			 SELECT r->>'stream', (r->>'sequence')::bigint, r->>'recordId', r->>'workflowId', r->>'executionId', r->>'nodeName',
			        (r->>'itemIndex')::int, (r->>'at')::timestamptz, r->>'prevHash', r->>'hash', r
			 FROM jsonb_array_elements($1::jsonb) r`,
			[`[${lines.join(',')}]`],
		);
		loaded += lines.length;
		lines = [];
		if ((loaded / CHUNK) % 10 === 0) process.stdout.write(`\r  postgres: ${loaded} records`);
	};
	// line by line: a million records are more than one string may hold
	for await (const line of createInterface({ input: createReadStream(logPath, 'utf8'), crlfDelay: Infinity })) {
		if (!line) continue;
		lines.push(line);
		if (lines.length >= CHUNK) await flush();
	}
	await flush();
	process.stdout.write('\n');
	return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
	const figures: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), records: RECORDS };
	const dir = await fs.mkdtemp(join(tmpdir(), 'trust-bench-'));
	const stream = 'trust';
	const table = `trust_bench_${randomBytes(4).toString('hex')}`;
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	try {
		const path = join(dir, '{stream}.jsonl');
		const file = () => new FileSink(path);
		figures.fileFillSeconds = Math.round(await fill(file(), stream, 0, RECORDS - 1000));
		const olderSummary = await fs.readFile(summaryPathOf(file().pathOf(stream)), 'utf8');
		await fill(file(), stream, RECORDS - 1000, RECORDS);
		figures.fileBytes = (await fs.stat(file().pathOf(stream))).size;
		const kept = await repeated(file, stream);
		// catch-up: the summary as it was 1,000 records ago (restored before each read)
		const catchUp = [];
		for (let i = 0; i < 5; i++) {
			await fs.writeFile(summaryPathOf(file().pathOf(stream)), olderSummary);
			catchUp.push((await gateRead(file, stream)).ms);
		}
		await fs.rm(summaryPathOf(file().pathOf(stream)));
		const rebuild = await gateRead(file, stream);
		figures.file = { kept, catchUp1000MedianMs: round(catchUp.sort((a, b) => a - b)[2]), rebuildMs: round(rebuild.ms) };
		console.log(`file: ${JSON.stringify(figures.file)}`);

		const creator = pg(table);
		await creator.ensureTable();
		await creator.close();
		figures.postgresLoadSeconds = Math.round(await loadIntoPg(admin, file().pathOf(stream), table));
		await admin.query(`ANALYZE "${table}"`);
		// the first read finds no kept row: it folds every record and keeps the result
		const pgRebuild = await gateRead(() => pg(table), stream);
		const pgKept = await repeated(() => pg(table), stream);
		const older = (JSON.parse(olderSummary) as { summary: { throughSequence: number } }).summary;
		const pgCatchUp = [];
		for (let i = 0; i < 5; i++) {
			await admin.query(`UPDATE "${trustTableName(table)}" SET through_sequence = $2, summary = $3 WHERE stream = $1`, [stream, older.throughSequence, JSON.stringify(older)]);
			pgCatchUp.push((await gateRead(() => pg(table), stream)).ms);
		}
		figures.postgres = { kept: pgKept, catchUp1000MedianMs: round(pgCatchUp.sort((a, b) => a - b)[2]), rebuildMs: round(pgRebuild.ms) };
		console.log(`postgres: ${JSON.stringify(figures.postgres)}`);
	} finally {
		await fs.rm(dir, { recursive: true, force: true });
		await admin.query(`DROP TABLE IF EXISTS "${table}"`);
		await admin.query(`DROP TABLE IF EXISTS "${trustTableName(table)}"`);
		await admin.end();
	}
	figures.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
	const target = join(process.cwd(), 'bench', 'out');
	await fs.mkdir(target, { recursive: true });
	await fs.writeFile(join(target, 'trust.json'), JSON.stringify(figures, null, 2) + '\n');
	console.log(JSON.stringify(figures, null, 2));
}

const pg = (table: string) => new PgSink(connection, table);

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
