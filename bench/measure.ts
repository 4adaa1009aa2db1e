/**
 * One measured run: import the workflow, `n8n execute` it (the e2e harness), and read the figures from
 * n8n's run data (the node's own executionTime), from the provider server's request log (requests, 429s,
 * prompt tokens) and from /proc (memory of the n8n process that runs the workflow).
 */
import { promises as fs } from 'node:fs';

import { N8nExecutionError, nodeOutputs, type N8n } from '../test/e2e/harness';
import type { ProviderServer } from '../test/provider-server';
import { CATEGORIES, type Invoice, type Ticket } from './data';
import { NODE_UNDER_TEST, type Side, workflow, type WorkflowExtras } from './workflows';

export interface RunSettings {
	scenario: 'triage' | 'extract' | 'overhead' | 'pacing' | 'repeats' | 'cache';
	side: Side;
	/** undefined: every option at its default */
	concurrency?: number;
	latencyMs: number;
	/** 0: no limit */
	rpm: number;
	records: Array<Ticket | Invoice>;
	/** tokens per minute at the provider server (0 or absent: no limit) */
	tpm?: number;
	/** our node's version and Continue On Fail (bench/workflows.ts) */
	extras?: WorkflowExtras;
	/** the setting's name in the figures (default: "defaults" / "concurrency N") */
	label?: string;
}

