/**
 * The Review Inbox's API logic over a real (file) store: group access, decisions checked with the checkpoint's
 * own rules (a corrected answer must fit the step's schema), refusals with a reason, bulk approval, audit
 * events; what n8n's answers to a resume call mean; and Human Checkpoint versions 1 and 2 never review in an
 * inbox, whatever their parameters say.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';

import { labelOf, roundKeyOf, usesInbox } from '../../nodes/HumanCheckpoint/inbox';
import { toReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import { bulkApprove, claimItem, decideItem, listItems, listFilter } from '../../nodes/ReviewInbox/api';
import type { Identity } from '../../nodes/ReviewInbox/identity';
import { renderInboxPage } from '../../nodes/ReviewInbox/page';
import { escalateAndNotify } from '../../nodes/ReviewInbox/digest';
import { finishDecidedRounds, resumeOutcome } from '../../nodes/ReviewInbox/resume';
import { FileReviewStore } from '../../shared/reviewStore/fileStore';
import { itemId } from '../../shared/reviewStore/types';

const folder = mkdtempSync(join(tmpdir(), 'review-inbox-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const now = new Date('2026-12-04T10:00:00Z');
const ada: Identity = { name: 'ada', via: 'password', groups: ['support'] };
const bob: Identity = { name: 'bob', via: 'header', groups: ['finance'] };

function ticket(label: string) {
	return {
		ticket: `please ${label} my order`,
		ai: {
			latest: 'classify',
			classify: {
				decisionId: 'd',
				step: 'classify',
				answer: label,
				answerSchema: { type: 'string', enum: ['refund', 'billing', 'sales'] },
				confidence: 0.6,
				confidenceMethod: 'logprobs',
				reason: 'r',
				evidence: ['please'],
				needsReview: true,
				provider: 'openai',
				model: 'm',
				usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
				costUsd: 0,
				attempts: 1,
				latencyMs: 1,
				promptHash: 'h',
				at: now.toISOString(),
			},
		},
	};
}

async function seed(store: FileReviewStore, key: string, labels: string[], group: string | null) {
	const views = labels.map((label, i) => toReviewItem(ticket(label), i, '', 'auto'));
	await store.addRound(
		{ roundKey: key, inbox: 'unit', workflowId: 'w', workflowName: 'W', executionId: key, nodeName: 'Human Checkpoint', resumeUrl: `http://x/${key}?signature=s`, createdAt: now.toISOString(), group },
		views.map((view, i) => ({ itemIndex: i, view: { ...view, ai: ticket(labels[i]).ai } as unknown as Record<string, unknown>, label: labelOf(view), group })),
	);
}

describe('Review Inbox API', () => {
	const store = new FileReviewStore('unit', folder);

	it('shows a reviewer only the items of their groups, labelled, never with a resume link', async () => {
		await seed(store, 'r1', ['refund', 'sales'], 'support');
		await seed(store, 'r2', ['billing'], 'finance');
		const forAda = await listItems(store, listFilter('unit', {}, ada, now), ada);
		expect(forAda.map((i) => i.id)).toEqual([itemId('r1', 0), itemId('r1', 1)]);
		expect(forAda.map((i) => i.label)).toEqual(['refund', 'sales']);
		expect((await listItems(store, listFilter('unit', {}, bob, now), bob)).map((i) => i.id)).toEqual([itemId('r2', 0)]);
		expect(JSON.stringify(forAda)).not.toContain('signature');
		expect((await listItems(store, listFilter('unit', { label: 'sales' }, ada, now), ada)).map((i) => i.id)).toEqual([itemId('r1', 1)]);
		const events: IDataObject[] = [];
		expect(await claimItem(store, itemId('r2', 0), ada, now, 60_000, false, events)).toMatchObject({ status: 403, body: { reason: 'forbidden' } });
		expect(await decideItem(store, itemId('r2', 0), { decision: 'approve' }, ada, now, events)).toMatchObject({ status: 403 });
		expect(events).toEqual([]);
	});

	it('checks a correction against the step\'s schema before storing it, and records an audit-ready event', async () => {
		const events: IDataObject[] = [];
		const wrong = await decideItem(store, itemId('r1', 0), { decision: 'approve', answer: 'cancel' }, ada, now, events);
		expect(wrong.status).toBe(400);
		expect(String(wrong.body.message)).toMatch(/ai\.classify\.answer/);
		expect((await store.get(itemId('r1', 0)))?.state).toBe('waiting');
		expect(await decideItem(store, itemId('r1', 0), { decision: 'maybe' }, ada, now, events)).toMatchObject({ status: 400 });
		const ok = await decideItem(store, itemId('r1', 0), { decision: 'approve', answer: 'billing', comment: 'billing it is' }, ada, now, events);
		expect(ok).toMatchObject({ status: 200, body: { status: 'ok', final: true } });
		expect(events).toHaveLength(1);
		expect(events[0]).toMatchObject({
			inbox: { event: 'decided', reviewer: 'ada', via: 'password', executionId: 'r1', itemIndex: 0 },
			review: { decision: 'edited', reviewer: 'ada', comment: 'billing it is', edits: { 'ai.classify.answer': { from: 'refund', to: 'billing' } } },
			ai: { latest: 'classify' },
		});
		const again = await decideItem(store, itemId('r1', 0), { decision: 'reject' }, ada, now, events);
		expect(again).toMatchObject({ status: 409, body: { status: 'refused', reason: 'already_decided', message: 'This item has already been decided.' } });
	});

	it('bulk approval answers per item, and a decided pause is resumed once through its link', async () => {
		const events: IDataObject[] = [];
		const answer = await bulkApprove(store, [itemId('r1', 1), itemId('r1', 0), 'nope'], undefined, ada, now, events);
		expect(answer.body).toMatchObject({ status: 'partial', approved: 1, refused: 2 });
		expect((answer.body.results as IDataObject[]).map((r) => r.reason ?? r.status)).toEqual(['ok', 'already_decided', 'not_found']);
		expect(await bulkApprove(store, 'x', undefined, ada, now, events)).toMatchObject({ status: 400 });
		const calls: string[] = [];
		const resumed = await finishDecidedRounds(store, 'unit', async (options) => {
			calls.push(String(options.url));
			return { statusCode: 200, body: { status: 'ok', resumed: true } };
		}, now);
		expect(calls).toEqual(['http://x/r1?signature=s']);
		expect(resumed).toMatchObject([{ event: 'resumed', outcome: 'resumed', executionId: 'r1', items: 2 }]);
		expect(JSON.stringify(resumed)).not.toContain('signature');
		expect(await finishDecidedRounds(store, 'unit', async () => ({ statusCode: 500 }), now)).toEqual([]);
		expect((await store.get(itemId('r1', 1)))?.state).toBe('resumed');
	});

	it('reads n8n\'s answers to a resume call', () => {
		expect(resumeOutcome({ statusCode: 200, body: { status: 'ok', resumed: true } })).toBe('resumed');
		expect(resumeOutcome({ statusCode: 409, body: { message: 'The execution "5" is running already.' } })).toBe('already');
		expect(resumeOutcome({ statusCode: 404 })).toBe('already');
		expect(resumeOutcome({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html>' })).toBe('already');
		expect(resumeOutcome({ statusCode: 502 })).toBe('retry');
		expect(resumeOutcome({ statusCode: 400, body: { status: 'refused' } })).toBe('retry');
	});

	it('the page embeds the items as inert JSON and runs only its own nonce\'d script', () => {
		const html = renderInboxPage({ reviewer: 'ada<x>', via: 'password', items: [{ view: { title: '</script><script>alert(1)</script>' } }], path: '/webhook/i', nonce: 'abc', now: now.toISOString() });
		expect(html).not.toContain('</script><script>alert(1)');
		expect(html).toContain('ada&lt;x&gt;');
		expect(html.match(/<script nonce="abc">/g)).toHaveLength(1);
		// the page's own script is valid JavaScript (a syntax error would leave the list empty)
		const script = html.split('<script nonce="abc">')[1].split('</script>')[0];
		expect(() => new Function(script)).not.toThrow();
	});
});

describe('Human Checkpoint versions', () => {
	it('versions 1 and 2 never review in an inbox, whatever their parameters say; version 3 does when asked', () => {
		expect(usesInbox({ typeVersion: 1 }, 'inbox')).toBe(false);
		expect(usesInbox({ typeVersion: 2 }, 'inbox')).toBe(false);
		expect(usesInbox({ typeVersion: 3 }, 'link')).toBe(false);
		expect(usesInbox({ typeVersion: 3 }, 'inbox')).toBe(true);
		expect(roundKeyOf('12', 'node-a', '2026-12-04T10:00:00.000Z')).toBe('12.node-a.1796378400000');
	});
});

describe('escalation digests', () => {
	it('escalates an overdue item once and sends one digest per group, with the inbox address and no resume link', async () => {
		const store = new FileReviewStore('digest', folder);
		await store.addRound(
			{ roundKey: 'd1', inbox: 'digest', workflowId: 'w', workflowName: 'Refunds', executionId: 'd1', nodeName: 'HC', resumeUrl: 'http://x/d1?signature=s', createdAt: now.toISOString(), group: 'support', escalationGroup: 'leads' },
			[
				{ itemIndex: 0, view: { title: 'Refund 42' }, dueAt: new Date(now.getTime() + 60_000).toISOString() },
				{ itemIndex: 1, view: { title: 'Refund 43' }, dueAt: new Date(now.getTime() + 3_600_000).toISOString() },
			],
		);
		const later = new Date(now.getTime() + 120_000);
		const sent: IDataObject[] = [];
		const events = await escalateAndNotify(await store.escalateDue('digest', later), 'http://n8n/webhook/inbox', 'http://hooks/secret-path', async (options) => {
			sent.push(options.body as IDataObject);
		});
		expect(sent).toHaveLength(1);
		expect(sent[0]).toMatchObject({ group: 'leads', inboxUrl: 'http://n8n/webhook/inbox', items: [{ id: itemId('d1', 0), title: 'Refund 42', originalGroup: 'support' }] });
		expect(String(sent[0].text)).toMatch(/^1 overdue item escalated to leads/);
		expect(JSON.stringify(sent)).not.toContain('signature');
		expect(events).toEqual([{ inbox: { event: 'escalated', group: 'leads', items: [itemId('d1', 0)], notified: true } }]);
		// once escalated, not again; the lead now sees it
		expect(await store.escalateDue('digest', later)).toEqual([]);
		const lead: Identity = { name: 'lee', via: 'password', groups: ['leads'] };
		expect((await listItems(store, listFilter('digest', {}, lead, later), lead)).map((i) => i.id)).toEqual([itemId('d1', 0)]);
		// a failing notification is reported without its URL
		await store.addRound(
			{ roundKey: 'd2', inbox: 'digest', workflowId: 'w', workflowName: 'W', executionId: 'd2', nodeName: 'HC', resumeUrl: 'u', createdAt: now.toISOString(), group: null },
			[{ itemIndex: 0, view: {}, dueAt: now.toISOString() }],
		);
		const failed = await escalateAndNotify(await store.escalateDue('digest', later), 'http://n8n/webhook/inbox', 'http://hooks/secret-path', async () => {
			throw new Error('connect ECONNREFUSED http://hooks/secret-path');
		});
		expect(failed).toEqual([{ inbox: { event: 'escalated', group: 'everyone', items: [itemId('d2', 0)], notified: 'connect ECONNREFUSED <notification URL>' } }]);
	});
});
