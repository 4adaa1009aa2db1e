/**
 * Digests of new items and items due soon, through both real review stores (a temporary file store and the
 * machine's PostgreSQL) and a real HTTP receiver standing in for the group's notification URL (a Slack-style
 * incoming webhook): each run of the periodic call sends one message per group listing the new and due-soon
 * items (and the escalated ones); a run with nothing new sends nothing; no item is listed twice as new or twice
 * as due soon across runs; two runs at the same moment (two stores: two n8n processes in queue mode) never
 * both take an item.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IHttpRequestOptions } from 'n8n-workflow';
import { Pool } from 'pg';

import { poolConfig, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { DUE_SOON_MS, escalateAndNotify, type Digest } from '../../nodes/ReviewInbox/digest';
import { FileReviewStore } from '../../shared/reviewStore/fileStore';
import { PgReviewStore } from '../../shared/reviewStore/pgStore';
import { itemId, type ReviewStore, type RoundInput } from '../../shared/reviewStore/types';

const connection: PgConnection = { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER || 'postgres', password: process.env.PGPASSWORD, ssl: 'disable' };
const table = `review_digest_test_${randomBytes(4).toString('hex')}`;
const folder = mkdtempSync(join(tmpdir(), 'review-digest-'));
const T0 = new Date('2026-12-04T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const INBOX_URL = 'http://n8n.local/webhook/review-inbox';

/** The notification URL: records every POSTed body. */
let receiver: Server;
let hookUrl: string;
const received: Digest[] = [];

beforeAll(async () => {
	receiver = createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => (body += chunk));
		req.on('end', () => {
			received.push(JSON.parse(body) as Digest);
			res.writeHead(200, { 'content-type': 'text/plain' });
			res.end('ok');
		});
	});
	await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
	hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/secret-path`;
});

afterAll(async () => {
	await new Promise((resolve) => receiver.close(resolve));
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	await admin.query(`DROP TABLE IF EXISTS ${table}, ${table}_rounds`);
	await admin.end();
	rmSync(folder, { recursive: true, force: true });
});

/** What n8n's helpers.httpRequest does with these options, over real HTTP. */
async function send(options: IHttpRequestOptions): Promise<unknown> {
	const res = await fetch(options.url, { method: options.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) });
	if (!res.ok) throw new Error(`HTTP ${res.status}`);
	return await res.text();
}

function round(inbox: string, key: string, group: string): RoundInput {
	return { roundKey: key, inbox, workflowId: 'wf', workflowName: 'Refunds', executionId: key, nodeName: 'Human Checkpoint', resumeUrl: `http://n8n.local/webhook-waiting/${key}?signature=secret`, createdAt: T0.toISOString(), group, escalationGroup: 'leads' };
}

/** One run of the periodic call, as the inbox's webhook does it: escalate, take the digest's items, notify. */
async function run(store: ReviewStore, inbox: string, now: Date): Promise<Digest[]> {
	const before = received.length;
	const escalated = await store.escalateDue(inbox, now);
	const digest = await store.takeForDigest(inbox, now, DUE_SOON_MS);
	await escalateAndNotify(escalated, INBOX_URL, hookUrl, send, digest);
	return received.slice(before).sort((a, b) => a.group.localeCompare(b.group));
}

const listed = (digest: Digest | undefined) => (digest?.items ?? []).map((i) => `${i.why} ${String(i.id)}`);

describe.each([
	['file store', (inbox: string) => new FileReviewStore(inbox, folder)],
	['PostgreSQL store', () => new PgReviewStore(connection, table)],
] as Array<[string, (inbox: string) => ReviewStore]>)('%s', (name, make) => {
	const inbox = `digest-${name.split(' ')[0].toLowerCase()}`;
	const store = make(inbox);
	afterAll(async () => await store.close());

	it('one digest per group lists the new and due-soon items; no item is listed twice as new or as due soon across runs', async () => {
		await store.addRound(round(inbox, 'r1', 'support'), [
			{ itemIndex: 0, view: { title: 'Refund 41' }, dueAt: at(180).toISOString() },
			{ itemIndex: 1, view: { title: 'Refund 42' }, dueAt: at(30).toISOString() },
		]);
		await store.addRound(round(inbox, 'r2', 'finance'), [{ itemIndex: 0, view: { title: 'Payout 7' }, dueAt: at(300).toISOString() }]);

		// run 1: everything is new; Refund 42 is also due within the hour and is listed once, as due soon
		const first = await run(store, inbox, T0);
		expect(first.map((d) => d.group)).toEqual(['finance', 'support']);
		expect(listed(first[0])).toEqual([`new ${itemId('r2', 0)}`]);
		expect(listed(first[1])).toEqual([`due soon ${itemId('r1', 1)}`, `new ${itemId('r1', 0)}`]);
		expect(first[1].text).toBe(`1 new item for support; 1 item due within the hour for support in the Review Inbox: ${INBOX_URL}`);
		expect(first[1]).toMatchObject({ inboxUrl: INBOX_URL, items: [{ title: 'Refund 42', workflowName: 'Refunds', dueAt: at(30).toISOString() }, { title: 'Refund 41' }] });
		expect(JSON.stringify(first)).not.toMatch(/signature|webhook-waiting/);

		// run 2, a minute later: nothing new, nothing newly due soon: no message at all
		expect(await run(store, inbox, at(1))).toEqual([]);

		// a new pause; at 12:10 Refund 41 is due within the hour and Refund 42 is overdue (escalated to leads)
		await store.addRound(round(inbox, 'r3', 'support'), [{ itemIndex: 0, view: { title: 'Refund 43' } }]);
		const third = await run(store, inbox, at(130));
		expect(third.map((d) => d.group)).toEqual(['leads', 'support']);
		expect(listed(third[0])).toEqual([`escalated ${itemId('r1', 1)}`]);
		expect(listed(third[1])).toEqual([`due soon ${itemId('r1', 0)}`, `new ${itemId('r3', 0)}`]);

		// run 4: nothing again
		expect(await run(store, inbox, at(131))).toEqual([]);
		// across the runs: each item at most once as new and at most once as due soon
		const all = [...first, ...third].flatMap(listed);
		expect(new Set(all).size).toBe(all.length);
	});

	it('a decided item is never listed', async () => {
		await store.addRound(round(inbox, 'r4', 'support'), [{ itemIndex: 0, view: { title: 'Refund 44' }, dueAt: at(20).toISOString() }]);
		expect((await store.decide(itemId('r4', 0), { reviewer: 'ada', verdict: 'approve' }, T0)).ok).toBe(true);
		expect(await run(store, inbox, T0)).toEqual([]);
	});

	it('two runs at the same moment through two stores never both take an item', async () => {
		const key = `race-${randomBytes(3).toString('hex')}`;
		await store.addRound(round(inbox, key, 'support'), Array.from({ length: 8 }, (_, i) => ({ itemIndex: i, view: {}, dueAt: at(10).toISOString() })));
		const other = make(inbox);
		try {
			const [a, b] = await Promise.all([store.takeForDigest(inbox, T0, DUE_SOON_MS), other.takeForDigest(inbox, T0, DUE_SOON_MS)]);
			const fresh = [...a.fresh, ...b.fresh].map((i) => i.id).filter((id) => id.startsWith(key));
			const soon = [...a.dueSoon, ...b.dueSoon].map((i) => i.id).filter((id) => id.startsWith(key));
			expect(fresh.sort()).toEqual(Array.from({ length: 8 }, (_, i) => itemId(key, i)).sort());
			expect(soon.sort()).toEqual(fresh.sort());
		} finally {
			await other.close();
		}
	});
});
