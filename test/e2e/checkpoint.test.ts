/**
 * Human Checkpoint in a real n8n: Webhook → Code (3 items with a fake `ai.classify` result) →
 * Human Checkpoint → one NoOp per output. The review link reaches the test the way it reaches a
 * person: through the node's notification POST (to a listener started here).
 *
 * Single mode proves: the pause; a GET only shows the page; unsigned and altered links are refused
 * and resume nothing; a form POST approving two items (one edited) and rejecting one completes the
 * execution with each item on its output; a replayed POST changes nothing; the JSON call with a
 * header secret and an allow-list; the time limit sends the items to "No Response".
 * Queue mode proves the same pause/resume with the resume received by the main and the execution
 * continued on a worker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aiResultSchema, reviewSchema } from '../../shared/contract';
import { nodeOutputs, sharedN8n, startN8n, type N8n } from './harness';
import { startNotificationListener, type NotificationListener } from './notifications';

jest.setTimeout(10 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function loadWorkflow(file: string, notifyUrl: string, suffix: string): { workflow: any; path: string } {
	const workflow = JSON.parse(fs.readFileSync(path.join(__dirname, 'workflows', file), 'utf8'));
	const webhook = workflow.nodes.find((n: any) => n.name === 'Webhook');
	webhook.parameters.path = `${webhook.parameters.path}-${suffix}`;
	workflow.nodes.find((n: any) => n.name === 'Human Checkpoint').parameters.notificationUrl = notifyUrl;
	return { workflow, path: webhook.parameters.path };
}


function executionIdOf(reviewUrl: string): string {
	return new URL(reviewUrl).pathname.split('/').filter(Boolean)[1];
}

async function executionById(n8n: N8n, id: string): Promise<any> {
	const all = await n8n.executions();
	const found = all.find((e) => String(e.id) === id);
	if (!found) throw new Error(`execution ${id} not found`);
	return found;
}

async function waitForStatus(n8n: N8n, id: string, statuses: string[], timeoutMs = 120_000): Promise<any> {
	return await n8n.waitForExecution((e) => String(e.id) === id && statuses.includes(e.status), timeoutMs);
}

/** Still paused: status waiting and none of the NoOps after the checkpoint ran. */
async function expectStillWaiting(n8n: N8n, id: string) {
	const execution = await executionById(n8n, id);
	expect(execution.status).toBe('waiting');
	const runData = execution.data?.resultData?.runData ?? {};
	for (const name of ['No Response', 'Approved', 'Rejected']) expect(runData[name]).toBeUndefined();
}

async function startReview(n8n: N8n, listener: NotificationListener, webhookPath: string) {
	// n8n 2.x registers a published workflow's webhooks shortly after the API call returns.
	let res = await n8n.webhook(webhookPath, { from: 'e2e' });
	for (let i = 0; res.status === 404 && i < 40; i++) {
		await sleep(250);
		res = await n8n.webhook(webhookPath, { from: 'e2e' });
	}
	if (res.status !== 200) {
		throw new Error(`starting the workflow: HTTP ${res.status} ${await res.text()}\n${n8n.logs().slice(-8000)}`);
	}
	const notification = await listener.next();
	const id = executionIdOf(notification.reviewUrl);
	await waitForStatus(n8n, id, ['waiting']);
	return { notification, id, reviewUrl: notification.reviewUrl as string };
}

/** The form the review page posts: approve 0 (label edited), approve 1, reject 2. */
function decisionForm(reviewer = 'ada@example.com') {
	return new URLSearchParams({
		reviewer,
		decision_0: 'approve',
		answer_0: 'refund',
		comment_0: 'A refund, not a billing question',
		decision_1: 'approve',
		answer_1: 'sales',
		decision_2: 'reject',
		answer_2: 'support',
		comment_2: 'spam',
	});
}

async function postForm(url: string, form: URLSearchParams) {
	return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
}

