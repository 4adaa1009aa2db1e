/**
 * The Review Inbox in a real n8n (one n8n for the file). Three workflows with Human Checkpoints (version 3,
 * Review In: Review Inbox) pause 12 executions with 30 items between them; an active workflow with the
 * Review Inbox node (→ Audit Log) serves the page and the API. Proves: reviewer A signs in with the password
 * list and sees all 30; A claims an item and B cannot decide it; A bulk-approves 10 items and those five
 * executions finish with the items on Approved; an edit reaches the next node; four eyes refuses A twice and
 * passes with A and B; the trusted header's identity (from an allowed proxy address) is what review.reviewer
 * and the audit records show; a GET never decides; a repeated decision is answered "already decided".
 * Then Debian's Chromium at a phone's width (390 px): B signs in on the page, filters, opens an item and
 * approves it and the next one; that execution finishes. (The keyboard shortcuts are not proven yet.) Screenshots of the
 * page (desktop and phone) go to the screenshot folder (test/e2e/.run/screenshots, or N8N_E2E_SCREENSHOTS).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { reviewSchema } from '../../shared/contract';
import { hashPassword } from '../../nodes/ReviewInbox/identity';
import { launchBrowser, PHONE, DESKTOP, UI_TIMEOUT, type GovernedBrowser } from './browser';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

jest.setTimeout(15 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const suffix = Date.now().toString(36);
const INBOX_PATH = `inbox-e2e-${suffix}`;
const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-audit-'));
const AUDIT_FILE = path.join(auditDir, 'inbox.jsonl');
const PASSWORDS = { ada: 'ada-pass-1', bob: 'bob-pass-2' };

let uid = 0;
const id = () => `1b0c0000-0000-4000-8000-${String(++uid).padStart(12, '0')}`;

/** Webhook → Code (n tickets with a fake classify result) → Human Checkpoint v3 in the inbox → NoOps. */
function checkpointWorkflow(name: string, hookPath: string, count: number, checkpoint: Record<string, unknown>) {
	const code = `const n = ${count};
const labels = ['billing', 'refund', 'sales'];
const run = $input.first().json.body?.run ?? 0;
return Array.from({ length: n }, (_, i) => ({ json: { id: i + 1, run, ticket: 'Ticket ' + run + '.' + (i + 1) + ': please refund invoice ' + (40 + i), ai: { latest: 'classify', classify: {
  decisionId: 'dec-' + run + '-' + i, step: 'classify', answer: labels[i % 3], confidence: 0.5 + i / 10, confidenceMethod: 'logprobs',
  reason: 'because', evidence: ['please refund invoice'], needsReview: true, provider: 'openai', model: 'fake',
  usage: { inputTokens: 10, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0.0001,
  attempts: 1, latencyMs: 5, promptHash: 'sha256:x', at: '2026-01-01T00:00:00.000Z' } } } }));`;
	const nodes = [
		{ id: id(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: id(), parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'onReceived', options: {} } },
		{ id: id(), name: 'Fake Classify', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
		{
			id: id(),
			name: 'Human Checkpoint',
			type: 'n8n-nodes-governed-ai.humanCheckpoint',
			typeVersion: 3,
			position: [400, 0],
			webhookId: id(),
			parameters: { operation: 'sendAndWait', reviewIn: 'inbox', inboxName: `e2e-${suffix}`, fieldsToShow: 'ticket', ...checkpoint },
		},
		{ id: id(), name: 'No Response', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, -150], parameters: {} },
		{ id: id(), name: 'Approved', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 0], parameters: {} },
		{ id: id(), name: 'Rejected', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 150], parameters: {} },
	];
	return {
		name,
		nodes,
		connections: {
			Webhook: { main: [[{ node: 'Fake Classify', type: 'main', index: 0 }]] },
			'Fake Classify': { main: [[{ node: 'Human Checkpoint', type: 'main', index: 0 }]] },
			'Human Checkpoint': {
				main: [
					[{ node: 'No Response', type: 'main', index: 0 }],
					[{ node: 'Approved', type: 'main', index: 0 }],
					[{ node: 'Rejected', type: 'main', index: 0 }],
				],
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

function inboxWorkflow() {
	return {
		name: 'Review Inbox e2e',
		nodes: [
			{
				id: id(),
				name: 'Review Inbox',
				type: 'n8n-nodes-governed-ai.reviewInbox',
				typeVersion: 1,
				position: [0, 0],
				webhookId: id(),
				parameters: { path: INBOX_PATH, inboxName: `e2e-${suffix}` },
				credentials: { governedAiReviewers: { id: 'inboxReviewers1', name: 'Reviewers' } },
			},
			{
				id: id(),
				name: 'Audit Log',
				type: 'n8n-nodes-governed-ai.auditLog',
				typeVersion: 1,
				position: [250, 0],
				parameters: { operation: 'append', sink: 'file', stream: 'inbox', filePath: AUDIT_FILE, includeInput: true },
			},
		],
		connections: { 'Review Inbox': { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

describe('Review Inbox in a real n8n', () => {
	let n8n: N8n;
	const workflowIds: Record<string, string> = {};
	let inboxUrl: string;
	const cookies: Record<string, string> = {};

	async function api(who: string | { header: string }, body?: Record<string, unknown>, query = ''): Promise<{ status: number; json: any }> {
		const headers: Record<string, string> = { accept: 'application/json' };
		if (typeof who === 'string') headers.cookie = cookies[who];
		else headers['x-forwarded-user'] = who.header;
		if (body) headers['content-type'] = 'application/json';
		const res = await fetch(`${inboxUrl}${query}`, { method: body ? 'POST' : 'GET', headers, body: body ? JSON.stringify(body) : undefined });
		const text = await res.text();
		let json: any;
		try {
			json = JSON.parse(text);
		} catch {
			throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 500)}\n${n8n.logs().slice(-5000)}`);
		}
		return { status: res.status, json };
	}

	async function items(who: string | { header: string }): Promise<any[]> {
		const answer = await api(who, undefined, '?api=items');
		expect(answer.status).toBe(200);
		return answer.json.items;
	}

	async function signIn(name: 'ada' | 'bob'): Promise<void> {
		const res = await fetch(inboxUrl, {
			method: 'POST',
			redirect: 'manual',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ name, password: PASSWORDS[name] }).toString(),
		});
		expect(res.status).toBe(303);
		const set = res.headers.get('set-cookie') ?? '';
		expect(set).toMatch(/HttpOnly; SameSite=Strict/);
		cookies[name] = set.split(';')[0];
	}

	async function startExecutions(workflow: string, hookPath: string, runs: number[]): Promise<void> {
		for (const run of runs) {
			let res = await n8n.webhook(hookPath, { run });
			for (let i = 0; res.status === 404 && i < 60; i++) {
				await sleep(250);
				res = await n8n.webhook(hookPath, { run });
			}
			expect(res.status).toBe(200);
		}
		// every run of this workflow is waiting
		const deadline = Date.now() + 180_000;
		for (;;) {
			const all = (await n8n.executions(workflowIds[workflow])).filter((e) => e.status === 'waiting');
			if (all.length >= runs.length) return;
			if (Date.now() > deadline) throw new Error(`${workflow}: ${all.length} of ${runs.length} executions waiting\n${n8n.logs().slice(-5000)}`);
			await sleep(500);
		}
	}

	async function waitFinished(executionId: string): Promise<any> {
		return await n8n.waitForExecution((e) => String(e.id) === String(executionId) && e.status === 'success', 180_000);
	}

	beforeAll(async () => {
		n8n = await sharedN8n();
		await n8n.importCredentials([
			{
				id: 'inboxReviewers1',
				name: 'Reviewers',
				type: 'governedAiReviewers',
				data: {
					reviewers: `ada: ${hashPassword(PASSWORDS.ada)}\nbob: ${hashPassword(PASSWORDS.bob)}`,
					groups: 'support: ada, bob, carol\nfinance: ada, bob',
					sessionSecret: 'e2e-session-secret-0123456789',
					trustedHeader: 'X-Forwarded-User',
					trustedProxies: '127.0.0.1',
				},
			},
		]);
		const flows = {
			triage: checkpointWorkflow(`Inbox triage ${suffix}`, `inbox-triage-${suffix}`, 3, { reviewerGroup: 'support', fourEyes: 'never' }),
			refunds: checkpointWorkflow(`Inbox refunds ${suffix}`, `inbox-refunds-${suffix}`, 2, { reviewerGroup: 'finance', fourEyes: 'never' }),
			payouts: checkpointWorkflow(`Inbox payouts ${suffix}`, `inbox-payouts-${suffix}`, 3, { reviewerGroup: 'finance', fourEyes: 'always' }),
		};
		for (const [key, workflow] of Object.entries(flows)) {
			workflowIds[key] = await n8n.importWorkflow(workflow);
			await n8n.activate(workflowIds[key]);
		}
		const inboxId = await n8n.importWorkflow(inboxWorkflow());
		await n8n.activate(inboxId);
		inboxUrl = `${n8n.baseUrl.replace(/\/$/, '')}/webhook/${INBOX_PATH}`;
		// 4 × 3 + 6 × 2 + 2 × 3 = 30 items from 12 executions
		await startExecutions('triage', `inbox-triage-${suffix}`, [1, 2, 3, 4]);
		await startExecutions('refunds', `inbox-refunds-${suffix}`, [1, 2, 3, 4, 5, 6]);
		await startExecutions('payouts', `inbox-payouts-${suffix}`, [1, 2]);
		// the inbox's webhook is registered shortly after activation
		for (let i = 0; i < 60; i++) {
			const res = await fetch(inboxUrl);
			if (res.status !== 404) break;
			await sleep(250);
		}
	});
	afterAll(async () => {
		await n8n?.stop();
		fs.rmSync(auditDir, { recursive: true, force: true });
	});

	it('A signs in with the password list and sees all 30 items of 12 executions, sorted, without any resume link', async () => {
		const anonymous = await fetch(`${inboxUrl}?api=items`, { headers: { accept: 'application/json' } });
		expect(anonymous.status).toBe(401);
		const page = await (await fetch(inboxUrl)).text();
		expect(page).toContain('name="password"');
		const wrong = await fetch(inboxUrl, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ada&password=nope' });
		expect(wrong.status).toBe(401);
		await signIn('ada');
		await signIn('bob');
		const all = await items('ada');
		expect(all).toHaveLength(30);
		expect(new Set(all.map((i) => i.executionId)).size).toBe(12);
		expect(new Set(all.map((i) => i.workflowId))).toEqual(new Set(Object.values(workflowIds)));
		const raw = JSON.stringify(all);
		expect(raw).not.toMatch(/signature|webhook-waiting|resumeUrl/);
		expect(all[0].view).toMatchObject({ confidenceMethod: 'logprobs', reason: 'because', evidence: ['please refund invoice'] });
		const html = await (await fetch(inboxUrl, { headers: { cookie: cookies.ada } })).text();
		expect(html).toContain('Signed in as <b id="me">ada</b>');
		expect(html).not.toMatch(/webhook-waiting/);
	});

	it('a GET never decides, whatever its query says', async () => {
		const before = await items('ada');
		const target = before[0];
		for (const query of [`?action=decide&id=${encodeURIComponent(target.id)}&decision=approve`, `?api=item&id=${encodeURIComponent(target.id)}`, '']) {
			await fetch(`${inboxUrl}${query}`, { headers: { cookie: cookies.ada } });
		}
		const after = await items('ada');
		expect(after).toHaveLength(30);
		expect(after.find((i) => i.id === target.id)).toMatchObject({ state: 'waiting', verdict: null });
	});

	it('A claims an item and B cannot claim or decide it; after A releases it, B can claim it', async () => {
		const triage = (await items('ada')).filter((i) => i.workflowId === workflowIds.triage);
		const item = triage[0];
		expect((await api('ada', { action: 'claim', id: item.id })).json).toMatchObject({ status: 'ok', item: { claimedBy: 'ada' } });
		const refused = await api('bob', { action: 'decide', id: item.id, decision: 'approve' });
		expect(refused.status).toBe(409);
		expect(refused.json).toMatchObject({ status: 'refused', reason: 'claimed', claimedBy: 'ada' });
		expect((await api('bob', { action: 'claim', id: item.id })).json.reason).toBe('claimed');
		expect((await api('ada', { action: 'release', id: item.id })).json.status).toBe('ok');
		expect((await api('bob', { action: 'claim', id: item.id })).json).toMatchObject({ status: 'ok', item: { claimedBy: 'bob' } });
		expect((await api('bob', { action: 'release', id: item.id })).json.status).toBe('ok');
	});

	it('A bulk-approves 10 items: their five executions finish with the items on Approved; a repeat is "already decided"', async () => {
		const refunds = (await items('ada')).filter((i) => i.workflowId === workflowIds.refunds);
		const executions = [...new Set(refunds.map((i) => i.executionId))].slice(0, 5);
		const chosen = refunds.filter((i) => executions.includes(i.executionId));
		expect(chosen).toHaveLength(10);
		const answer = await api('ada', { action: 'bulkApprove', ids: chosen.map((i) => i.id), comment: 'bulk' });
		expect(answer.json).toMatchObject({ status: 'ok', approved: 10, refused: 0 });
		for (const executionId of executions) {
			const execution = await waitFinished(executionId);
			const outputs = nodeOutputs(execution, 'Human Checkpoint');
			expect(outputs[0]).toEqual([]);
			expect(outputs[1]).toHaveLength(2);
			expect(outputs[2]).toEqual([]);
			for (const json of outputs[1]) expect(reviewSchema.parse(json.review)).toMatchObject({ decision: 'approved', reviewer: 'ada', comment: 'bulk' });
			expect(nodeOutputs(execution, 'Approved')[0]).toHaveLength(2);
		}
		const again = await api('bob', { action: 'decide', id: chosen[0].id, decision: 'reject' });
		expect(again.status).toBe(409);
		expect(again.json).toMatchObject({ status: 'refused', reason: 'already_decided' });
		expect(await items('ada')).toHaveLength(20);
	});

	it('an edit reaches the next node, and a rejection goes to Rejected', async () => {
		const triage = (await items('ada')).filter((i) => i.workflowId === workflowIds.triage);
		const executionId = triage[0].executionId;
		const mine = triage.filter((i) => i.executionId === executionId).sort((a, b) => a.itemIndex - b.itemIndex);
		expect(mine).toHaveLength(3);
		const invalid = await api('ada', { action: 'decide', id: mine[0].id, decision: 'approve', edits: { label: 'refund' } });
		expect(invalid.status).toBe(400);
		expect(invalid.json).toMatchObject({ status: 'refused', reason: 'invalid' });
		expect((await api('ada', { action: 'decide', id: mine[0].id, decision: 'approve', answer: 'refund', comment: 'it is a refund' })).json.status).toBe('ok');
		expect((await api('ada', { action: 'decide', id: mine[1].id, decision: 'approve' })).json.status).toBe('ok');
		const last = await api('ada', { action: 'decide', id: mine[2].id, decision: 'reject', comment: 'spam' });
		expect(last.json).toMatchObject({ status: 'ok', final: true, resumed: 1 });
		const execution = await waitFinished(executionId);
		const approved = nodeOutputs(execution, 'Approved')[0];
		expect(approved.map((j: any) => j.id)).toEqual([1, 2]);
		expect(approved[0].ai.classify.answer).toBe('refund');
		expect(approved[0].review).toMatchObject({ decision: 'edited', reviewer: 'ada', comment: 'it is a refund', edits: { 'ai.classify.answer': { from: 'billing', to: 'refund' } } });
		expect(nodeOutputs(execution, 'Rejected')[0]).toMatchObject([{ id: 3, review: { decision: 'rejected', reviewer: 'ada', comment: 'spam' } }]);
	});

	it('four eyes: A approving twice is refused, B does not see A\'s approval, and A with B pass', async () => {
		const payouts = (await items('ada')).filter((i) => i.workflowId === workflowIds.payouts);
		const executionId = payouts[0].executionId;
		const mine = payouts.filter((i) => i.executionId === executionId);
		expect(mine).toHaveLength(3);
		for (const item of mine) {
			expect(item.approvalsRequired).toBe(2);
			expect((await api('ada', { action: 'decide', id: item.id, decision: 'approve' })).json).toMatchObject({ status: 'ok', final: false });
			const twice = await api('ada', { action: 'decide', id: item.id, decision: 'approve' });
			expect(twice.status).toBe(403);
			expect(twice.json.reason).toBe('same_reviewer');
		}
		const seenByBob = (await items('bob')).filter((i) => i.executionId === executionId);
		expect(seenByBob).toHaveLength(3);
		for (const item of seenByBob) expect(item.approvals).toBeUndefined();
		expect(JSON.stringify(seenByBob)).not.toContain('"ada"');
		for (const item of mine) expect((await api('bob', { action: 'decide', id: item.id, decision: 'approve' })).json).toMatchObject({ status: 'ok', final: true });
		const execution = await waitFinished(executionId);
		const approved = nodeOutputs(execution, 'Approved')[0];
		expect(approved).toHaveLength(3);
		for (const json of approved) expect(json.review.reviewer).toBe('ada, bob');
	});

	it('the trusted header from an allowed proxy address names the reviewer in review.reviewer and in the audit records', async () => {
		const triage = (await items({ header: 'carol' })).filter((i) => i.workflowId === workflowIds.triage);
		const executionId = triage[0].executionId;
		const mine = triage.filter((i) => i.executionId === executionId);
		for (const item of mine) expect((await api({ header: 'carol' }, { action: 'decide', id: item.id, decision: 'approve' })).json.status).toBe('ok');
		const execution = await waitFinished(executionId);
		for (const json of nodeOutputs(execution, 'Approved')[0]) expect(json.review).toMatchObject({ decision: 'approved', reviewer: 'carol' });
		// carol is in support only: the finance items are not hers
		expect((await items({ header: 'carol' })).every((i) => i.group === 'support')).toBe(true);
		// the Audit Log after the inbox recorded every decision with the signed-in identity
		const deadline = Date.now() + 60_000;
		let records: any[] = [];
		while (Date.now() < deadline) {
			records = fs.existsSync(AUDIT_FILE) ? fs.readFileSync(AUDIT_FILE, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
			if (records.filter((r) => r.review?.reviewer === 'carol').length >= 3) break;
			await sleep(500);
		}
		const decided = records.filter((r) => r.review);
		expect(decided.filter((r) => r.review.reviewer === 'carol')).toHaveLength(3);
		expect(decided.filter((r) => r.review.reviewer === 'ada').length).toBeGreaterThanOrEqual(13);
		expect(decided.filter((r) => r.review.reviewer === 'ada, bob')).toHaveLength(3);
		expect(records.some((r) => r.input?.inbox?.event === 'claimed' && r.input.inbox.reviewer === 'ada')).toBe(true);
		expect(records.some((r) => r.input?.inbox?.event === 'first-approval' && r.input.inbox.reviewer === 'ada')).toBe(true);
		expect(records.some((r) => r.input?.inbox?.event === 'resumed')).toBe(true);
		expect(fs.readFileSync(AUDIT_FILE, 'utf8')).not.toMatch(/signature=|scrypt:|e2e-session-secret/);
	});

	it('in Chromium at 390 px: B signs in, filters, opens an item and approves it, then the next one', async () => {
		const browser: GovernedBrowser = await launchBrowser();
		try {
			const page = await browser.page({ viewport: PHONE });
			page.setDefaultTimeout(UI_TIMEOUT);
			await page.goto(inboxUrl);
			await page.fill('#name', 'bob');
			await page.fill('#password', PASSWORDS.bob);
			await page.click('button[type=submit]');
			await page.waitForSelector('#list li[data-id]');
			expect(await page.textContent('#me')).toBe('bob');
			const refunds = (await items('bob')).filter((i) => i.workflowId === workflowIds.refunds);
			expect(refunds).toHaveLength(2);
			const executionId = refunds[0].executionId;
			await page.selectOption('#f-workflow', workflowIds.refunds);
			expect(await page.locator('#list li[data-id]').count()).toBe(2);
			// nothing wider than the phone
			expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
			await browser.screenshot(page, 'inbox-phone');
			await page.locator('#list li[data-id]').first().click();
			await page.click('#approve');
			// (polled from here: the page's CSP forbids the eval behind waitForFunction)
			for (let i = 0; i < 240 && (await page.locator('#list li[data-id]').count()) !== 1; i++) await sleep(250);
			expect(await page.locator('#list li[data-id]').count()).toBe(1);
			expect(await page.textContent('#msg')).toContain('Decision recorded');
			await page.locator('#list li[data-id]').first().click();
			await page.click('#approve');
			// the filter stays on the workflow once its last item is decided: nothing left to show
			await page.waitForSelector('#list li.empty');
			const execution = await waitFinished(executionId);
			const approved = nodeOutputs(execution, 'Approved')[0];
			expect(approved).toHaveLength(2);
			for (const json of approved) expect(json.review).toMatchObject({ decision: 'approved', reviewer: 'bob' });
			const desktop = await browser.page({ viewport: DESKTOP });
			await desktop.context().addCookies([{ name: cookies.ada.split('=')[0], value: cookies.ada.split('=').slice(1).join('='), url: inboxUrl }]);
			await desktop.goto(inboxUrl);
			await desktop.waitForSelector('#list li[data-id]');
			await browser.screenshot(desktop, 'inbox-desktop');
		} finally {
			await browser.close();
		}
	});
});
