/**
 * A reviewer's correction is held to the AI step's own contract, in a real n8n: AI Classify, AI Decide and
 * AI Extract (talking to the local provider server over real HTTP) publish the shape of their answer, and
 * Human Checkpoint refuses a correction outside it (an unknown category, an action a rule forbids or that does
 * not exist, a record that does not validate) with HTTP 400 naming the item and the field, for the page's form
 * and for the JSON call alike, while the execution stays waiting (checked through n8n's public REST API).
 * A correction that fits is accepted and the execution continues with it, as before.
 *
 * workflows/review-edits.json has one branch per AI step: Webhook → Code (one item per entry of `items`) →
 * AI step → Human Checkpoint → NoOp on Approved. The review link reaches the test through the checkpoint's
 * notification POST. The forms are built from the page the way a browser does (every field with its shown
 * value), and only the corrected fields are changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';
import { startNotificationListener, type NotificationListener } from './notifications';

jest.setTimeout(10 * 60_000);

const HTTP_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: ProviderServer;
let n8n: N8n;
let listener: NotificationListener;


beforeAll(async () => {
	server = await startProviderServer({ responder: autoResponder });
	listener = await startNotificationListener();
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-review-edits', baseUrl: server.openaiBaseUrl } },
	]);
	const workflow = JSON.parse(fs.readFileSync(path.join(__dirname, 'workflows', 'review-edits.json'), 'utf8'));
	for (const node of workflow.nodes) if (node.type.endsWith('.humanCheckpoint')) node.parameters.notificationUrl = listener.url;
	await n8n.activate(await n8n.importWorkflow(workflow));
});

afterAll(async () => {
	await n8n?.stop();
	await listener?.close();
	await server?.close();
});

/** Starts a branch with these items and returns the paused execution's review link and id. */
async function startReview(webhookPath: string, items: object[]): Promise<{ id: string; reviewUrl: string }> {
	let res = await n8n.webhook(webhookPath, { items });
	// n8n 2.x registers a published workflow's webhooks shortly after the API call returns
	for (let i = 0; res.status === 404 && i < 80; i++) {
		await sleep(250);
		res = await n8n.webhook(webhookPath, { items });
	}
	if (res.status !== 200) throw new Error(`starting ${webhookPath}: HTTP ${res.status} ${await res.text()}`);
	const notification = await listener.next(180_000, n8n.logs);
	const reviewUrl = notification.reviewUrl as string;
	const id = new URL(reviewUrl).pathname.split('/').filter(Boolean)[1];
	await n8n.waitForExecution((e) => String(e.id) === id && e.status === 'waiting', 180_000);
	return { id, reviewUrl };
}

async function execution(id: string): Promise<any> {
	const found = (await n8n.executions()).find((e) => String(e.id) === id);
	if (!found) throw new Error(`execution ${id} not found`);
	return found;
}

/** Still paused (REST API): status waiting, and nothing after the checkpoint ran. */
async function expectStillWaiting(id: string, approvedNode: string) {
	const found = await execution(id);
	expect(found.status).toBe('waiting');
	expect(found.data?.resultData?.runData?.[approvedNode]).toBeUndefined();
}

/** The items the checkpoint paused on, as the AI step left them. */
async function pausedItems(id: string, aiNode: string, output: number): Promise<any[]> {
	return nodeOutputs(await execution(id), aiNode)[output];
}

async function getPage(url: string): Promise<string> {
	const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
	expect(res.status).toBe(200);
	return await res.text();
}

const unescape = (s: string) =>
	s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => {
	const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
	return m ? unescape(m[1]) : undefined;
};