function expectDecidedOutputs(execution: any) {
	const outputs = nodeOutputs(execution, 'Human Checkpoint');
	expect(outputs.map((o) => o.map((j: any) => j.id))).toEqual([[], [1, 2], [3]]);
	const [edited, approved] = outputs[1];
	expect(edited.ai.classify.answer).toBe('refund');
	expect(edited.ticket).toBe('Please refund invoice 42, I was charged twice');
	expect(reviewSchema.parse(edited.review)).toMatchObject({
		decision: 'edited',
		reviewer: 'ada@example.com',
		comment: 'A refund, not a billing question',
		edits: { 'ai.classify.answer': { from: 'billing', to: 'refund' } },
	});
	expect(edited.review.waitedMs).toBeGreaterThan(0);
	expect(edited.approved).toBe(true);
	expect(approved.ai.classify.answer).toBe('sales');
	expect(approved.review).toMatchObject({ decision: 'approved', edits: null });
	const [rejected] = outputs[2];
	expect(rejected.ai.classify.answer).toBe('support');
	expect(rejected).toMatchObject({ approved: false, review: { decision: 'rejected', comment: 'spam', reviewer: 'ada@example.com' } });
	// each item went on to the NoOp of its output, paired with its input
	expect(nodeOutputs(execution, 'Approved')[0].map((j: any) => j.id)).toEqual([1, 2]);
	expect(nodeOutputs(execution, 'Rejected')[0].map((j: any) => j.id)).toEqual([3]);
	// Every item comes out with pairedItem set. (n8n re-pairs a resumed node's outputs by position,
	// `{ item: k, input: output }`, overwriting the node's own `{ item: inputIndex }`: see the README.)
	const runs = execution.data.resultData.runData['Human Checkpoint'];
	for (const output of runs[runs.length - 1].data.main) for (const item of output ?? []) expect(item.pairedItem).toBeDefined();
}

