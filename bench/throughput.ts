/**
 * Throughput at the provider's limit (issue 18), inside the real n8n of the e2e harness against the local
 * provider server:
 *
 *   pacing   1,000 tickets, 250 ms latency, 600 requests/minute and 150,000 tokens/minute (429 + retry-after
 *            above either): AI Classify version 3 (paced by the rate-limit headers) and n8n's Text Classifier
 *            with Continue On Fail (so it delivers what it can), side by side
 *   repeats  1,000 tickets of which 30 % repeat an earlier text: AI Classify version 3 (one request per distinct
 *            text) against version 2 (one per item), 250 ms latency, no rate limit
 *   several  1,000 tickets at the same limits as pacing: AI Classify version 4 with 10 items per request against
 *            1 item per request (prompt tokens per item, node time, the same label item by item)
 *   cache    the same 1,000 tickets through AI Classify version 4 with the Result Cache on (a file of its own):
 *            a first run with the cache empty, then a re-run that finds every answer in it
 *
 * `--several` runs only the last and replaces only its part of the section (between its own markers).
 * Prints the figures, writes bench/out/throughput.json and replaces the "throughput" section of
 * bench/RESULTS.md (between its markers). Figures are printed, never asserted.
 * Run from the repository root: node -r ./scripts/register-ts.js bench/throughput.ts [--quick] [--cache-only]
 * (--cache-only: the cache scenario alone, printed and written to bench/out, RESULTS.md left as it is)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { REPO_ROOT, startN8n, type N8n } from '../test/e2e/harness';
import { readFencedItems, startProviderServer, type ProviderServer } from '../test/provider-server';
import { tickets, type Ticket } from './data';
import { measure, type RunFigures } from './measure';
import { CREDENTIALS } from './workflows';

const LATENCY_MS = 250;
const RPM = 600;
const TPM = 150_000;
const CONCURRENCY = 5;

const log = (message: string) => console.log(`[throughput ${new Date().toISOString().slice(11, 19)}] ${message}`);

/**
 * The fastest a client with `concurrency` in flight could finish `n` requests of `tokensPerRequest` tokens each,
 * `latencyMs` per answer, under sliding 60 s windows of `rpm` requests and `tpm` tokens that start empty.
 */
export function idealSeconds(n: number, concurrency: number, latencyMs: number, rpm: number, tpm: number, tokensPerRequest: number): number {
	const perWindow = Math.max(1, Math.min(rpm > 0 ? rpm : Infinity, tpm > 0 ? Math.floor(tpm / tokensPerRequest) : Infinity));
	const slots = Array<number>(concurrency).fill(0);
	const starts: number[] = [];
	let end = 0;
	for (let k = 0; k < n; k++) {
		let slot = 0;
		for (let s = 1; s < slots.length; s++) if (slots[s] < slots[slot]) slot = s;
		const start = Math.max(slots[slot], Number.isFinite(perWindow) && k >= perWindow ? starts[k - perWindow] + 60_000 : 0);
		starts.push(start);
		slots[slot] = start + latencyMs;
		end = Math.max(end, slots[slot]);
	}
	return end / 1000;
}

/** `n` tickets of which `share` repeat the text of an earlier one, spread through the run (each item keeps its own id). */
export function repeatingTickets(n: number, share: number): Ticket[] {
	const repeats = Math.round(n * share);
	const distinct = tickets(n - repeats);
	const out: Ticket[] = [];
	let next = 0;
	let copies = 0;
	for (let i = 0; i < n; i++) {
		// a repeat wherever the share so far is below the target, of a text already sent
		const due = copies < repeats && (next >= distinct.length || (next > 0 && copies < Math.round((i + 1) * share)));
		if (due) {
			const source = distinct[(copies * 7) % next];
			out.push({ ...source, id: n + copies + 1 });
			copies++;
		} else out.push(distinct[next++]);
	}
	return out;
}

