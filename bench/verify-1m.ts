/**
 * Audit Verify of 1,000,000 records (a script, not a test: it prints figures and never fails on them).
 *
 * Appends the records through the file sink (the real append path: batches of 10,000, as node runs of that
 * many items would), then verifies the stream in a separate process, as the Audit Log node's Verify does
 * (`verifyStream`), and reports that process's wall time, CPU time and peak resident memory (its VmHWM,
 * from process.resourceUsage().maxRSS): memory must stay bounded (a page of records at a time), not grow
 * with the stream. Target: under 60 s.
 *
 * Run from the repository root:
 *   node -r ./scripts/register-ts.js bench/verify-1m.ts [--records=1000000] [--runs=3] [--dir=/tmp] [--keep]
 * The log is about 1.5 GB; it is written under --dir (default the system's temp folder) and deleted at the end
 * unless --keep (--reuse=<that folder> verifies it again without appending). Writes bench/out/verify-1m.json.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { verifyStream } from '../nodes/AuditLog/chain';
import { FileSink } from '../nodes/AuditLog/sinks/fileSink';
import { auditDrafts } from './audit-records';

const arg = (name: string) => new RegExp(`^--${name}=(.*)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1];
const RECORDS = Number(arg('records') ?? 1_000_000);
const RUNS = Number(arg('runs') ?? 3);
const BATCH = 10_000;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const load = () => loadavg().map((l) => round(l, 2));

/** Child mode: verify one stream and print the figures as JSON. */
async function verifyOnly(pattern: string): Promise<void> {
	const sink = new FileSink(pattern);
	const rssBeforeMb = Math.round(process.memoryUsage().rss / 2 ** 20);
	const started = process.hrtime.bigint();
	const cpu = process.cpuUsage();
	// heap in use, sampled: what the verifier holds, apart from the process's own start-up
	let heapPeak = 0;
	const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
	const result = await verifyStream(sink, 'verify');
	clearInterval(sampler);
	const used = process.cpuUsage(cpu);
	process.stdout.write(
		JSON.stringify({
			valid: result.valid,
			records: result.records,
			seconds: round(Number(process.hrtime.bigint() - started) / 1e9),
			cpuSeconds: round((used.user + used.system) / 1e6),
			rssBeforeMb,
			peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
			peakHeapUsedMb: Math.round(heapPeak / 2 ** 20),
			loadAverageAtEnd: load(),
		}) + '\n',
	);
}

function runChild(pattern: string): Promise<Record<string, unknown>> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['-r', join(process.cwd(), 'scripts', 'register-ts.js'), __filename, `--verify-only=${pattern}`], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('error', reject);
		child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`verify exited with ${code}`))));
	});
}

async function main(): Promise<void> {
	const only = arg('verify-only');
	if (only) return await verifyOnly(only);

	// --reuse=<folder kept by --keep>: verify that log again without appending it anew
	const reuse = arg('reuse');
	const dir = reuse ?? (await fs.mkdtemp(join(arg('dir') ?? tmpdir(), 'verify-1m-')));
	const pattern = join(dir, '{stream}.jsonl');
	const figures: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: cpus().length, records: RECORDS };
	try {
		const sink = new FileSink(pattern);
		const t0 = Date.now();
		for (let from = 0; !reuse && from < RECORDS; from += BATCH) {
			await sink.append('verify', auditDrafts(from, Math.min(BATCH, RECORDS - from), `run-${from / BATCH}`));
			if ((from / BATCH) % 10 === 9) console.log(`appended ${from + BATCH} records (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
		}
		const { size } = await fs.stat(sink.pathOf('verify'));
		figures.fileMb = Math.round(size / 2 ** 20);
		if (!reuse) {
			figures.appendSeconds = round((Date.now() - t0) / 1000, 1);
			console.log(`${RECORDS} records appended in ${figures.appendSeconds} s: ${figures.fileMb} MB`);
		}

		const runs: Record<string, unknown>[] = [];
		for (let r = 0; r < RUNS; r++) {
			const loadAtStart = load();
			const run = { loadAverageAtStart: loadAtStart, ...(await runChild(pattern)) };
			console.log(`verify ${r + 1}: ${JSON.stringify(run)}`);
			runs.push(run);
		}
		figures.runs = runs;
		const median = (key: string) => runs.map((x) => x[key] as number).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
		figures.median = { seconds: median('seconds'), cpuSeconds: median('cpuSeconds'), peakRssMb: median('peakRssMb') };
		console.log(`median of ${runs.length}: ${JSON.stringify(figures.median)}`);
	} finally {
		if (!process.argv.includes('--keep') && !reuse) await fs.rm(dir, { recursive: true, force: true });
		else console.log(`kept ${dir}`);
	}
	figures.targetSeconds = 60;
	const target = join(process.cwd(), 'bench', 'out');
	await fs.mkdir(target, { recursive: true });
	await fs.writeFile(join(target, 'verify-1m.json'), JSON.stringify(figures, null, 2) + '\n');
	console.log(`written ${join(target, 'verify-1m.json')}`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
