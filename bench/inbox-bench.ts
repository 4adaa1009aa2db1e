/**
 * The Review Inbox benchmark (figures are printed, never asserted):
 *
 * 1. The page with 2,000 waiting items: how long the store takes to list them (file and PostgreSQL), the page
 *    to be rendered on the server, and Debian's Chromium to show it, at desktop and phone width, on the page's
 *    own clock (navigation start = 0): the first rows visible with the count of all 2,000 (`firstRowsShown`,
 *    found by Playwright's polling), the page's mark after its list is built (`listBuilt`), then "Show all"
 *    clicked → the 2,000th row visible (`showAll`; `row2000Shown` from navigation start), and the renderer's
 *    main-thread busy time until the first rows (`mainThreadBusyToFirstRows`, CDP TaskDuration). Medians of 5.
 *    The page is served by a plain HTTP server here (with the same headers), not through n8n: what is measured
 *    is the store, the server-side render and the browser, not n8n's webhook routing.
 * 2. Bulk approval of 200 items in a real n8n (the e2e harness's startN8n, single mode, embedded file store):
 *    200 executions of a Human Checkpoint (version 3, Review In: Review Inbox) wait with one item each; one
 *    `bulkApprove` of all 200 through the inbox's JSON API; timed until its answer (the decisions stored and
 *    the resumes posted) and until all 200 executions are finished with their item on Approved.
 *
 *   node -r ./scripts/register-ts.js bench/inbox-bench.ts            both
 *   INBOX_BENCH=page node -r ./scripts/register-ts.js bench/inbox-bench.ts   only 1
 *   INBOX_BENCH=bulk node -r ./scripts/register-ts.js bench/inbox-bench.ts   only 2
 *   INBOX_PAGE_MODULE=/path/to/page.ts …   measures another version of page.ts
 *   INBOX_PAGE_BEFORE=/path/to/old-page.ts …  also measures that version, turn about with the current one
 *   INBOX_BENCH_FILE_STORE=0 …   skips the file store (its fill takes a minute on a loaded machine)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { chromium } from 'playwright-core';

import { poolConfig, type PgConnection } from '../nodes/AuditLog/sinks/pgSink';
import { toReviewItem } from '../nodes/HumanCheckpoint/page/page';
import { listFilter, listItems } from '../nodes/ReviewInbox/api';
import type { Identity } from '../nodes/ReviewInbox/identity';
import * as currentPage from '../nodes/ReviewInbox/page';
import { hashPassword } from '../nodes/ReviewInbox/identity';
import { startN8n, type N8n } from '../test/e2e/harness';
import { FileReviewStore } from '../shared/reviewStore/fileStore';
import { PgReviewStore } from '../shared/reviewStore/pgStore';
import type { ReviewStore, WaitingItemInput } from '../shared/reviewStore/types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pageModule = (process.env.INBOX_PAGE_MODULE ? require(process.env.INBOX_PAGE_MODULE) : currentPage) as typeof currentPage;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const beforeModule = process.env.INBOX_PAGE_BEFORE ? (require(process.env.INBOX_PAGE_BEFORE) as typeof currentPage) : undefined;
const { INBOX_PAGE_CSP } = pageModule;
const N = 2000;
const PER_ROUND = 4;
const who: Identity = { name: 'ada', via: 'password', groups: ['support'] };
const connection: PgConnection = { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER || 'postgres', ssl: 'disable' };

function inputs(round: number): WaitingItemInput[] {
	return Array.from({ length: PER_ROUND }, (_, i) => {
		const json = {
			ticket: `Ticket ${round}.${i}: please refund invoice ${round * 10 + i}, I was charged twice for the annual plan`,
			ai: { latest: 'classify', classify: { decisionId: `d${round}.${i}`, step: 'classify', answer: ['refund', 'billing', 'sales'][i % 3], confidence: 0.4 + (i % 5) / 10, confidenceMethod: 'logprobs', reason: 'The customer asks for money back.', evidence: ['please refund invoice'], needsReview: true, provider: 'openai', model: 'm', usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0, attempts: 1, latencyMs: 1, promptHash: 'h', at: new Date().toISOString() } },
		};
		const view = toReviewItem(json, i, '', ['ticket']);
		return { itemIndex: i, view: { ...view, ai: json.ai } as unknown as Record<string, unknown>, label: String(json.ai.classify.answer), dueAt: new Date(Date.now() + (round % 50) * 60_000).toISOString(), group: 'support' };
	});
}

async function fill(store: ReviewStore): Promise<void> {
	for (let round = 0; round < N / PER_ROUND; round++) {
		await store.addRound(
			{ roundKey: `b${round}`, inbox: 'bench', workflowId: `w${round % 3}`, workflowName: `Workflow ${round % 3}`, executionId: String(round), nodeName: 'Human Checkpoint', resumeUrl: `http://x/${round}`, createdAt: new Date().toISOString() },
			inputs(round),
		);
	}
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
	const start = process.hrtime.bigint();
	const value = await work();
	return [value, Number(process.hrtime.bigint() - start) / 1e6];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function pageBench(): Promise<Record<string, unknown>> {
	const folder = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
	const table = `inbox_bench_${process.pid}`;
	const file = new FileReviewStore('bench', folder);
	const pg = new PgReviewStore(connection, table);
	try {
		const withFile = process.env.INBOX_BENCH_FILE_STORE !== '0';
		const [, fillFileMs] = withFile ? await timed(() => fill(file)) : [undefined, NaN];
		const [, fillPgMs] = await timed(() => fill(pg));
		const fileList: number[] = [];
		const pgList: number[] = [];
		let items: unknown[] = [];
		for (let i = 0; i < 5; i++) {
			if (withFile) fileList.push((await timed(() => listItems(file, listFilter('bench', {}, who, new Date()), who)))[1]);
			const [found, ms] = await timed(() => listItems(pg, listFilter('bench', {}, who, new Date()), who));
			pgList.push(ms);
			items = found;
		}
		const now = new Date().toISOString();
		const render = (module: typeof currentPage) => module.renderInboxPage({ reviewer: 'ada', via: 'password', items, path: '/inbox', nonce: 'benchnonce', now });
		const renders: number[] = [];
		let html = '';
		for (let i = 0; i < 5; i++) {
			const [page, ms] = await timed(async () => render(pageModule));
			html = page;
			renders.push(ms);
		}
		// the page as it was before (INBOX_PAGE_BEFORE), measured in the same run, turn about, under the same load
		const pages: Record<string, string> = { now: html };
		if (beforeModule) pages.before = render(beforeModule);
		const server = createServer((req, res) => {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': INBOX_PAGE_CSP('benchnonce') });
			res.end(pages[(req.url ?? '').includes('before') ? 'before' : 'now']);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
		const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
		const shown: Record<string, number[]> = {};
		const built: Record<string, number[]> = {};
		const painted: Record<string, number[]> = {};
		const allRows: Record<string, number[]> = {};
		const busy: Record<string, number[]> = {};
		const showAll: Record<string, number[]> = {};
		const push = (into: Record<string, number[]>, key: string, value: unknown) => {
			if (typeof value === 'number') (into[key] ??= []).push(value);
		};
		try {
			for (let i = 0; i < 5; i++) {
				for (const [name, viewport] of [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
					for (const version of Object.keys(pages)) {
						const key = `${version}.${name}`;
						const context = await browser.newContext({ viewport });
						const page = await context.newPage();
						// the renderer's main-thread busy time (CPU work, less sensitive to other processes than wall time)
						const cdp = await context.newCDPSession(page);
						await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
						await page.goto(`${base}/inbox-${version}`);
						// navigation start → the first rows visible with the count of all 2,000, on the page's own clock
						await page.locator('#list li[data-id]').first().waitFor({ timeout: 120_000 });
						push(shown, key, Number(await page.evaluate('performance.now()')));
						const count = await page.textContent('#count');
						if (count !== `${N} waiting`) throw new Error(`${key}: the count says "${count}"`);
						push(built, key, await page.evaluate("(performance.getEntriesByName('inbox-list')[0] || {}).startTime || null"));
						push(painted, key, await page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"));
						const metrics = ((await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }).metrics;
						push(busy, key, (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN) * 1000);
						// then every row: "Show all" (a page without it has them all already) → the 2,000th row visible
						const start = Number(await page.evaluate('performance.now()'));
						if (await page.locator('#all').count()) await page.click('#all');
						await page.locator('#list li[data-id]').nth(N - 1).waitFor({ timeout: 120_000 });
						const end = Number(await page.evaluate('performance.now()'));
						push(allRows, key, end);
						push(showAll, key, end - start);
						await context.close();
					}
				}
			}
		} finally {
			await browser.close();
			server.close();
		}
		const medians = (from: Record<string, number[]>) => Object.fromEntries(Object.entries(from).map(([k, v]) => [k, Math.round(median(v))]));
		const figures = {
			items: N,
			fillFileS: fillFileMs / 1000,
			fillPgS: fillPgMs / 1000,
			listFileMs: withFile ? median(fileList) : null,
			listPgMs: median(pgList),
			renderServerMs: median(renders),
			pageBytes: Object.fromEntries(Object.entries(pages).map(([k, v]) => [k, Buffer.byteLength(v)])),
			firstRowsShownMs: medians(shown),
			firstRowsShownRunsMs: Object.fromEntries(Object.entries(shown).map(([k, v]) => [k, v.map(Math.round)])),
			listBuiltMs: medians(built),
			firstContentfulPaintMs: medians(painted),
			mainThreadBusyToFirstRowsMs: medians(busy),
			row2000ShownMs: medians(allRows),
			showAllMs: medians(showAll),
		};
		return figures;
	} finally {
		await file.close();
		await pg.close();
		const admin = new Pool({ ...poolConfig(connection), max: 1 });
		await admin.query(`DROP TABLE IF EXISTS ${table}, ${table}_rounds`);
		await admin.end();
		rmSync(folder, { recursive: true, force: true });
	}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BULK = 200;

function bulkWorkflows(inboxPath: string) {
	let uid = 0;
	const id = () => `1b0c9000-0000-4000-8000-${String(++uid).padStart(12, '0')}`;
	const code = `const run = $input.first().json.body?.run ?? 0;
return [{ json: { run, ticket: 'Ticket ' + run + ': please refund invoice ' + run, ai: { latest: 'classify', classify: {
  decisionId: 'bulk-' + run, step: 'classify', answer: 'refund', confidence: 0.6, confidenceMethod: 'logprobs', reason: 'money back',
  evidence: ['please refund invoice'], needsReview: true, provider: 'openai', model: 'fake',
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0,
  attempts: 1, latencyMs: 1, promptHash: 'sha256:x', at: '2026-01-01T00:00:00.000Z' } } } }];`;
	const checkpoint = {
		name: 'Bulk bench checkpoint',
		nodes: [
			{ id: id(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: id(), parameters: { httpMethod: 'POST', path: 'bulk-bench', responseMode: 'onReceived', options: {} } },
			{ id: id(), name: 'Fake Classify', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
			{ id: id(), name: 'Human Checkpoint', type: 'n8n-nodes-governed-ai.humanCheckpoint', typeVersion: 3, position: [400, 0], webhookId: id(), parameters: { operation: 'sendAndWait', reviewIn: 'inbox', inboxName: 'bulk-bench', fieldsToShow: 'ticket', reviewerGroup: 'support', fourEyes: 'never' } },
			{ id: id(), name: 'No Response', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, -150], parameters: {} },
			{ id: id(), name: 'Approved', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 0], parameters: {} },
			{ id: id(), name: 'Rejected', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 150], parameters: {} },
		],
		connections: {
			Webhook: { main: [[{ node: 'Fake Classify', type: 'main', index: 0 }]] },
			'Fake Classify': { main: [[{ node: 'Human Checkpoint', type: 'main', index: 0 }]] },
			'Human Checkpoint': { main: [[{ node: 'No Response', type: 'main', index: 0 }], [{ node: 'Approved', type: 'main', index: 0 }], [{ node: 'Rejected', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
	const inbox = {
		name: 'Bulk bench inbox',
		nodes: [
			{ id: id(), name: 'Review Inbox', type: 'n8n-nodes-governed-ai.reviewInbox', typeVersion: 1, position: [0, 0], webhookId: id(), parameters: { path: inboxPath, inboxName: 'bulk-bench' }, credentials: { governedAiReviewers: { id: 'benchReviewers1', name: 'Reviewers' } } },
		],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
	return { checkpoint, inbox };
}

/** the items of one finished execution that reached Approved with the inbox's approval */
function approvedCount(execution: any): number {
	const items: Array<{ json?: { review?: { decision?: string; reviewer?: string } } }> = execution?.data?.resultData?.runData?.Approved?.[0]?.data?.main?.[0] ?? [];
	return items.filter((item) => item.json?.review?.decision === 'approved' && item.json.review.reviewer === 'ada').length;
}