describe('Human Checkpoint in single-process n8n', () => {
	let n8n: N8n;
	let listener: NotificationListener;
	const suffix = Date.now().toString(36);

	beforeAll(async () => {
		listener = await startNotificationListener();
		n8n = await sharedN8n();
	});
	afterAll(async () => {
		await n8n?.stop();
		await listener?.close();
	});

	it('pauses, shows the page on GET, refuses bad links, decides on POST and ignores a replay; times out to No Response', async () => {
		// The time-limit run starts first: n8n's wait tracker polls once a minute, so it runs alongside.
		const timed = loadWorkflow('checkpoint-timeout.json', listener.url, suffix);
		const timedId = await n8n.importWorkflow(timed.workflow);
		await n8n.activate(timedId);
		const timedReview = await startReview(n8n, listener, timed.path);
		expect(new URL(timedReview.reviewUrl).searchParams.get('until')).toBeTruthy();

		const { workflow, path: hookPath } = loadWorkflow('checkpoint-review.json', listener.url, suffix);
		const workflowId = await n8n.importWorkflow(workflow);
		await n8n.activate(workflowId);
		const { notification, id, reviewUrl } = await startReview(n8n, listener, hookPath);

		// The notification: text for chat webhooks, the link, a summary per item.
		expect(notification.text).toContain('3 items waiting for review');
		expect(notification.text).toContain(reviewUrl);
		expect(notification.items.map((i: any) => i.answer)).toEqual(['billing', 'sales', 'support']);
		const run = await executionById(n8n, id);
		for (const item of nodeOutputs(run, 'Fake Classify')[0]) expect(() => aiResultSchema.parse(item.ai.classify)).not.toThrow();

		// GET shows every item (text escaped) and decides nothing.
		const page = await fetch(reviewUrl);
		expect(page.status).toBe(200);
		expect(page.headers.get('content-type')).toContain('text/html');
		expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
		const html = await page.text();
		for (const label of ['billing', 'sales', 'support']) expect(html).toContain(label);
		expect(html).toContain('WIN A FREE CRUISE &lt;script&gt;alert(1)&lt;/script&gt;');
		expect(html).not.toContain('<script>');
		expect(html).toContain('name="decision_2"');
		await sleep(1000);
		await expectStillWaiting(n8n, id);

		// Unsigned, altered and foreign links are refused by n8n's signature check; nothing resumes.
		const unsigned = new URL(reviewUrl);
		unsigned.searchParams.delete('signature');
		const altered = new URL(reviewUrl);
		altered.searchParams.set('n', '2');
		const forged = new URL(reviewUrl);
		forged.searchParams.set('signature', 'a'.repeat(64));
		for (const url of [unsigned, altered, forged]) {
			const res = await postForm(url.toString(), decisionForm());
			expect(res.status).toBe(401);
		}
		// The execution's own resume token ($execution.resumeUrl) does not open a sendAndWait node either.
		await expectStillWaiting(n8n, id);

		// An incomplete decision is refused with the reason, and the execution stays paused.
		const partial = decisionForm();
		partial.delete('decision_2');
		const refused = await postForm(reviewUrl, partial);
		expect(refused.status).toBe(400);
		expect(await refused.text()).toContain('Item 2: choose Approve or Reject');
		await expectStillWaiting(n8n, id);

		// The reviewer's POST decides: 2 approved (one edited), 1 rejected.
		const decided = await postForm(reviewUrl, decisionForm());
		expect(decided.status).toBe(200);
		expect(await decided.text()).toContain('2 approved (1 edited), 1 rejected');
		const finished = await waitForStatus(n8n, id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		expectDecidedOutputs(finished);

		// A replayed POST (rejecting everything) changes nothing: n8n answers for the finished execution.
		const replay = await postForm(reviewUrl, new URLSearchParams({ reviewer: 'eve', decision_0: 'reject', decision_1: 'reject', decision_2: 'reject' }));
		const replayText = await replay.text();
		console.log(`replayed POST after the decision: HTTP ${replay.status}, "${/No action required/.test(replayText) ? 'No action required' : replayText.slice(0, 80)}"`);
		expect([200, 409]).toContain(replay.status);
		expect(replayText).not.toContain('Decisions recorded');
		await sleep(1000);
		const after = await executionById(n8n, id);
		expect(after.stoppedAt).toBe(finished.stoppedAt);
		expectDecidedOutputs(after);
		expect((await n8n.executions(workflowId)).length).toBe(1);

		// The time limit: n8n sends the original items, without a review, to "No Response".
		const timedOut = await waitForStatus(n8n, timedReview.id, ['success', 'error', 'crashed'], 180_000);
		expect(timedOut.status).toBe('success');
		const timedOutputs = nodeOutputs(timedOut, 'Human Checkpoint');
		expect(timedOutputs[0].map((j: any) => j.id)).toEqual([1, 2, 3]);
		expect(timedOutputs.slice(1).every((o) => o.length === 0)).toBe(true);
		for (const item of nodeOutputs(timedOut, 'No Response')[0]) {
			expect(item.review).toBeUndefined();
			expect(item.ai.classify.answer).toBeDefined();
		}
		// A decision after the time limit is refused (n8n has finished the execution, or we answer 410).
		const late = await postForm(timedReview.reviewUrl, decisionForm());
		expect([200, 409, 410]).toContain(late.status);
		expect(await late.text()).not.toContain('Decisions recorded');
	});

	it('takes the JSON call from a programmatic reviewer, with a header secret and an allow-list', async () => {
		await n8n.importCredentials([
			{ id: 'checkpointHeaderSecret', name: 'Checkpoint review secret', type: 'httpHeaderAuth', data: { name: 'X-Review-Secret', value: 'e2e-review-s3cret' } },
		]);
		const { workflow, path: hookPath } = loadWorkflow('checkpoint-secured.json', listener.url, suffix);
		const workflowId = await n8n.importWorkflow(workflow);
		await n8n.activate(workflowId);
		const { notification, id, reviewUrl } = await startReview(n8n, listener, hookPath);
		expect(JSON.stringify(notification)).not.toContain('e2e-review-s3cret');

		const body = {
			reviewer: 'ada@example.com',
			items: [
				{ index: 0, decision: 'approve', edits: 'refund', comment: 'A refund, not a billing question' },
				{ index: 1, decision: 'approve' },
				{ index: 2, decision: 'reject', comment: 'spam' },
			],
		};
		const post = async (payload: unknown, headers: Record<string, string>) =>
			await fetch(reviewUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });

		const page = await fetch(reviewUrl);
		expect(page.status).toBe(403);
		const noSecret = await post(body, {});
		expect(noSecret.status).toBe(403);
		const wrongSecret = await post(body, { 'x-review-secret': 'guess' });
		expect(wrongSecret.status).toBe(403);
		const notListed = await post({ ...body, reviewer: 'eve@example.com' }, { 'x-review-secret': 'e2e-review-s3cret' });
		expect(notListed.status).toBe(403);
		expect(((await notListed.json()) as any).message).toContain('not on this review');
		const badIndex = await post({ ...body, items: [...body.items, { index: 3, decision: 'approve' }] }, { 'x-review-secret': 'e2e-review-s3cret' });
		expect(badIndex.status).toBe(400);
		expect(((await badIndex.json()) as any).message).toContain('Item 3: there is no such item');
		await expectStillWaiting(n8n, id);

		const ok = await post(body, { 'x-review-secret': 'e2e-review-s3cret' });
		expect(ok.status).toBe(200);
		expect(await ok.json()).toMatchObject({ status: 'ok', approved: 2, edited: 1, rejected: 1 });
		const finished = await waitForStatus(n8n, id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		expectDecidedOutputs(finished);
		expect(JSON.stringify(finished.data)).not.toContain('e2e-review-s3cret');
	});

	it('version 2: names the items, shows the named field first, and a decision settles needsReview', async () => {
		const { workflow, path: hookPath } = loadWorkflow('checkpoint-review.json', listener.url, `${suffix}-v2`);
		const checkpoint = workflow.nodes.find((n: any) => n.name === 'Human Checkpoint');
		checkpoint.typeVersion = 2;
		checkpoint.parameters.fieldsToShow = 'ticket';
		const workflowId = await n8n.importWorkflow(workflow);
		await n8n.activate(workflowId);
		const { notification, id, reviewUrl } = await startReview(n8n, listener, hookPath);
		expect(notification.items.map((i: any) => i.title)).toEqual([
			'Please refund invoice 42, I was charged twice',
			'Do you offer a discount for 50 seats?',
			'WIN A FREE CRUISE <script>alert(1)</script>',
		]);
		expect(notification.text).toContain('3 items waiting for review: “Please refund invoice 42, I was charged twice”');

		// the ticket is read first, outside any folded block, with the AI's evidence marked in it
		const html = await (await fetch(reviewUrl)).text();
		expect(html).toContain('<mark>Please refund invoic</mark>');
		expect(html.indexOf('<mark>Please refund invoic</mark>')).toBeLessThan(html.indexOf('<details>'));
		expect(html).toContain('How sure: low (62%) — measured by the model&#39;s token probabilities');
		expect(html).not.toContain('<script>');

		const decided = await postForm(reviewUrl, decisionForm());
		expect(decided.status).toBe(200);
		const finished = await waitForStatus(n8n, id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		expectDecidedOutputs(finished);
		const [approved, rejected] = [nodeOutputs(finished, 'Approved')[0], nodeOutputs(finished, 'Rejected')[0]];
		// item 1 was flagged by the AI (0.62): approved (and corrected) by a person, it no longer needs review
		for (const item of approved) expect(item.ai.classify).toMatchObject({ needsReview: false, reviewedBy: 'ada@example.com' });
		for (const item of rejected) expect(item.ai.classify).toMatchObject({ needsReview: true, reviewedBy: 'ada@example.com' });
	});
});

describe('Human Checkpoint in queue mode', () => {
	let n8n: N8n;
	let listener: NotificationListener;

	beforeAll(async () => {
		listener = await startNotificationListener();
		n8n = await startN8n({ mode: 'queue', workers: 1 });
	});
	afterAll(async () => {
		await n8n?.stop();
		await listener?.close();
	});

	it('pauses on a worker, takes the decision on the main and continues on a worker', async () => {
		const { workflow, path: hookPath } = loadWorkflow('checkpoint-review.json', listener.url, Date.now().toString(36));
		const workflowId = await n8n.importWorkflow(workflow);
		await n8n.activate(workflowId);
		const { id, reviewUrl } = await startReview(n8n, listener, hookPath);
		expect(reviewUrl.startsWith(n8n.baseUrl)).toBe(true);

		const page = await fetch(reviewUrl);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('Do you offer a discount for 50 seats?');
		await sleep(1000);
		await expectStillWaiting(n8n, id);

		const decided = await postForm(reviewUrl, decisionForm());
		expect(decided.status).toBe(200);
		const finished = await waitForStatus(n8n, id, ['success', 'error', 'crashed']);
		expect(finished.status).toBe('success');
		expectDecidedOutputs(finished);

		const workerLog = n8n.logs().split('\n').filter((line) => line.startsWith('[worker-1]') && line.includes(`execution ${id}`));
		console.log(`queue mode: worker log lines for execution ${id}:\n${workerLog.join('\n')}`);
		// started before the pause and again after the resume, both times on the worker
		expect(workerLog.filter((line) => /started execution/i.test(line)).length).toBeGreaterThanOrEqual(2);

		const replay = await postForm(reviewUrl, decisionForm('eve'));
		expect(await replay.text()).not.toContain('Decisions recorded');
		const after = await executionById(n8n, id);
		expect(after.stoppedAt).toBe(finished.stoppedAt);
	});
});
