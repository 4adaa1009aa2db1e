/**
 * The Review Inbox page's keyboard in a real n8n (the shared one) and Debian's Chromium: a Human Checkpoint
 * (version 3, Review In: Review Inbox) pauses two executions with two items each; ada signs in on the page
 * and works with the keys only: j / k move to the next / previous item, a approves the current item, r rejects
 * it. The execution whose items were decided finishes with the approved item on Approved and the rejected one
 * on Rejected. At a phone's width (390 px) the page, with an item open, scrolls no wider than the screen.
 */
import type { Page } from 'playwright-core';

import { hashPassword } from '../../nodes/ReviewInbox/identity';
import { launchBrowser, DESKTOP, PHONE, UI_TIMEOUT, type GovernedBrowser } from './browser';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

jest.setTimeout(15 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const suffix = Date.now().toString(36);
const INBOX = `keys-${suffix}`;
const INBOX_PATH = `inbox-keys-${suffix}`;
const HOOK = `inbox-keys-hook-${suffix}`;
const PASSWORD = 'ada-keys-pass-1';

let uid = 0;
const id = () => `1b0c7000-0000-4000-8000-${String(++uid).padStart(12, '0')}`;

function checkpointWorkflow() {
	const code = `const run = $input.first().json.body?.run ?? 0;
return [0, 1].map((i) => ({ json: { run, n: i + 1, ticket: 'Run ' + run + ' ticket ' + (i + 1) + ': please refund invoice ' + (70 + i), ai: { latest: 'classify', classify: {
  decisionId: 'keys-' + run + '-' + i, step: 'classify', answer: 'refund', confidence: 0.55, confidenceMethod: 'logprobs', reason: 'money back',
  evidence: ['please refund invoice'], needsReview: true, provider: 'openai', model: 'fake',
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0,
  attempts: 1, latencyMs: 1, promptHash: 'sha256:x', at: '2026-01-01T00:00:00.000Z' } } } }));`;
	return {
		name: `Inbox keys ${suffix}`,
		nodes: [
			{ id: id(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: id(), parameters: { httpMethod: 'POST', path: HOOK, responseMode: 'onReceived', options: {} } },
			{ id: id(), name: 'Fake Classify', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
			{ id: id(), name: 'Human Checkpoint', type: 'n8n-nodes-governed-ai.humanCheckpoint', typeVersion: 3, position: [400, 0], webhookId: id(), parameters: { operation: 'sendAndWait', reviewIn: 'inbox', inboxName: INBOX, fieldsToShow: 'ticket', reviewerGroup: 'support', fourEyes: 'never' } },
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
}

function inboxWorkflow() {
	return {
		name: `Review Inbox keys ${suffix}`,
		nodes: [
			{ id: id(), name: 'Review Inbox', type: 'n8n-nodes-governed-ai.reviewInbox', typeVersion: 1, position: [0, 0], webhookId: id(), parameters: { path: INBOX_PATH, inboxName: INBOX }, credentials: { governedAiReviewers: { id: `keysReviewers${suffix}`, name: 'Reviewers (keys)' } } },
		],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}

describe('Review Inbox page: keyboard and phone width, in Chromium against a real n8n', () => {
	let n8n: N8n;
	let browser: GovernedBrowser;
	let workflowId: string;
	let inboxUrl: string;
	let cookie = '';

	async function waitingItems(): Promise<any[]> {
		const res = await fetch(`${inboxUrl}?api=items`, { headers: { accept: 'application/json', cookie } });
		expect(res.status).toBe(200);
		return ((await res.json()) as { items: any[] }).items;
	}

	/** the current row's item id (polled: the CSP forbids the eval behind waitForFunction) */
	async function currentIs(page: Page, itemId: string): Promise<void> {
		for (let i = 0; i < 240 && (await page.getAttribute('#list li.current', 'data-id')) !== itemId; i++) await sleep(250);
		expect(await page.getAttribute('#list li.current', 'data-id')).toBe(itemId);
	}

	beforeAll(async () => {
		n8n = await sharedN8n();
		await n8n.importCredentials([
			{ id: `keysReviewers${suffix}`, name: 'Reviewers (keys)', type: 'governedAiReviewers', data: { reviewers: `ada: ${hashPassword(PASSWORD)}`, groups: 'support: ada', sessionSecret: 'keys-session-secret-0123456789' } },
		]);
		workflowId = await n8n.importWorkflow(checkpointWorkflow());
		await n8n.activate(workflowId);
		await n8n.activate(await n8n.importWorkflow(inboxWorkflow()));
		inboxUrl = `${n8n.baseUrl.replace(/\/$/, '')}/webhook/${INBOX_PATH}`;
		for (const run of [1, 2]) {
			let res = await n8n.webhook(HOOK, { run });
			for (let i = 0; res.status === 404 && i < 120; i++) {
				await sleep(250);
				res = await n8n.webhook(HOOK, { run });
			}
			expect(res.status).toBe(200);
		}
		for (const deadline = Date.now() + 180_000; ; await sleep(500)) {
			const waiting = (await n8n.executions(workflowId)).filter((e) => e.status === 'waiting');
			if (waiting.length === 2) break;
			if (Date.now() > deadline) throw new Error(`${waiting.length} of 2 executions waiting\n${n8n.logs().slice(-5000)}`);
		}
		browser = await launchBrowser();
	});

	afterAll(async () => {
		await browser?.close();
		await n8n?.stop();
	});

	it('j / k move between items, a approves and r rejects the current one, and each reaches its output', async () => {
		const page = await browser.page({ viewport: DESKTOP });
		page.setDefaultTimeout(UI_TIMEOUT);
		await page.goto(inboxUrl);
		await page.fill('#name', 'ada');
		await page.fill('#password', PASSWORD);
		await page.click('button[type=submit]');
		await page.waitForSelector('#list li[data-id]');
		cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
		// the page lists the items in the API's order (by due time, then age, then position)
		const items = await waitingItems();
		expect(items).toHaveLength(4);
		expect(await page.locator('#list li[data-id]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id')))).toEqual(items.map((i) => i.id));
		const [first, second] = items;
		expect(second.executionId).toBe(first.executionId);
		expect([first.itemIndex, second.itemIndex]).toEqual([0, 1]);

		await currentIs(page, first.id);
		await page.keyboard.press('j');
		await currentIs(page, second.id);
		expect(await page.textContent('#detail h2')).toContain(`ticket 2`);
		await page.keyboard.press('j');
		await currentIs(page, items[2].id);
		await page.keyboard.press('k');
		await page.keyboard.press('k');
		await currentIs(page, first.id);
		expect(await page.textContent('#detail h2')).toContain(`ticket 1`);

		// a: the first item approved; the list drops it and the next one (the second item) is current
		await page.keyboard.press('a');
		for (let i = 0; i < 240 && (await page.locator('#list li[data-id]').count()) !== 3; i++) await sleep(250);
		expect(await page.locator('#list li[data-id]').count()).toBe(3);
		expect(await page.textContent('#msg')).toContain('Decision recorded');
		await currentIs(page, second.id);
		// r: the second item rejected, which completes that execution's pause
		await page.keyboard.press('r');
		for (let i = 0; i < 240 && (await page.locator('#list li[data-id]').count()) !== 2; i++) await sleep(250);
		expect(await page.locator('#list li[data-id]').count()).toBe(2);
		expect((await waitingItems()).map((i) => i.id)).toEqual([items[2].id, items[3].id]);

		const execution = await n8n.waitForExecution((e) => String(e.id) === String(first.executionId) && e.status === 'success', 180_000);
		const outputs = nodeOutputs(execution, 'Human Checkpoint');
		expect(outputs[0]).toEqual([]);
		expect(outputs[1].map((json: any) => json.n)).toEqual([1]);
		expect(outputs[2].map((json: any) => json.n)).toEqual([2]);
		expect(outputs[1][0].review).toMatchObject({ decision: 'approved', reviewer: 'ada' });
		expect(outputs[2][0].review).toMatchObject({ decision: 'rejected', reviewer: 'ada' });
		expect(nodeOutputs(execution, 'Approved')[0].map((json: any) => json.n)).toEqual([1]);
		expect(nodeOutputs(execution, 'Rejected')[0].map((json: any) => json.n)).toEqual([2]);
	});

	it('at 390 px, with an item open, the page scrolls no wider than the screen', async () => {
		const page = await browser.page({ viewport: PHONE });
		page.setDefaultTimeout(UI_TIMEOUT);
		const [name, ...value] = cookie.split('=');
		await page.context().addCookies([{ name, value: value.join('='), url: inboxUrl }]);
		await page.goto(inboxUrl);
		await page.waitForSelector('#list li[data-id]');
		await page.keyboard.press('j');
		await page.waitForSelector('#list li.current');
		await page.waitForSelector('#detail #approve');
		const widths = (await page.evaluate('[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]')) as number[];
		expect(widths[2]).toBe(PHONE.width);
		expect(Math.max(widths[0], widths[1])).toBeLessThanOrEqual(PHONE.width);
	});
});