async function bulkBench(): Promise<Record<string, unknown>> {
	const inboxPath = 'bulk-bench-inbox';
	let n8n: N8n | undefined;
	try {
		n8n = await startN8n();
		await n8n.importCredentials([
			{ id: 'benchReviewers1', name: 'Reviewers', type: 'governedAiReviewers', data: { reviewers: `ada: ${hashPassword('ada-bench-pass')}`, groups: 'support: ada', sessionSecret: 'bench-session-secret-0123456789' } },
		]);
		const flows = bulkWorkflows(inboxPath);
		const checkpointId = await n8n.importWorkflow(flows.checkpoint);
		await n8n.activate(checkpointId);
		const inboxId = await n8n.importWorkflow(flows.inbox);
		await n8n.activate(inboxId);
		const inboxUrl = `${n8n.baseUrl.replace(/\/$/, '')}/webhook/${inboxPath}`;
		const startPauses = Date.now();
		for (let run = 1; run <= BULK; run++) {
			let res = await n8n.webhook('bulk-bench', { run });
			for (let i = 0; res.status === 404 && i < 120; i++) {
				await sleep(250);
				res = await n8n.webhook('bulk-bench', { run });
			}
			if (res.status !== 200) throw new Error(`run ${run}: HTTP ${res.status}`);
			await res.text();
		}
		let cookie = '';
		let waiting: any[] = [];
		for (const deadline = Date.now() + 600_000; Date.now() < deadline; await sleep(1000)) {
			if (!cookie) {
				const signIn = await fetch(inboxUrl, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ada&password=ada-bench-pass' });
				cookie = signIn.status === 303 ? (signIn.headers.get('set-cookie') ?? '').split(';')[0] : '';
				if (!cookie) continue;
			}
			const res = await fetch(`${inboxUrl}?api=items`, { headers: { accept: 'application/json', cookie } });
			waiting = res.ok ? ((await res.json()) as { items: any[] }).items : [];
			if (waiting.length >= BULK) break;
		}
		if (waiting.length !== BULK) throw new Error(`${waiting.length} of ${BULK} items waiting in the inbox\n${n8n.logs().slice(-3000)}`);
		const pausedS = (Date.now() - startPauses) / 1000;
		const start = process.hrtime.bigint();
		const res = await fetch(inboxUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', cookie }, body: JSON.stringify({ action: 'bulkApprove', ids: waiting.map((i) => i.id), comment: 'bulk bench' }) });
		const answer = (await res.json()) as { status: string; approved: number; resumed: number };
		const answeredMs = Number(process.hrtime.bigint() - start) / 1e6;
		let finished = 0;
		let approvedItems = 0;
		for (const deadline = Date.now() + 600_000; Date.now() < deadline; await sleep(1000)) {
			const executions = (await n8n.executions(checkpointId)).filter((e) => e.status === 'success');
			finished = executions.length;
			approvedItems = executions.reduce((sum, e) => sum + approvedCount(e), 0);
			if (finished >= BULK && approvedItems >= BULK) break;
		}
		const allFinishedMs = Number(process.hrtime.bigint() - start) / 1e6;
		return { executions: BULK, pausedS, answer: { status: answer.status, approved: answer.approved, resumed: answer.resumed }, answeredMs, finished, approvedItems, allFinishedMs };
	} finally {
		await n8n?.stop();
	}
}

async function main(): Promise<void> {
	const which = process.env.INBOX_BENCH ?? 'all';
	const figures: Record<string, unknown> = {};
	if (which !== 'bulk') figures.page = await pageBench();
	if (which !== 'page') figures.bulk = await bulkBench();
	console.log(JSON.stringify(figures, null, 2));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