function row(f: RunFigures, ideal: number | null, tokensPerRequest?: number): string {
	const time = f.nodeSeconds === null ? 'n/a' : `${f.nodeSeconds.toFixed(1)} s`;
	const share = f.requests > 0 ? `${((100 * f.rateLimited) / f.requests).toFixed(1)} %` : 'n/a';
	const ofIdeal = ideal && f.nodeSeconds && f.correct === f.items ? `${Math.round((100 * ideal) / f.nodeSeconds)} %` : 'n/a';
	return `| ${f.side === 'aiClassify' ? 'AI Classify' : 'Text Classifier'} | ${f.setting} | ${time} | ${f.itemsOut} / ${f.lost} | ${f.correct} | ${f.requests} | ${f.rateLimited} (${share}) | ${tokensPerRequest?.toFixed(0) ?? 'n/a'} | ${ideal?.toFixed(1) ?? 'n/a'} s | ${ofIdeal} | ${f.peakMemoryMb ?? 'n/a'} MB |`;
}

/** Tokens the provider counted for the answered requests of the last run: prompt and answer. */
function tokensOf(server: ProviderServer): { prompt: number; output: number } {
	const answered = server.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200);
	return { prompt: answered.reduce((s, r) => s + r.promptTokens, 0), output: answered.reduce((s, r) => s + (r.outputTokens ?? 0), 0) };
}

const withoutAnswers = ({ answers: _answers, ...figures }: RunFigures) => figures;

/** 10 items per request against 1, at the pacing scenario's limits; the lines of its part of the section. */
async function several(n8n: N8n, server: ProviderServer, n: number, figures: Record<string, unknown>): Promise<string[]> {
	const records = tickets(n);
	const run = async (itemsPerRequest: number) => {
		const f = await measure(n8n, server, {
			scenario: 'pacing',
			side: 'aiClassify',
			latencyMs: LATENCY_MS,
			rpm: RPM,
			tpm: TPM,
			records,
			extras: { typeVersion: 4, itemsPerRequest },
			label: `version 4, ${itemsPerRequest} item${itemsPerRequest === 1 ? '' : 's'} per request`,
		});
		const tokens = tokensOf(server);
		const single = server.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200 && readFencedItems(r.userText).length === 0).length;
		log(`${itemsPerRequest} per request: ${JSON.stringify(withoutAnswers(f))}`);
		return { f, tokens, single };
	};
	const one = await run(1);
	const ten = await run(10);
	const ids = Object.keys(one.f.answers ?? {});
	const same = ids.filter((id) => JSON.stringify(one.f.answers?.[id]) === JSON.stringify(ten.f.answers?.[id])).length;
	const perItem = (x: { f: RunFigures; tokens: { prompt: number; output: number } }) => ({
		prompt: x.tokens.prompt / Math.max(1, x.f.itemsOut),
		output: x.tokens.output / Math.max(1, x.f.itemsOut),
	});
	const p1 = perItem(one);
	const p10 = perItem(ten);
	const tokenRatio = p10.prompt / p1.prompt;
	const timeRatio = ten.f.nodeSeconds && one.f.nodeSeconds ? ten.f.nodeSeconds / one.f.nodeSeconds : null;
	figures.several = {
		one: withoutAnswers(one.f),
		ten: withoutAnswers(ten.f),
		tokens: { one: one.tokens, ten: ten.tokens },
		sameLabels: same,
		compared: ids.length,
		tokenRatio,
		timeRatio,
	};
	const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
	const severalRow = (x: { f: RunFigures }, p: { prompt: number; output: number }) =>
		`| ${x.f.setting} | ${x.f.nodeSeconds?.toFixed(1) ?? 'n/a'} s | ${x.f.itemsOut} / ${x.f.lost} | ${x.f.correct} | ${x.f.review} | ${x.f.requests} | ${x.f.rateLimited} | ${p.prompt.toFixed(1)} | ${p.output.toFixed(1)} |`;
	return [
		`### ${n} tickets, 10 items per request against 1, at ${RPM} requests/minute and ${TPM.toLocaleString('en')} tokens/minute`,
		'',
		'| AI Classify | node time | out / lost | correct | needs review | requests | 429 | prompt tokens / item | output tokens / item |',
		'|---|---:|---:|---:|---:|---:|---:|---:|---:|',
		severalRow(one, p1),
		severalRow(ten, p10),
		'',
		`- prompt tokens per item: ${p10.prompt.toFixed(1)} against ${p1.prompt.toFixed(1)} = ${pct(tokenRatio)} (target ≤ 40 %); output tokens per item ${p10.output.toFixed(1)} against ${p1.output.toFixed(1)} (each entry repeats its id)`,
		`- node time under the request limit: ${ten.f.nodeSeconds?.toFixed(1)} s against ${one.f.nodeSeconds?.toFixed(1)} s = ${timeRatio === null ? 'n/a' : pct(timeRatio)} (target ≤ 25 %)`,
		`- the same label for ${same} of ${ids.length} items (${pct(same / Math.max(1, ids.length))}; target ≥ 99 %) on the scripted model, which answers each fenced item as it answers the item alone: this measures that nothing is lost or mixed up between items, not how a real model's accuracy changes with company (see the README)`,
		`- requests: ${ten.f.requests} against ${one.f.requests}; ${ten.single} of the ${ten.f.requests} carried one item (a group left with one item once the others reused the answer of an identical text, which version 4 shares in both runs alike, or an item asked again alone after an invalid answer)`,
	];
}

