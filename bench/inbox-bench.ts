/**
 * The Review Inbox page with 2,000 waiting items: how long the store takes to list them (file and PostgreSQL),
 * the page to be rendered on the server, and Debian's Chromium to show all 2,000 rows (navigation start → the
 * 2,000th row in the list, measured in the page), at desktop and phone width. Figures are printed, never
 * asserted. The page is served by a plain HTTP server here (with the same headers), not through n8n: what is
 * measured is the store, the server-side render and the browser, not n8n's webhook routing.
 *
 *   node -r ./scripts/register-ts.js bench/inbox-bench.ts
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
import { INBOX_PAGE_CSP, renderInboxPage } from '../nodes/ReviewInbox/page';
import { FileReviewStore } from '../shared/reviewStore/fileStore';
import { PgReviewStore } from '../shared/reviewStore/pgStore';
import type { ReviewStore, WaitingItemInput } from '../shared/reviewStore/types';

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

async function main(): Promise<void> {
	const folder = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
	const table = `inbox_bench_${process.pid}`;
	const file = new FileReviewStore('bench', folder);
	const pg = new PgReviewStore(connection, table);
	try {
		const [, fillFileMs] = await timed(() => fill(file));
		const [, fillPgMs] = await timed(() => fill(pg));
		const fileList: number[] = [];
		const pgList: number[] = [];
		let items: unknown[] = [];
		for (let i = 0; i < 5; i++) {
			const [found, ms] = await timed(() => listItems(file, listFilter('bench', {}, who, new Date()), who));
			fileList.push(ms);
			items = found;
			pgList.push((await timed(() => listItems(pg, listFilter('bench', {}, who, new Date()), who)))[1]);
		}
		const renders: number[] = [];
		let html = '';
		for (let i = 0; i < 5; i++) {
			const [page, ms] = await timed(async () => renderInboxPage({ reviewer: 'ada', via: 'password', items, path: '/inbox', nonce: 'benchnonce', now: new Date().toISOString() }));
			html = page;
			renders.push(ms);
		}
		const server = createServer((_req, res) => {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': INBOX_PAGE_CSP('benchnonce') });
			res.end(html);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/inbox`;
		const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
		const shown: Record<string, number[]> = { desktop: [], phone: [] };
		try {
			for (const [name, viewport] of [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
				for (let i = 0; i < 5; i++) {
					const context = await browser.newContext({ viewport });
					const page = await context.newPage();
					await page.goto(url);
					await page.locator('#list li[data-id]').nth(N - 1).waitFor({ timeout: 120_000 });
					// navigation start → the list complete, on the page's own clock
					shown[name].push(Number(await page.evaluate('performance.now()')));
					await context.close();
				}
			}
		} finally {
			await browser.close();
			server.close();
		}
		const figures = {
			items: N,
			fillFileS: fillFileMs / 1000,
			fillPgS: fillPgMs / 1000,
			listFileMs: median(fileList),
			listPgMs: median(pgList),
			renderServerMs: median(renders),
			pageBytes: Buffer.byteLength(html),
			shownDesktopMs: median(shown.desktop),
			shownPhoneMs: median(shown.phone),
		};
		console.log(JSON.stringify(figures, null, 2));
	} finally {
		await file.close();
		await pg.close();
		const admin = new Pool({ ...poolConfig(connection), max: 1 });
		await admin.query(`DROP TABLE IF EXISTS ${table}, ${table}_rounds`);
		await admin.end();
		rmSync(folder, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
