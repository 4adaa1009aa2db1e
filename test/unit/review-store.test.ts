/**
 * The review store, both implementations through one suite: the embedded file store (a temporary folder)
 * and PostgreSQL (the machine's real server, tables of this test's own). Claims, idempotent decisions,
 * four eyes, rounds ready to resume and resumed once, expiry and escalation, and a race: many reviewers
 * deciding one item at the same moment, each through its own store (its own pool / its own lock attempts),
 * and exactly one wins.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';

import { poolConfig, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { FileReviewStore } from '../../shared/reviewStore/fileStore';
import { PgReviewStore } from '../../shared/reviewStore/pgStore';
import { itemId, publicItem, type ReviewStore, type RoundInput, type WaitingItemInput } from '../../shared/reviewStore/types';

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};
const table = `review_store_test_${randomBytes(4).toString('hex')}`;
const folder = mkdtempSync(join(tmpdir(), 'review-store-'));
const INBOX = 'team';

afterAll(async () => {
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	await admin.query(`DROP TABLE IF EXISTS ${table}, ${table}_rounds`);
	await admin.end();
	rmSync(folder, { recursive: true, force: true });
});

const T0 = new Date('2026-12-04T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function round(key: string, extra: Partial<RoundInput> = {}): RoundInput {
	return {
		roundKey: key,
		inbox: INBOX,
		workflowId: 'wf1',
		workflowName: 'Refunds',
		executionId: key.split(':')[0],
		nodeName: 'Human Checkpoint',
		resumeUrl: `http://n8n.local/webhook-waiting/${key}?signature=secret`,
		createdAt: T0.toISOString(),
		group: 'support',
		escalationGroup: 'leads',
		...extra,
	};
}

function items(n: number, extra: Partial<WaitingItemInput> = {}): WaitingItemInput[] {
	return Array.from({ length: n }, (_, i) => ({ itemIndex: i, view: { text: `ticket ${i}`, answer: 'refund' }, label: 'refund', ...extra }));
}

type Maker = () => ReviewStore;
const makers: Array<[string, Maker]> = [
	['file store', () => new FileReviewStore(INBOX, folder)],
	['PostgreSQL store', () => new PgReviewStore(connection, table)],
];

describe.each(makers)('%s', (name, make) => {
	jest.setTimeout(120_000);
	const prefix = name.startsWith('file') ? 'f' : 'p';
	let store: ReviewStore;
	beforeAll(() => {
		store = make();
	});
	afterAll(async () => {
		await store.close();
	});

	it('records a round once, lists its items sorted by due time, never with the resume link', async () => {
		const key = `${prefix}e1:node:1`;
		await store.addRound(round(key), [
			{ itemIndex: 0, view: { text: 'late' }, dueAt: at(60).toISOString() },
			{ itemIndex: 1, view: { text: 'soon' }, dueAt: at(5).toISOString(), label: 'invoice', group: 'finance' },
		]);
		await store.addRound(round(key), items(5)); // the same round again: nothing changes
		const listed = (await store.list({ inbox: INBOX })).filter((i) => i.roundKey === key);
		expect(listed.map((i) => i.view.text)).toEqual(['soon', 'late']);
		expect(JSON.stringify(listed)).not.toContain('signature');
		expect(listed[0]).toMatchObject({ group: 'finance', escalationGroup: 'leads', state: 'waiting', approvalsRequired: 1, workflowName: 'Refunds' });
		const support = (await store.list({ inbox: INBOX, groups: ['support'] })).filter((i) => i.roundKey === key);
		expect(support.map((i) => i.itemIndex)).toEqual([0]);
		const invoices = (await store.list({ inbox: INBOX, label: 'invoice' })).filter((i) => i.roundKey === key);
		expect(invoices.map((i) => i.itemIndex)).toEqual([1]);
		expect(await store.list({ inbox: 'other' })).toEqual([]);
	});

	it('a claimed item cannot be claimed or decided by another reviewer until released or expired', async () => {
		const key = `${prefix}e2:node:1`;
		await store.addRound(round(key), items(1));
		const id = itemId(key, 0);
		expect(await store.claim(id, 'ada', T0, 60_000)).toMatchObject({ ok: true, item: { claimedBy: 'ada' } });
		expect(await store.claim(id, 'bob', at(0.5), 60_000)).toMatchObject({ ok: false, reason: 'claimed' });
		expect(await store.decide(id, { reviewer: 'bob', verdict: 'approve' }, at(0.5))).toMatchObject({ ok: false, reason: 'claimed' });
		expect(await store.release(id, 'bob', at(0.5))).toMatchObject({ ok: false, reason: 'claimed' });
		expect((await store.list({ inbox: INBOX, assignee: 'ada' })).map((i) => i.id)).toContain(id);
		// the claim has expired two minutes later
		expect(await store.claim(id, 'bob', at(2), 60_000)).toMatchObject({ ok: true, item: { claimedBy: 'bob' } });
		expect(await store.release(id, 'bob', at(2))).toMatchObject({ ok: true, item: { claimedBy: null } });
	});

	it('a decision is recorded once: a repeated or late one is answered "already decided", and the round is ready to resume once', async () => {
		const key = `${prefix}e3:node:1`;
		await store.addRound(round(key), items(2));
		expect(await store.decide(itemId(key, 0), { reviewer: 'ada', verdict: 'approve', newAnswer: 'exchange', changed: true, comment: 'fix' }, T0)).toMatchObject({
			ok: true,
			final: true,
			item: { state: 'decided', verdict: 'approve', approvals: [{ reviewer: 'ada', newAnswer: 'exchange', comment: 'fix' }] },
		});
		expect(await store.decide(itemId(key, 0), { reviewer: 'ada', verdict: 'reject' }, T0)).toMatchObject({ ok: false, reason: 'already_decided' });
		expect((await store.readyRounds(INBOX)).map((r) => r.roundKey)).not.toContain(key);
		await store.decide(itemId(key, 1), { reviewer: 'bob', verdict: 'reject' }, T0);
		const ready = (await store.readyRounds(INBOX)).find((r) => r.roundKey === key);
		expect(ready?.resumeUrl).toBe(`http://n8n.local/webhook-waiting/${key}?signature=secret`);
		expect(ready?.items.map((i) => [i.itemIndex, i.verdict])).toEqual([
			[0, 'approve'],
			[1, 'reject'],
		]);
		expect(await store.markResumed(key)).toBe(true);
		expect(await store.markResumed(key)).toBe(false);
		expect((await store.readyRounds(INBOX)).map((r) => r.roundKey)).not.toContain(key);
		expect((await store.get(itemId(key, 0)))?.state).toBe('resumed');
		expect(await store.decide(itemId(key, 1), { reviewer: 'cy', verdict: 'approve' }, T0)).toMatchObject({ ok: false, reason: 'already_decided' });
		expect(await store.decide('no-such-item', { reviewer: 'cy', verdict: 'approve' }, T0)).toMatchObject({ ok: false, reason: 'not_found' });
	});

	it('four eyes: the same reviewer twice is refused, a second reviewer decides, and the first approval stays hidden from others', async () => {
		const key = `${prefix}e4:node:1`;
		await store.addRound(round(key), items(1, { approvalsRequired: 2 }));
		const id = itemId(key, 0);
		await store.claim(id, 'ada', T0, 60_000);
		expect(await store.decide(id, { reviewer: 'ada', verdict: 'approve' }, T0)).toMatchObject({ ok: true, final: false, item: { state: 'waiting', claimedBy: null } });
		expect(await store.decide(id, { reviewer: 'ADA', verdict: 'approve' }, T0)).toMatchObject({ ok: false, reason: 'same_reviewer' });
		const stored = await store.get(id);
		expect(publicItem(stored!, 'bob').approvals).toBeUndefined();
		expect(publicItem(stored!, 'ada').approvals).toHaveLength(1);
		expect((await store.readyRounds(INBOX)).map((r) => r.roundKey)).not.toContain(key);
		expect(await store.decide(id, { reviewer: 'bob', verdict: 'approve' }, T0)).toMatchObject({ ok: true, final: true, item: { state: 'decided', verdict: 'approve' } });
		expect((await store.get(id))?.approvals.map((a) => a.reviewer)).toEqual(['ada', 'bob']);
		expect((await store.readyRounds(INBOX)).map((r) => r.roundKey)).toContain(key);
	});

	it('past the final time limit an item is expired, and a decision then is answered "expired"; due items are escalated once', async () => {
		const key = `${prefix}e5:node:1`;
		await store.addRound(round(key, { expiresAt: at(30).toISOString() }), [
			{ itemIndex: 0, view: {}, dueAt: at(10).toISOString() },
			{ itemIndex: 1, view: {}, dueAt: at(20).toISOString() },
		]);
		expect(await store.decide(itemId(key, 0), { reviewer: 'ada', verdict: 'approve' }, at(31))).toMatchObject({ ok: false, reason: 'expired' });
		const escalated = (await store.escalateDue(INBOX, at(15))).filter((i) => i.roundKey === key);
		expect(escalated.map((i) => i.itemIndex)).toEqual([0]);
		expect((await store.escalateDue(INBOX, at(15))).filter((i) => i.roundKey === key)).toEqual([]);
		// once escalated, the escalation group sees it too
		expect((await store.list({ inbox: INBOX, groups: ['leads'] })).filter((i) => i.roundKey === key).map((i) => i.itemIndex)).toEqual([0]);
		expect((await store.list({ inbox: INBOX, dueBefore: at(15).toISOString() })).filter((i) => i.roundKey === key).map((i) => i.itemIndex)).toEqual([0]);
		const expired = (await store.expire(INBOX, at(31))).filter((i) => i.roundKey === key);
		expect(expired.map((i) => i.itemIndex).sort()).toEqual([0, 1]);
		expect(await store.decide(itemId(key, 1), { reviewer: 'ada', verdict: 'approve' }, at(31))).toMatchObject({ ok: false, reason: 'expired' });
		expect(await store.claim(itemId(key, 1), 'ada', at(31), 1000)).toMatchObject({ ok: false, reason: 'expired' });
	});

	it('a race: twelve reviewers decide one item at the same moment, each through its own store, and exactly one wins', async () => {
		const key = `${prefix}e6:node:1`;
		await store.addRound(round(key), items(1));
		const racers = Array.from({ length: 12 }, () => make());
		try {
			const outcomes = await Promise.all(
				racers.map((racer, i) => racer.decide(itemId(key, 0), { reviewer: `reviewer${i}`, verdict: i % 2 ? 'approve' : 'reject' }, T0)),
			);
			const winners = outcomes.filter((o) => o.ok);
			expect(winners).toHaveLength(1);
			expect(outcomes.filter((o) => !o.ok && o.reason === 'already_decided')).toHaveLength(11);
			const stored = await store.get(itemId(key, 0));
			expect(stored?.approvals).toHaveLength(1);
			expect(stored?.approvals[0].reviewer).toBe((winners[0] as { item: { approvals: Array<{ reviewer: string }> } }).item.approvals[0].reviewer);
			// one resumer at a time takes the round's resume, until it ends its turn
			const taken = await Promise.all(racers.map((racer) => racer.beginResume(key, T0, 60_000)));
			expect(taken.filter(Boolean)).toHaveLength(1);
			const holder = racers[taken.indexOf(true)];
			expect(await store.beginResume(key, at(0.5), 60_000)).toBe(false);
			// a failed try: nobody tries again before its retry time
			await holder.endResume(key, at(1));
			expect(await store.beginResume(key, at(0.75), 60_000)).toBe(false);
			expect(await store.beginResume(key, at(1), 60_000)).toBe(true);
			// and only one of several resumers moves the round to resumed
			const moved = await Promise.all(racers.map((racer) => racer.markResumed(key)));
			expect(moved.filter(Boolean)).toHaveLength(1);
			await store.endResume(key);
			expect(await store.beginResume(key, at(10), 60_000)).toBe(false);
		} finally {
			await Promise.all(racers.map((racer) => racer.close()));
		}
	});

	it('a resumer killed while holding its turn (SIGKILL) leaves nothing to wait for: the next caller takes the round at once', async () => {
		const key = `${prefix}e7:node:1`;
		await store.addRound(round(key), items(1));
		await store.decide(itemId(key, 0), { reviewer: 'ada', verdict: 'approve' }, T0);
		// another process takes the turn and is killed before it ends it
		const child = spawn(process.execPath, ['-r', './scripts/register-ts.js', '-e', takeTurnScript(name, key)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
		const exited = new Promise((resolve) => child.on('exit', resolve));
		try {
			await new Promise<void>((resolve, reject) => {
				let out = '';
				child.stdout!.on('data', (chunk: Buffer) => {
					out += chunk.toString();
					if (out.includes('taken')) resolve();
					if (out.includes('refused')) reject(new Error('the child could not take the turn'));
				});
				child.on('exit', (code) => reject(new Error(`the child exited (${code}) before taking the turn: ${out}`)));
			});
			// alive: its turn holds
			expect(await store.beginResume(key, at(0.1), 60_000)).toBe(false);
		} finally {
			child.kill('SIGKILL');
			await exited;
		}
		// gone: well inside its 60 s lease, the round is taken again (PostgreSQL may take a moment to see the connection closed)
		let taken = false;
		for (let i = 0; i < 100 && !taken; i++) {
			taken = await store.beginResume(key, at(0.2), 60_000);
			if (!taken) await new Promise((resolve) => setTimeout(resolve, 100));
		}
		expect(taken).toBe(true);
		expect(await store.markResumed(key)).toBe(true);
		await store.endResume(key);
	});
});

const REPO = join(__dirname, '..', '..');

/** A separate process that opens the same store, takes the round's turn, says so and waits to be killed. */
function takeTurnScript(storeName: string, key: string): string {
	const open = storeName.startsWith('file')
		? `new (require('./shared/reviewStore/fileStore').FileReviewStore)(${JSON.stringify(INBOX)}, ${JSON.stringify(folder)})`
		: `new (require('./shared/reviewStore/pgStore').PgReviewStore)(${JSON.stringify(connection)}, ${JSON.stringify(table)})`;
	return `const store = ${open};
store.beginResume(${JSON.stringify(key)}, new Date(${T0.getTime()}), 60000).then((ok) => { console.log(ok ? 'taken' : 'refused'); setInterval(() => undefined, 1000); });`;
}