async function main(): Promise<void> {
	const quick = process.argv.includes('--quick');
	const onlySeveral = process.argv.includes('--several');
	const cacheOnly = process.argv.includes('--cache-only');
	const n = quick ? 150 : 1000;
	const started = new Date();
	let server: ProviderServer | undefined;
	let n8n: N8n | undefined;
	const figures: Record<string, unknown> = { startedAt: started.toISOString(), loadAverageAtStart: os.loadavg(), nproc: os.cpus().length };
	const lines: string[] = [];
	try {
		server = await startProviderServer({ latencyMs: LATENCY_MS });
		log(`provider server at ${server.url}; starting n8n`);
		n8n = await startN8n();
		await n8n.importCredentials([
			{ ...CREDENTIALS.ours, data: { apiKey: 'sk-bench-local', baseUrl: server.openaiBaseUrl } },
			{ ...CREDENTIALS.n8n, data: { apiKey: 'sk-bench-local', url: server.openaiBaseUrl } },
		]);

		if (cacheOnly) lines.push(...(await cacheScenario(n8n, server, repeatingTickets(n, 0.3), figures)));
		else if (onlySeveral) lines.push(...(await several(n8n, server, n, figures)));
		else lines.push(...(await pacingAndRepeats(n8n, server, n, started, figures)));
	} finally {
		await n8n?.stop();
		await server?.close();
	}
	writeOut(lines, quick, onlySeveral ? 'throughput-several' : cacheOnly ? 'throughput-cache' : 'throughput', figures);
}

