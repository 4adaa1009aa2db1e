/**
 * What AI Classify itself holds while it works through a large run (a script, not a test: it prints figures).
 *
 * Runs AI Classify (version 1, as the overhead scenario of `npm run bench`) over N tickets inside n8n's own engine
 * (n8n-core's WorkflowExecute, test/unit/helpers/engine.ts) in this process, against the provider server in a
 * process of its own (0 ms latency), and samples the live JavaScript heap: every 200 ms a full garbage collection
 * (`--expose-gc`), then `heapUsed`, so the figures are what is reachable, not garbage V8 has not collected yet.
 *
 *   before   live heap with n8n loaded and the N input items built, before the run
 *   peak     the largest live heap sampled while the node ran
 *   after    live heap when the run is over, its output items (N items with their results) still held
 *
 * Run from the repository root:
 *   node --expose-gc -r ./scripts/register-ts.js bench/node-memory.ts [--items=10000] [--version=1]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import type { AiClassify as AiClassifyType } from '../nodes/AiClassify/AiClassify.node';
import { providerCredentials, runInEngine } from '../test/unit/helpers/engine';
import { CATEGORIES, tickets } from './data';

// by its full name: `AiClassify.node` alone finds the node's .json codex file first
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AiClassify } = require(join(__dirname, '..', 'nodes', 'AiClassify', 'AiClassify.node.ts')) as { AiClassify: typeof AiClassifyType };

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ITEMS = Number(arg('items') ?? 10_000);
const VERSION = Number(arg('version') ?? 1);
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function liveHeap(): number {
	(globalThis as { gc?: () => void }).gc!();
	return process.memoryUsage().heapUsed;
}

async function providerServer(): Promise<{ url: string; stop: () => void }> {
	const child = spawn(process.execPath, ['-r', join(process.cwd(), 'scripts', 'register-ts.js'), join(process.cwd(), 'test', 'provider-server', 'cli.ts'), '--latency-ms', '0'], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const url = await new Promise<string>((resolve, reject) => {
		let out = '';
		child.stdout.on('data', (d) => {
			out += d;
			const m = /PROVIDER_SERVER_URL=(\S+)/.exec(out);
			if (m) resolve(m[1]);
		});
		child.on('exit', (code) => reject(new Error(`provider server exited with ${code}`)));
	});
	return { url, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
	if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc');
	const server = await providerServer();
	try {
		const base = server.url.replace(/\/$/, '');
		const credentials = providerCredentials({ openaiBaseUrl: `${base}/v1`, anthropicBaseUrl: base });
		const items = tickets(ITEMS).map((t) => ({ ...t }));
		const parameters = {
			provider: 'openai',
			model: 'gpt-4.1-mini',
			text: '={{ $json.text }}',
			categories: { category: CATEGORIES.map((c) => ({ name: c.name, description: c.description })) },
			options: {},
		};
		// a warm-up run of 10 items: modules loaded, SDK client code compiled
		await runInEngine({ node: new AiClassify(), typeVersion: VERSION, parameters, items: items.slice(0, 10), credentials });
		const before = liveHeap();
		let peak = before;
		let sampling = true;
		const sampler = (async () => {
			while (sampling) {
				await new Promise((r) => setTimeout(r, 200));
				if (sampling) peak = Math.max(peak, liveHeap());
			}
		})();
		const started = Date.now();
		const run = await runInEngine({ node: new AiClassify(), typeVersion: VERSION, parameters, items, credentials });
		const seconds = (Date.now() - started) / 1000;
		sampling = false;
		await sampler;
		const after = liveHeap();
		const out = run.outputs.flat().length;
		const figures = {
			items: ITEMS,
			version: VERSION,
			out,
			seconds,
			beforeMb: mb(before),
			peakMb: mb(peak),
			afterMb: mb(after),
			peakGrowthMb: mb(peak - before),
			heldAfterMb: mb(after - before),
			perItemDuringKb: Math.round(((peak - before) / ITEMS / 1024) * 10) / 10,
			perItemAfterKb: Math.round(((after - before) / ITEMS / 1024) * 10) / 10,
			peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
		};
		console.log(JSON.stringify(figures));
		if (out !== ITEMS) process.exitCode = 1;
	} finally {
		server.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