export interface RunFigures {
	scenario: RunSettings['scenario'];
	side: Side;
	setting: string;
	/** in-flight requests the node allows: its Concurrency / Batch Size (5 by default on both) */
	concurrency: number;
	items: number;
	latencyMs: number;
	rpm: number;
	/** the node's own executionTime in n8n's run data */
	nodeSeconds: number | null;
	/** the whole `n8n execute` (process start, workflow, saving, printing) */
	cliSeconds: number;
	/** items that left the node per second of node time (0 when the run failed) */
	itemsPerSecond: number;
	itemsOut: number;
	/** of itemsOut: on Needs Review */
	review: number;
	/** items in minus items out */
	lost: number;
	/** items whose answer matches the scripted truth (label, or all five extracted fields) */
	correct: number;
	requests: number;
	answered: number;
	rateLimited: number;
	otherErrors: number;
	promptTokens: number;
	promptTokensPerItem: number | null;
	/** AI Classify: each item's answer by the item's id (to compare two runs item by item) */
	answers?: Record<string, unknown>;
	maxInFlight: number;
	/** the n8n process running the workflow: peak resident memory (VmHWM) and its largest sampled RSS, MB */
	peakMemoryMb: number | null;
	/** CPU used while requests were being answered: the n8n process, and the provider server (the bench process) */
	cpuSeconds: { n8n: number; providerServer: number } | null;
	/** resident memory of the n8n process just before the node ran and its sampled peak while it ran, MB */
	nodeMemory: { beforeMb: number; peakMb: number } | null;
	error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid of the `n8n execute --id=<id>` process, by its command line. */
async function findExecutePid(workflowId: string): Promise<number | undefined> {
	for (const entry of await fs.readdir('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const cmdline = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
			if (cmdline.includes('execute') && cmdline.includes(`--id=${workflowId}`)) return Number(entry);
		} catch {
			// gone meanwhile
		}
	}
	return undefined;
}

interface Sample {
	at: number;
	/** CPU seconds of the n8n process so far */
	n8nCpu: number;
	/** CPU seconds of this process (the provider server runs here) so far */
	benchCpu: number;
	rssMb: number;
}

const CLOCK_TICKS = 100;

/** Samples memory (VmHWM, VmRSS) and CPU time of the process running `workflowId` every 100 ms until it exits. */
function processSampler(workflowId: string) {
	let stop = false;
	let peakKb = 0;
	const samples: Sample[] = [];
	const running = (async () => {
		let pid: number | undefined;
		while (!stop && pid === undefined) {
			pid = await findExecutePid(workflowId);
			if (pid === undefined) await sleep(100);
		}
		while (!stop && pid !== undefined) {
			try {
				const [status, stat] = await Promise.all([fs.readFile(`/proc/${pid}/status`, 'utf8'), fs.readFile(`/proc/${pid}/stat`, 'utf8')]);
				const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
				const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
				peakKb = Math.max(peakKb, hwm, rss);
				// fields after the command name: state is field 3, utime 14, stime 15
				const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
				const cpu = process.cpuUsage();
				samples.push({
					at: Date.now(),
					n8nCpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
					benchCpu: (cpu.user + cpu.system) / 1e6,
					rssMb: Math.round(rss / 1024),
				});
			} catch {
				break; // exited
			}
			await sleep(100);
		}
	})();
	return {
		async finish(): Promise<{ peakMemoryMb: number | null; samples: Sample[] }> {
			stop = true;
			await running;
			return { peakMemoryMb: peakKb > 0 ? Math.round(peakKb / 1024) : null, samples };
		},
	};
}

/** CPU seconds each process used between `from` and `to` (nearest samples inside the span). */
function cpuBetween(samples: Sample[], from: number, to: number): { n8n: number; providerServer: number } | null {
	const inside = samples.filter((s) => s.at >= from && s.at <= to);
	if (inside.length < 2) return null;
	const a = inside[0];
	const b = inside[inside.length - 1];
	const share = (to - from) / (b.at - a.at);
	// scaled to the whole span: the samples cover all but the first and last 100 ms
	return { n8n: (b.n8nCpu - a.n8nCpu) * share, providerServer: (b.benchCpu - a.benchCpu) * share };
}

function sameRecord(got: any, expected: Record<string, unknown>): boolean {
	if (!got || typeof got !== 'object') return false;
	return Object.entries(expected).every(([key, value]) => got[key] === value);
}

/** Items out, review, correct answers, per side's output layout. */
function countOutputs(side: Side, outputs: any[][], records: RunSettings['records']) {
	const all = outputs.flat();
	let review = 0;
	let correct = 0;
	switch (side) {
		case 'aiClassify':
		case 'aiClassifyChatModel':
			// one output per category, then Needs Review
			CATEGORIES.forEach((c, i) => (correct += (outputs[i] ?? []).filter((item) => item.expected === c.name).length));
			review = (outputs[CATEGORIES.length] ?? []).length;
			break;
		case 'textClassifier':
			CATEGORIES.forEach((c, i) => (correct += (outputs[i] ?? []).filter((item) => item.expected === c.name).length));
			break;
		case 'aiExtract':
			correct = all.filter((item) => sameRecord(item.ai?.extract?.data, item.expected)).length;
			review = (outputs[1] ?? []).length;
			break;
		case 'noop':
			break;
		case 'informationExtractor': {
			// its output items hold only { output }: compare in input order (it keeps the order)
			const out = outputs[0] ?? [];
			correct = out.filter((item, i) => sameRecord(item.output, (records[i] as Invoice).expected)).length;
			break;
		}
	}
	return { itemsOut: all.length, review, correct };
}

export async function measure(n8n: N8n, server: ProviderServer, settings: RunSettings): Promise<RunFigures> {
	const nodeName = NODE_UNDER_TEST[settings.side];
	const workflowId = await n8n.importWorkflow(workflow(settings.side, settings.records, settings.concurrency, settings.extras));
	server.setOptions({
		latencyMs: settings.latencyMs,
		rpmLimit: settings.rpm > 0 ? settings.rpm : undefined,
		tpmLimit: settings.tpm && settings.tpm > 0 ? settings.tpm : undefined,
	});
	// a fresh rate-limit window, no prompt cache, no requests of the previous run
	server.reset();

	const sampler = processSampler(workflowId);
	const started = Date.now();
	let runData: any;
	let error: string | undefined;
	try {
		runData = (await n8n.execute(workflowId)).data;
	} catch (e) {
		if (!(e instanceof N8nExecutionError)) {
			await sampler.finish();
			throw e;
		}
		runData = e.runData;
		error = e.message;
		if (!runData) {
			// `n8n execute` exits before a very large printed run (10k items) reaches the pipe: read the run
			// n8n saved instead (the CLI shares the database with the server).
			const saved = (await n8n.executions(workflowId)).sort((a, b) => Number(b.id) - Number(a.id))[0];
			runData = saved?.data?.resultData?.runData;
			if (runData) error = saved.status === 'success' ? undefined : `${error.split('\n')[0]} (saved status: ${saved.status})`;
		}
	}
	const cliSeconds = (Date.now() - started) / 1000;
	const { peakMemoryMb, samples } = await sampler.finish();

	const run = runData?.[nodeName]?.[0];
	const nodeSeconds = typeof run?.executionTime === 'number' ? run.executionTime / 1000 : null;
	// memory of the process just before the node started and its peak while the node ran (n8n's own
	// printing and saving of a large run afterwards are not the node's)
	let nodeMemory: RunFigures['nodeMemory'] = null;
	if (typeof run?.startTime === 'number' && nodeSeconds !== null) {
		const end = run.startTime + run.executionTime;
		const before = samples.filter((x) => x.at <= run.startTime).pop() ?? samples[0];
		const during = samples.filter((x) => x.at >= run.startTime && x.at <= end + 100);
		if (before && during.length > 0) nodeMemory = { beforeMb: before.rssMb, peakMb: Math.max(...during.map((x) => x.rssMb)) };
	}
	let counts = { itemsOut: 0, review: 0, correct: 0 };
	let answers: Record<string, unknown> | undefined;
	if (run?.data?.main) {
		const outputs = nodeOutputs(runData, nodeName);
		counts = countOutputs(settings.side, outputs, settings.records);
		if (settings.side === 'aiClassify') answers = Object.fromEntries(outputs.flat().map((item: any) => [String(item.id), item.ai?.classify?.answer]));
	}
	else if (!error) error = `node "${nodeName}" produced no output`;

	const chat = server.requests.filter((r) => r.path === '/v1/chat/completions');
	const answered = chat.filter((r) => r.status === 200);
	const promptTokens = answered.reduce((sum, r) => sum + r.promptTokens, 0);
	// the span in which the provider was busy with this run: first request in to last answer out
	const cpu =
		chat.length > 0 ? cpuBetween(samples, chat[0].receivedAt, Math.max(...chat.map((r) => r.respondedAt ?? r.receivedAt))) : null;
	const items = settings.records.length;
	return {
		scenario: settings.scenario,
		side: settings.side,
		setting: settings.label ?? (settings.concurrency === undefined ? 'defaults' : `concurrency ${settings.concurrency}`),
		concurrency: settings.concurrency ?? 5,
		items,
		latencyMs: settings.latencyMs,
		rpm: settings.rpm,
		nodeSeconds,
		cliSeconds,
		itemsPerSecond: nodeSeconds ? counts.itemsOut / nodeSeconds : 0,
		...counts,
		lost: items - counts.itemsOut,
		requests: chat.length,
		answered: answered.length,
		rateLimited: chat.filter((r) => r.status === 429).length,
		otherErrors: chat.filter((r) => r.status !== undefined && r.status !== 200 && r.status !== 429).length,
		promptTokens,
		// per item that got an answer: what one classification / extraction costs in prompt
		promptTokensPerItem: answered.length > 0 ? promptTokens / Math.max(1, counts.itemsOut || answered.length) : null,
		...(answers ? { answers } : {}),
		maxInFlight: server.maxInFlight,
		peakMemoryMb,
		cpuSeconds: cpu,
		nodeMemory,
		error,
	};
}

/**
 * The fastest any client could finish `n` one-request items at `concurrency` in flight, `latencyMs` each,
 * under a sliding 60 s window of `rpm` requests that starts empty (request k may start only 60 s after
 * request k - rpm): the ideal the measured time is compared with.
 */
export function idealSeconds(n: number, concurrency: number, latencyMs: number, rpm: number): number {
	const slots = Array<number>(concurrency).fill(0);
	const starts: number[] = [];
	let end = 0;
	for (let k = 0; k < n; k++) {
		let slot = 0;
		for (let s = 1; s < slots.length; s++) if (slots[s] < slots[slot]) slot = s;
		const start = Math.max(slots[slot], rpm > 0 && k >= rpm ? starts[k - rpm] + 60_000 : 0);
		starts.push(start);
		slots[slot] = start + latencyMs;
		end = Math.max(end, slots[slot]);
	}
	return end / 1000;
}