/** The pacing, repeats and cache scenarios (and the several scenario's part in its markers): the whole section's lines. */
async function pacingAndRepeats(n8n: N8n, server: ProviderServer, n: number, started: Date, figures: Record<string, unknown>): Promise<string[]> {
	const lines: string[] = [];
	{
		// pacing at 600 requests/minute and 150,000 tokens/minute; version 2 asks once per item (version 3 would
		// share the answers of the tickets whose texts happen to repeat, and make fewer requests than items)
		const records = tickets(n);
		const ours = await measure(n8n, server, {
			scenario: 'pacing',
			side: 'aiClassify',
			latencyMs: LATENCY_MS,
			rpm: RPM,
			tpm: TPM,
			records,
			extras: { typeVersion: 2 },
			label: 'defaults (paced)',
		});
		const answered = server.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200);
		// tokens a request costs against the limit: its prompt and its answer, as the server counted them
		const tokensPerRequest = answered.length
			? answered.reduce((sum, r) => sum + r.promptTokens + (r.outputTokens ?? 0), 0) / answered.length
			: 0;
		log(`ours: ${JSON.stringify(withoutAnswers(ours))}`);
		const theirs = await measure(n8n, server, {
			scenario: 'pacing',
			side: 'textClassifier',
			latencyMs: LATENCY_MS,
			rpm: RPM,
			tpm: TPM,
			records,
			extras: { continueOnFail: true },
			label: 'defaults, Continue On Fail',
		});
		log(`theirs: ${JSON.stringify(withoutAnswers(theirs))}`);
		const ideal = idealSeconds(ours.requests - ours.rateLimited, CONCURRENCY, LATENCY_MS, RPM, TPM, tokensPerRequest);
		figures.pacing = { ours: withoutAnswers(ours), theirs: withoutAnswers(theirs), ideal, tokensPerRequest };

		// repeats: 30 % of the texts repeat
		const repeating = repeatingTickets(n, 0.3);
		const distinctTexts = new Set(repeating.map((t) => t.text)).size;
		const v3 = await measure(n8n, server, {
			scenario: 'repeats',
			side: 'aiClassify',
			latencyMs: LATENCY_MS,
			rpm: 0,
			records: repeating,
			extras: { typeVersion: 3 },
			label: 'version 3 (one request per distinct text)',
		});
		log(`repeats v3: ${JSON.stringify(withoutAnswers(v3))}`);
		const v2 = await measure(n8n, server, {
			scenario: 'repeats',
			side: 'aiClassify',
			latencyMs: LATENCY_MS,
			rpm: 0,
			records: repeating,
			extras: { typeVersion: 2 },
			label: 'version 2 (one request per item)',
		});
		log(`repeats v2: ${JSON.stringify(withoutAnswers(v2))}`);
		figures.repeats = { v3: withoutAnswers(v3), v2: withoutAnswers(v2), distinctTexts, items: repeating.length };

		const header =
			'| node | setting | node time | out / lost | correct | requests | 429 (share) | tokens / request | ideal time | % of ideal | peak memory |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
		lines.push(
			`## throughput: pacing at the provider's limit, repeated texts`,
			'',
			`From \`bench/throughput.ts\` (${started.toISOString()}, ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min; load average at start ${os
				.loadavg()
				.map((l) => l.toFixed(2))
				.join(' / ')}). Same harness as above: a real n8n, the local provider server, ${n} tickets, ${LATENCY_MS} ms per response.`,
			'',
			`### ${RPM} requests/minute and ${TPM.toLocaleString('en')} tokens/minute (429 + retry-after above either)`,
			'',
			header,
			row(ours, ideal, tokensPerRequest),
			row(theirs, ideal),
			'',
			`- ideal time: a perfect client with ${CONCURRENCY} in flight under both windows (request k starts when a slot is free and 60 s after request k − min(rpm, tpm / tokens per request)); "% of ideal" only for a run that delivered every item correctly`,
			`- AI Classify: ${ours.rateLimited} of ${ours.requests} requests got a 429 (${((100 * ours.rateLimited) / Math.max(1, ours.requests)).toFixed(2)} %; target ≤ 1 %); node time ${ours.nodeSeconds?.toFixed(1)} s = ${ours.nodeSeconds ? Math.round((100 * ideal) / ours.nodeSeconds) : 'n/a'} % of the ideal ${ideal.toFixed(1)} s (target ≥ 95 %). Before pacing (version 1 in the triage table above, same limits in requests) it met 10 × 429.`,
			`- Text Classifier with Continue On Fail: ${theirs.correct} of ${n} items classified, ${theirs.itemsOut - theirs.correct} came out as errors (n8n's OpenAI Chat Model does not retry a 429), ${theirs.rateLimited} × 429.`,
			'',
			`### ${n} tickets, ${Math.round(0.3 * n)} of them repeating an earlier text (${distinctTexts} distinct texts), no rate limit`,
			'',
			header,
			row(v3, null),
			row(v2, null),
			'',
			`- requests: ${v3.requests} with version 3 against ${v2.requests} with version 2: ${(100 - (100 * v3.requests) / Math.max(1, v2.requests)).toFixed(1)} % fewer (target 30 %); the ${n - distinctTexts} items that reused an answer say \`reused: true\` and cost nothing`,
			'',
			...(await cacheScenario(n8n, server, repeating, figures)),
			'',
			'<!-- throughput-several:start -->',
			...(await several(n8n, server, n, figures)),
			'<!-- throughput-several:end -->',
		);
	}
	return lines;
}

