/**
 * `npm run bench`: our nodes against n8n's own AI nodes inside the real n8n of the e2e harness, against the
 * local provider server (250 ms latency, 600 requests/minute, 429 + retry-after above it).
 *
 *   triage-1k   1,000 tickets, AI Classify vs Text Classifier (5 categories), at defaults and at an equal
 *               concurrency below the rate limit
 *   extract-500 500 invoice e-mails, AI Extract vs Information Extractor, the same two settings
 *   overhead    10,000 tickets through AI Classify at 0 ms latency, no rate limit: items/s, peak memory
 *   audit       bench/audit-bench.ts (Audit Log append rates to file and PostgreSQL, verify 100k)
 *
 * Writes bench/RESULTS.md and bench/out/results.json and prints a summary. Figures are printed, never
 * asserted: a missed target is reported with by how much.
 *
 * Flags: --quick (small N: a smoke run), --only=triage,extract,overhead,audit,
 *        --report-from=bench/out/results.json (rewrite RESULTS.md from recorded figures, run nothing)
 * Run from the repository root:
 *   npx tsc -p bench/tsconfig.json && node -r ./scripts/register-ts.js bench/run.ts [--quick]
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { n8nInstall, REPO_ROOT, startN8n, type N8n } from '../test/e2e/harness';
import { startProviderServer, type ProviderServer } from '../test/provider-server';
import { invoices, tickets } from './data';
import { idealSeconds, measure, type RunFigures, type RunSettings } from './measure';
import { CREDENTIALS, type Side } from './workflows';
import { writeResults, type AuditFigures, type BenchInfo, type OverheadFigures } from './report';

const execFileAsync = promisify(execFile);

const LATENCY_MS = 250;
const RPM = 600;
/** Below the rate limit: 2 in flight × 4 answers/s each = 480 requests/minute < 600. */
export const EQUAL_CONCURRENCY = 2;

interface Plan {
	triage: number;
	extract: number;
	overhead: number;
	scenarios: Set<string>;
	quick: boolean;
}

function plan(argv: string[]): Plan {
	const quick = argv.includes('--quick');
	const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
	const all = ['triage', 'extract', 'overhead', 'audit'];
	const scenarios = new Set(only ? only.split(',').map((s) => s.trim()) : all);
	for (const s of scenarios) if (!all.includes(s)) throw new Error(`unknown scenario "${s}" (known: ${all.join(', ')})`);
	return quick
		? { triage: 100, extract: 50, overhead: 1000, scenarios, quick }
		: { triage: 1000, extract: 500, overhead: 10_000, scenarios, quick };
}

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

function describe(f: RunFigures): string {
	const time = f.nodeSeconds === null ? 'n/a' : `${f.nodeSeconds.toFixed(1)} s`;
	return (
		`${f.side} ${f.setting}: ${f.items} items, node ${time}, ${f.itemsPerSecond.toFixed(2)} items/s, out ${f.itemsOut} (lost ${f.lost}), ` +
		`requests ${f.requests} (429: ${f.rateLimited}), prompt tokens/item ${f.promptTokensPerItem?.toFixed(0) ?? 'n/a'}, ` +
		`peak memory ${f.peakMemoryMb ?? 'n/a'} MB${f.error ? `, ERROR: ${f.error.slice(0, 200)}` : ''}`
	);
}

async function pair(n8n: N8n, server: ProviderServer, scenario: 'triage' | 'extract', records: RunSettings['records']): Promise<RunFigures[]> {
	const sides: Side[] = scenario === 'triage' ? ['aiClassify', 'aiClassifyChatModel', 'textClassifier'] : ['aiExtract', 'informationExtractor'];
	const out: RunFigures[] = [];
	for (const concurrency of [undefined, EQUAL_CONCURRENCY]) {
		for (const side of sides) {
			const figures = await measure(n8n, server, { scenario, side, concurrency, latencyMs: LATENCY_MS, rpm: RPM, records });
			log(describe(figures));
			out.push(figures);
		}
	}
	return out;
}

async function overhead(n8n: N8n, server: ProviderServer, n: number): Promise<OverheadFigures> {
	// Same workflow with 10 items: the memory of a process that has started n8n and run a tiny workflow.
	const baseline = await measure(n8n, server, { scenario: 'overhead', side: 'aiClassify', latencyMs: 0, rpm: 0, records: tickets(10) });
	log(`overhead baseline (10 items): ${describe(baseline)}`);
	const run = await measure(n8n, server, { scenario: 'overhead', side: 'aiClassify', latencyMs: 0, rpm: 0, records: tickets(n) });
	log(`overhead: ${describe(run)}`);
	// The same items through n8n's Edit Fields node instead: what n8n's own handling of a run that size costs
	// (running, saving, printing N items), which no node can save.
	const noopBaseline = await measure(n8n, server, { scenario: 'overhead', side: 'noop', latencyMs: 0, rpm: 0, records: tickets(10) });
	log(`overhead, Edit Fields (10 items): ${describe(noopBaseline)}`);
	const noop = await measure(n8n, server, { scenario: 'overhead', side: 'noop', latencyMs: 0, rpm: 0, records: tickets(n) });
	log(`overhead, Edit Fields: ${describe(noop)}`);
	return { baseline, run, noop: { baseline: noopBaseline, run: noop } };
}