/** What a browser submits for the page's form left as shown: text fields, checked boxes, selected options. */
function formAsShown(html: string): URLSearchParams {
	const form = new URLSearchParams();
	for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
		const name = attr(tag, 'name');
		const type = attr(tag, 'type') ?? 'text';
		if (!name || type === 'radio' || (type === 'checkbox' && !/\schecked\b/.test(tag))) continue;
		form.append(name, attr(tag, 'value') ?? '');
	}
	for (const [, tag, text] of html.matchAll(/(<textarea\b[^>]*>)([\s\S]*?)<\/textarea>/g)) form.append(attr(tag, 'name')!, unescape(text));
	for (const [, tag, body] of html.matchAll(/(<select\b[^>]*>)([\s\S]*?)<\/select>/g)) {
		const options = [...body.matchAll(/<option\b[^>]*>/g)].map(([o]) => o);
		const chosen = options.find((o) => /\sselected\b/.test(o)) ?? options[0];
		form.append(attr(tag, 'name')!, attr(chosen, 'value') ?? '');
	}
	return form;
}

/** The option values of the <select> named `name`, or undefined when the page has no such select. */
function selectOptions(html: string, name: string): string[] | undefined {
	const m = new RegExp(`<select\\b[^>]*name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(html);
	return m ? [...m[1].matchAll(/<option\b[^>]*>/g)].map(([o]) => attr(o, 'value')!) : undefined;
}

function decide(form: URLSearchParams, values: Record<string, string>): URLSearchParams {
	const out = new URLSearchParams(form);
	out.set('reviewer', 'ada@example.com');
	for (const [name, value] of Object.entries(values)) out.set(name, value);
	return out;
}

async function postForm(url: string, form: URLSearchParams) {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: form.toString(),
		signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
	});
	return { status: res.status, text: await res.text() };
}

async function postJson(url: string, body: unknown) {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
	});
	return { status: res.status, json: (await res.json()) as any };
}

/** The Approved items once the execution has finished. */
async function approvedAfter(id: string, checkpoint: string): Promise<any[]> {
	const done = await n8n.waitForExecution((e) => String(e.id) === id && ['success', 'error'].includes(e.status), 180_000);
	expect(done.status).toBe('success');
	return nodeOutputs(done, checkpoint)[1];
}

test('AI Classify: a category outside the list is refused (form and JSON), the execution waits; a listed one is accepted', async () => {
	const { id, reviewUrl } = await startReview('review-edits-classify', [
		{ id: 1, ticket: 'I was charged twice on my invoice this month' },
		{ id: 2, ticket: 'Please add a dark mode feature to the dashboard' },
	]);
	const [first, second] = await pausedItems(id, 'AI Classify', 0);
	const schema = { type: 'string', enum: ['billing', 'feature', 'refund'] };
	expect(first.ai.classify.answerSchema).toEqual(schema);
	expect(second.ai.classify.answerSchema).toEqual(schema);

	// the page offers the categories as a choice, not a text box
	const html = await getPage(reviewUrl);
	expect(selectOptions(html, 'answer_1')).toEqual(expect.arrayContaining(['billing', 'feature', 'refund']));
	expect(html).not.toMatch(/<input[^>]*name="answer_1"/);
	const shown = formAsShown(html);
	expect(shown.get('answer_1')).toBe(second.ai.classify.answer);

	// the case: "feture" on item 1, through the form a hand-made (or altered) page could post
	const invalid = await postForm(reviewUrl, decide(shown, { decision_0: 'approve', decision_1: 'approve', answer_1: 'feture' }));
	expect(invalid.status).toBe(400);
	expect(unescape(invalid.text)).toContain('Item 1: ai.classify.answer: "feture" is not one of billing, feature, refund');
	const json = await postJson(reviewUrl, {
		reviewer: 'ada@example.com',
		items: [
			{ index: 0, decision: 'approve', edits: 'refunds' },
			{ index: 1, decision: 'approve' },
		],
	});
	expect(json).toEqual({ status: 400, json: expect.objectContaining({ status: 'refused' }) });
	expect(json.json.message).toContain('Item 0: ai.classify.answer: "refunds" is not one of billing, feature, refund');
	await sleep(1000);
	await expectStillWaiting(id, 'Tickets Approved');

	// a listed category passes as before
	const corrected = first.ai.classify.answer === 'refund' ? 'billing' : 'refund';
	const valid = await postForm(reviewUrl, decide(shown, { decision_0: 'approve', answer_0: corrected, decision_1: 'approve' }));
	expect(valid.status).toBe(200);
	const approved = await approvedAfter(id, 'Review Tickets');
	expect(approved.map((j) => j.id)).toEqual([1, 2]);
	expect(approved[0].ai.classify).toMatchObject({ answer: corrected, label: corrected });
	expect(approved[0].review).toMatchObject({
		decision: 'edited',
		edits: { 'ai.classify.answer': { from: first.ai.classify.answer, to: corrected } },
	});
	expect(approved[1].review).toMatchObject({ decision: 'approved', edits: null });
	expect(approved[1].ai.classify.answer).toBe(second.ai.classify.answer);
});

test('AI Decide: an action a rule forbids for the item, or no action at all, is refused; an allowed one is accepted', async () => {
	const { id, reviewUrl } = await startReview('review-edits-decide', [
		{ id: 1, amount: 40, message: 'The lamp arrived broken and does not switch on.' },
		{ id: 2, amount: 900, message: 'The sofa arrived with a torn cushion.' },
	]);
	const [small, big] = await pausedItems(id, 'AI Decide', 3);
	expect(small.ai.decide.answer).toBe('escalate');
	expect(small.ai.decide.answerSchema).toEqual({ type: 'string', enum: ['partial_refund', 'full_refund', 'send_replacement'] });
	// "Big orders" forbids full_refund for item 1: a person may not choose it either
	expect(big.ai.decide.answerSchema).toEqual({ type: 'string', enum: ['partial_refund', 'send_replacement'] });

	const html = await getPage(reviewUrl);
	// the AI's "escalate" stays selectable as "no change"; the allowed actions are the other choices
	expect(selectOptions(html, 'answer_1')).toEqual(['escalate', 'partial_refund', 'send_replacement']);
	const shown = formAsShown(html);
	expect(shown.get('answer_0')).toBe('escalate');

	const forbidden = await postForm(reviewUrl, decide(shown, { decision_0: 'approve', decision_1: 'approve', answer_1: 'full_refund' }));
	expect(forbidden.status).toBe(400);
	expect(unescape(forbidden.text)).toContain('Item 1: ai.decide.answer: "full_refund" is not one of partial_refund, send_replacement');
	const unknown = await postJson(reviewUrl, {
		reviewer: 'ada@example.com',
		items: [
			{ index: 0, decision: 'approve', answer: 'wire_money' },
			{ index: 1, decision: 'reject' },
		],
	});
	expect(unknown.status).toBe(400);
	expect(unknown.json.message).toContain('Item 0: ai.decide.answer: "wire_money" is not one of partial_refund, full_refund, send_replacement');
	await sleep(1000);
	await expectStillWaiting(id, 'Cases Approved');

	const valid = await postJson(reviewUrl, {
		reviewer: 'ada@example.com',
		items: [
			{ index: 0, decision: 'approve', edits: 'full_refund' },
			{ index: 1, decision: 'approve', edits: 'partial_refund' },
		],
	});
	expect(valid).toEqual({ status: 200, json: expect.objectContaining({ status: 'ok', approved: 2, edited: 2 }) });
	const approved = await approvedAfter(id, 'Review Cases');
	expect(approved.map((j) => [j.id, j.ai.decide.answer, j.ai.decide.action])).toEqual([
		[1, 'full_refund', 'full_refund'],
		[2, 'partial_refund', 'partial_refund'],
	]);
	expect(approved[1].review.edits).toEqual({ 'ai.decide.answer': { from: 'escalate', to: 'partial_refund' } });
});

test('AI Extract: a record that does not validate is refused (form and JSON), the execution waits; a valid one is accepted', async () => {
	const { id, reviewUrl } = await startReview('review-edits-extract', [
		{ id: 1, text: 'Invoice\ninvoice_number: INV-1001\ntotal: 120.50\ncurrency: EUR\ndue_date: 2026-03-31\n' },
		{ id: 2, text: 'Invoice\ninvoice_number: INV-1002\ntotal: 80\n' },
	]);
	const [first, second] = await pausedItems(id, 'AI Extract', 1);
	expect(first.ai.extract.answer).toMatchObject({ invoice_number: 'INV-1001', total: 120.5 });
	expect(first.ai.extract.answerSchema).toEqual({
		type: 'object',
		properties: {
			invoice_number: { type: 'string', description: 'The invoice number' },
			total: { type: 'number', description: 'Amount due' },
			currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'], description: 'Currency of the total' },
			due_date: { type: 'string', format: 'date', description: 'When payment is due' },
		},
		required: ['invoice_number', 'total'],
	});
	expect(second.ai.extract.answerSchema).toEqual(first.ai.extract.answerSchema);

	// the record is edited field by field; the enum field is a choice
	const html = await getPage(reviewUrl);
	expect(selectOptions(html, 'answer_1_2')).toEqual(['', 'EUR', 'USD', 'GBP']);
	expect(html).toMatch(/<input[^>]*name="answer_1_1"[^>]*value="80"/);
	const shown = formAsShown(html);

	const invalid = await postForm(
		reviewUrl,
		decide(shown, { decision_0: 'approve', decision_1: 'approve', answer_1_2: 'YEN', answer_1_3: '2026-02-30' }),
	);
	expect(invalid.status).toBe(400);
	const message = unescape(invalid.text);
	expect(message).toContain('Item 1: ai.extract.answer.currency: "YEN" is not one of EUR, USD, GBP');
	expect(message).toContain('ai.extract.answer.due_date: expected a calendar date written as YYYY-MM-DD');
	const json = await postJson(reviewUrl, {
		reviewer: 'ada@example.com',
		items: [
			{ index: 0, decision: 'approve', edits: { total: '120,50' } },
			{ index: 1, decision: 'approve' },
		],
	});
	expect(json.status).toBe(400);
	expect(json.json.message).toContain('Item 0: ai.extract.answer.total: expected number, got "120,50"');
	const extra = await postJson(reviewUrl, {
		reviewer: 'ada@example.com',
		items: [
			{ index: 0, decision: 'approve', answer: { ...first.ai.extract.answer, iban: 'DE00' } },
			{ index: 1, decision: 'reject' },
		],
	});
	expect(extra.status).toBe(400);
	expect(extra.json.message).toContain('Item 0: ai.extract.answer.iban: is not a field of the schema');
	await sleep(1000);
	await expectStillWaiting(id, 'Invoices Approved');

	const valid = await postForm(reviewUrl, decide(shown, { decision_0: 'approve', answer_0_1: '125', decision_1: 'approve', answer_1_2: 'USD' }));
	expect(valid.status).toBe(200);
	const approved = await approvedAfter(id, 'Review Invoices');
	expect(approved.map((j) => j.id)).toEqual([1, 2]);
	expect(approved[0].ai.extract.answer).toEqual({ ...first.ai.extract.answer, total: 125 });
	expect(approved[0].ai.extract.data).toEqual(approved[0].ai.extract.answer);
	expect(approved[0].review.edits).toEqual({ 'ai.extract.answer.total': { from: 120.5, to: 125 } });
	expect(approved[1].ai.extract.answer).toEqual({ ...second.ai.extract.answer, currency: 'USD' });
	expect(approved[1].review.edits).toEqual({ 'ai.extract.answer.currency': { from: second.ai.extract.answer.currency, to: 'USD' } });
});