/**
 * The figures to bench/out/<name>.json, and the section's lines into RESULTS.md between its markers; the cache
 * scenario alone (--cache-only) writes only its figures (its rows are part of the throughput section).
 */
function writeOut(lines: string[], quick: boolean, name: 'throughput' | 'throughput-several' | 'throughput-cache', figures: Record<string, unknown>): void {
	const outDir = path.join(REPO_ROOT, 'bench', 'out');
	fs.mkdirSync(outDir, { recursive: true });
	fs.writeFileSync(path.join(outDir, `${name}${quick ? '-quick' : ''}.json`), JSON.stringify(figures, null, 2) + '\n');
	const section = lines.join('\n');
	console.log(`\n${section}`);
	if (!quick && name !== 'throughput-cache') replaceSection(path.join(REPO_ROOT, 'bench', 'RESULTS.md'), name, section);
}

/** The re-run with the Result Cache on: the table's rows and notes. */
async function cacheScenario(n8n: N8n, server: ProviderServer, records: Ticket[], figures: Record<string, unknown>): Promise<string[]> {
	const cacheFile = path.join(os.tmpdir(), `governed-ai-bench-cache-${process.pid}-${Date.now()}.jsonl`);
	const run = async (label: string) =>
		await measure(n8n, server, {
			scenario: 'cache',
			side: 'aiClassify',
			latencyMs: LATENCY_MS,
			rpm: 0,
			records,
			extras: { typeVersion: 4, parameters: { resultCache: true, resultCacheFilePath: cacheFile } },
			label,
		});
	try {
		const cold = await run('version 4, Result Cache on, first run (cache empty)');
		log(`cache, first run: ${JSON.stringify(cold)}`);
		const warm = await run('version 4, Result Cache on, re-run');
		log(`cache, re-run: ${JSON.stringify(warm)}`);
		const entries = fs.readFileSync(cacheFile, 'utf8').split('\n').filter(Boolean).length;
		figures.cache = { cold, warm, entries, cacheFileBytes: fs.statSync(cacheFile).size };
		return [
			`### A re-run of the same ${records.length} tickets with the Result Cache on (file store), no rate limit`,
			'',
			'| node | setting | node time | out / lost | correct | requests | 429 (share) | tokens / request | ideal time | % of ideal | peak memory |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
			row(cold, null),
			row(warm, null),
			'',
			`- the first run asks once per distinct text (${cold.requests} requests) and stores ${entries} answers (${(fs.statSync(cacheFile).size / 1024).toFixed(0)} KB: a hash and the answer each, no text); the re-run makes ${warm.requests} requests (its results say \`cached: true\` and cost 0: checked by test/unit/result-cache.test.ts and test/e2e/result-cache.test.ts); node time ${warm.nodeSeconds?.toFixed(1)} s against ${cold.nodeSeconds?.toFixed(1)} s`,
		];
	} finally {
		fs.rmSync(cacheFile, { force: true });
	}
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` (appended when missing). */
export function replaceSection(file: string, name: string, body: string): void {
	const start = `<!-- ${name}:start -->`;
	const end = `<!-- ${name}:end -->`;
	const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
	const block = `${start}\n${body}\n${end}`;
	const i = text.indexOf(start);
	const j = text.indexOf(end);
	const next = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
	fs.writeFileSync(file, next);
}

if (require.main === module) {
	main().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