/** bench/audit-bench.ts (the Audit Log helper's script) in its own process; it writes bench/out/audit.json. */
async function audit(): Promise<AuditFigures> {
	const script = path.join(REPO_ROOT, 'bench', 'audit-bench.ts');
	if (!fs.existsSync(script)) return { status: 'missing', note: 'bench/audit-bench.ts is not there yet' };
	const target = path.join(REPO_ROOT, 'bench', 'out', 'audit.json');
	fs.rmSync(target, { force: true });
	const started = Date.now();
	const code = await new Promise<number | null>((resolve) => {
		const child = spawn(process.execPath, ['-r', path.join(REPO_ROOT, 'scripts', 'register-ts.js'), script], {
			cwd: REPO_ROOT,
			stdio: ['ignore', 'inherit', 'inherit'],
		});
		child.on('exit', resolve);
		child.on('error', () => resolve(-1));
	});
	if (code !== 0 || !fs.existsSync(target)) return { status: 'failed', note: `audit-bench exited with code ${code}` };
	return { status: 'ok', seconds: (Date.now() - started) / 1000, figures: JSON.parse(fs.readFileSync(target, 'utf8')) };
}

async function versions(): Promise<BenchInfo['versions']> {
	const install = await n8nInstall();
	const read = (rel: string) => {
		try {
			return JSON.parse(fs.readFileSync(path.join(install.dir, 'app', 'node_modules', rel, 'package.json'), 'utf8')).version as string;
		} catch {
			return 'unknown';
		}
	};
	const { stdout } = await execFileAsync(install.node, ['--version']);
	return {
		n8n: read('n8n'),
		n8nNodesLangchain: read('@n8n/n8n-nodes-langchain'),
		n8nNode: stdout.trim(),
		benchNode: process.version,
		package: JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version,
	};
}

function machine(): BenchInfo['machine'] {
	return {
		nproc: os.cpus().length,
		cpu: os.cpus()[0]?.model ?? 'unknown',
		memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
		loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
		platform: `${os.type()} ${os.release()}`,
	};
}

async function main(): Promise<void> {
	// --report-from=bench/out/results.json: rewrite the report from recorded figures, without running anything
	const from = process.argv.find((a) => a.startsWith('--report-from='))?.slice('--report-from='.length);
	if (from) {
		const recorded = JSON.parse(fs.readFileSync(path.resolve(from), 'utf8'));
		console.log(writeResults({ ...recorded, ideal: idealSeconds }));
		return;
	}
	const p = plan(process.argv.slice(2));
	const startedAt = new Date();
	const info: BenchInfo = {
		startedAt: startedAt.toISOString(),
		quick: p.quick,
		latencyMs: LATENCY_MS,
		rpm: RPM,
		equalConcurrency: EQUAL_CONCURRENCY,
		machine: machine(),
		versions: await versions(),
	};
	log(`plan: ${[...p.scenarios].join(', ')}${p.quick ? ' (quick)' : ''}; triage ${p.triage}, extract ${p.extract}, overhead ${p.overhead}`);

	const runs: RunFigures[] = [];
	let overheadFigures: OverheadFigures | undefined;
	const needsN8n = ['triage', 'extract', 'overhead'].some((s) => p.scenarios.has(s));
	let server: ProviderServer | undefined;
	let n8n: N8n | undefined;
	const interrupted = async () => {
		await n8n?.stop();
		await server?.close();
		process.exit(130);
	};
	process.once('SIGINT', interrupted);
	process.once('SIGTERM', interrupted);
	try {
		if (needsN8n) {
			server = await startProviderServer({ latencyMs: LATENCY_MS, rpmLimit: RPM });
			log(`provider server at ${server.url}; starting n8n (build, pack, install, start)`);
			n8n = await startN8n();
			await n8n.importCredentials([
				{ ...CREDENTIALS.ours, data: { apiKey: 'sk-bench-local', baseUrl: server.openaiBaseUrl } },
				// n8n 2.x's OpenAI credential keeps the base URL in `url`
				{ ...CREDENTIALS.n8n, data: { apiKey: 'sk-bench-local', url: server.openaiBaseUrl } },
			]);
			log(`n8n ready at ${n8n.baseUrl}`);
			if (p.scenarios.has('triage')) runs.push(...(await pair(n8n, server, 'triage', tickets(p.triage))));
			if (p.scenarios.has('extract')) runs.push(...(await pair(n8n, server, 'extract', invoices(p.extract))));
			if (p.scenarios.has('overhead')) overheadFigures = await overhead(n8n, server, p.overhead);
		}
	} finally {
		await n8n?.stop();
		await server?.close();
	}
	// after n8n is gone: the audit figures do not share the CPU with it
	let auditFigures: AuditFigures | undefined;
	if (p.scenarios.has('audit')) {
		log('audit: bench/audit-bench.ts');
		auditFigures = await audit();
	}
	info.finishedAt = new Date().toISOString();
	info.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);

	const summary = writeResults({ info, runs, overhead: overheadFigures, audit: auditFigures, ideal: idealSeconds });
	console.log(`\n${summary}`);
	log(`results written (${p.quick ? 'bench/out/RESULTS-quick.md' : 'bench/RESULTS.md'}, bench/out/) in ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
