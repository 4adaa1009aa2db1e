/**
 * `npm run screenshots`: the README's pictures, taken from the real editor. Starts the e2e harness's n8n (the
 * package installed from its npm pack), the local provider server replaying the answers recorded for the sample
 * tickets (examples/data/recorded-answers.json), imports the support triage and review links examples, posts the
 * 20 sample tickets, and photographs with Debian's chromium (playwright-core) into docs/screenshots/:
 *
 *   triage-workflow.png     the triage workflow on the canvas
 *   ai-classify-panel.png   AI Classify's panel
 *   ai-classify-output.png  an execution's AI Classify output, showing ai.classify
 *   review-page.png         a paused ticket's review page, desktop
 *   review-page-phone.png   the same page at 390 px
 *   report.png              the Audit Log's HTML report of those tickets (after every paused one is approved)
 *   report-phone.png        the same report at 390 px
 *
 *   inbox.png               the Review Inbox (inboxShots): 16 sample tickets waiting in two workflows, one open, desktop
 *   inbox-phone.png         the same inbox at 390 px
 *
 * The triage example's Human Checkpoint is switched to its version 2 with Fields to Show = subject, text (the
 * README's recommended setting); nothing else of the example changes.
 *
 *   SCREENSHOTS_ONLY=inbox npm run screenshots     only the Review Inbox's pictures
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

import { autoResponder, startProviderServer, type RecordedRequest } from '../test/provider-server';
import { REPO_ROOT, startN8n, type N8n } from '../test/e2e/harness';
import { DESKTOP, launchBrowser, PHONE } from '../test/e2e/browser';
import { hashPassword } from '../nodes/ReviewInbox/identity';
import { decide, loadExample, post, reviewLinks, routeOf, sampleTickets, ticketIdOf, triageResponder, waitUntil } from '../test/e2e/triage-helpers';

const OUT = path.join(REPO_ROOT, 'docs', 'screenshots');
const CREDENTIAL = { id: 'localprovider', name: 'Local provider' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function log(line: string) {
	process.stdout.write(`[screenshots] ${line}\n`);
}

/** A viewport screenshot (the editor is one screen high) or the whole page, as a PNG in docs/screenshots/. */
async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
	const file = path.join(OUT, `${name}.png`);
	await page.screenshot({ path: file, fullPage });
	log(`${path.relative(REPO_ROOT, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
}

function reportWorkflow() {
	return {
		id: 'ScreenshotReport01',
		name: 'Weekly audit report (screenshots)',
		nodes: [
			{
				id: 'b0c1a000-0000-4000-8000-000000000001',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: 'b0c1a000-0000-4000-8000-000000000002',
				parameters: { httpMethod: 'POST', path: 'screenshots-report', responseMode: 'lastNode', responseData: 'allEntries', options: {} },
			},
			{
				id: 'b0c1a000-0000-4000-8000-000000000003',
				name: 'Audit Report',
				type: 'n8n-nodes-governed-ai.auditLog',
				// version 3: the recommended thresholds, the calibration per method, the savings and each label's stage
				typeVersion: 3,
				position: [220, 0],
				parameters: { operation: 'report', sink: 'file', stream: 'support-triage', window: 'all', options: { reportTitle: 'Support triage: AI audit' } },
			},
		],
		connections: { Webhook: { main: [[{ node: 'Audit Report', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

async function runTickets(n8n: N8n, triageId: string): Promise<any[]> {
	for (const ticket of sampleTickets) {
		const res = await post(n8n, 'triage', ticket);
		if (res.status !== 200) throw new Error(`posting ${ticket.id}: HTTP ${res.status} ${await res.text()}`);
		await res.text();
	}
	return await waitUntil(
		`${sampleTickets.length} triage executions to finish or pause`,
		async () => {
			const all = await n8n.executions(triageId);
			return all.length === sampleTickets.length && all.every((e) => ['success', 'waiting', 'error', 'crashed'].includes(e.status)) ? all : undefined;
		},
		300_000,
		n8n.logs,
	);
}

/** The inbox's checkpoints: tickets posted in the body get a classify result like AI Classify's, then wait in the inbox. */
function inboxCheckpointWorkflow(name: string, hookPath: string, checkpoint: Record<string, unknown>, n: number) {
	const id = (i: number) => `b0c1b${String(n).padStart(3, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;
	const code = `return $input.first().json.body.tickets.map((t) => ({ json: { id: t.id, subject: t.subject, text: t.text, customer: t.customer, ai: { latest: 'classify', classify: {
  decisionId: 'shot-' + t.id, step: 'classify', answer: t.label, confidence: t.confidence, confidenceMethod: 'logprobs', reason: t.reason,
  evidence: [t.evidence], needsReview: true, provider: 'openai', model: 'gpt-4o-mini',
  usage: { inputTokens: 310, outputTokens: 4, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0.00005,
  attempts: 1, latencyMs: 620, promptHash: 'sha256:shots', at: new Date().toISOString() } } } }));`;
	return {
		id: `ScreenshotInbox0${n}`,
		name,
		nodes: [
			{ id: id(1), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: id(2), parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'onReceived', options: {} } },
			{ id: id(3), name: 'AI Classify (recorded)', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: code } },
			{ id: id(4), name: 'Human Checkpoint', type: 'n8n-nodes-governed-ai.humanCheckpoint', typeVersion: 3, position: [440, 0], webhookId: id(5), parameters: { operation: 'sendAndWait', reviewIn: 'inbox', inboxName: 'support', fieldsToShow: 'subject, text', ...checkpoint } },
			{ id: id(6), name: 'No Response', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [680, -150], parameters: {} },
			{ id: id(7), name: 'Approved', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [680, 0], parameters: {} },
			{ id: id(8), name: 'Rejected', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [680, 150], parameters: {} },
		],
		connections: {
			Webhook: { main: [[{ node: 'AI Classify (recorded)', type: 'main', index: 0 }]] },
			'AI Classify (recorded)': { main: [[{ node: 'Human Checkpoint', type: 'main', index: 0 }]] },
			'Human Checkpoint': { main: [[{ node: 'No Response', type: 'main', index: 0 }], [{ node: 'Approved', type: 'main', index: 0 }], [{ node: 'Rejected', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/**
 * The Review Inbox: 16 of the sample tickets wait in two workflows (triage, due in 4 hours; refunds, due in 40
 * minutes, four eyes), ada signs in on the real page, opens the second item; desktop and 390 px.
 */
async function inboxShots(n8n: N8n, browser: Awaited<ReturnType<typeof launchBrowser>>): Promise<void> {
	const password = 'ada-screenshots-1';
	await n8n.importCredentials([
		{ id: 'shotReviewers1', name: 'Reviewers', type: 'governedAiReviewers', data: { reviewers: `ada: ${hashPassword(password)}`, groups: 'support: ada', sessionSecret: 'screenshots-session-secret-0123456789' } },
	]);
	const triageId = await n8n.importWorkflow(inboxCheckpointWorkflow('Support triage', 'shots-inbox-triage', { reviewerGroup: 'support', fourEyes: 'never', dueAmount: 4, dueUnit: 'hours' }, 1));
	const refundsId = await n8n.importWorkflow(inboxCheckpointWorkflow('Refund approvals', 'shots-inbox-refunds', { reviewerGroup: 'support', fourEyes: 'always', dueAmount: 40, dueUnit: 'minutes' }, 2));
	await n8n.activate(triageId);
	await n8n.activate(refundsId);
	const inboxId = await n8n.importWorkflow({
		id: 'ScreenshotInboxPage1',
		name: 'Review Inbox',
		nodes: [{ id: 'b0c1b900-0000-4000-8000-000000000001', name: 'Review Inbox', type: 'n8n-nodes-governed-ai.reviewInbox', typeVersion: 1, position: [0, 0], webhookId: 'b0c1b900-0000-4000-8000-000000000002', parameters: { path: 'review-inbox', inboxName: 'support' }, credentials: { governedAiReviewers: { id: 'shotReviewers1', name: 'Reviewers' } } }],
		connections: {},
		settings: { executionOrder: 'v1' },
	});
	await n8n.activate(inboxId);
	const reasons: Record<string, string> = {
		billing: 'The customer asks about a charge or an invoice.',
		outage: 'The customer reports that the service is down for them.',
		access: 'The customer cannot sign in.',
		bug: 'The customer describes a defect in the product.',
		feature_request: 'The customer asks for something the product does not do yet.',
		refund: 'The customer asks for money back.',
	};
	const asWaiting = (t: any, i: number) => ({
		id: t.id,
		subject: t.subject,
		text: t.text,
		customer: t.customer,
		label: t.expected?.category ?? 'other',
		confidence: [0.62, 0.48, 0.71, 0.55, 0.39, 0.66][i % 6],
		reason: reasons[t.expected?.category] ?? 'The ticket does not clearly fit one category.',
		// the first words of the ticket's first sentence, as a model quotes its evidence
		evidence: String(t.text).split(/[.!?]/)[0].split(' ').slice(0, 8).join(' '),
	});
	// billing tickets wait in the refund approvals, the others in the triage
	const tickets = sampleTickets.map(asWaiting);
	const billing = tickets.filter((t) => t.label === 'billing').slice(0, 4);
	const others = tickets.filter((t) => t.label !== 'billing').slice(0, 12);
	const posts: Array<[string, any[]]> = [
		['shots-inbox-refunds', billing.slice(0, 2)],
		['shots-inbox-triage', others.slice(0, 3)],
		['shots-inbox-triage', others.slice(3, 6)],
		['shots-inbox-refunds', billing.slice(2, 4)],
		['shots-inbox-triage', others.slice(6, 9)],
		['shots-inbox-triage', others.slice(9, 12)],
	];
	for (const [hook, batch] of posts) {
		let res = await post(n8n, hook, { tickets: batch });
		for (let i = 0; res.status === 404 && i < 120; i++) {
			await sleep(250);
			res = await post(n8n, hook, { tickets: batch });
		}
		if (res.status !== 200) throw new Error(`posting to ${hook}: HTTP ${res.status} ${await res.text()}`);
		await res.text();
	}
	const inboxUrl = `${n8n.baseUrl.replace(/\/$/, '')}/webhook/review-inbox`;
	await waitUntil(
		'16 items waiting in the inbox',
		async () => {
			const waiting = [...(await n8n.executions(triageId)), ...(await n8n.executions(refundsId))].filter((e) => e.status === 'waiting');
			return waiting.length === posts.length ? waiting : undefined;
		},
		300_000,
		n8n.logs,
	);
	const desktop = await browser.page({ viewport: { width: 1280, height: 800 } });
	await desktop.goto(inboxUrl);
	await desktop.fill('#name', 'ada');
	await desktop.fill('#password', password);
	await desktop.click('button[type=submit]');
	await desktop.locator('#list li[data-id]').nth(15).waitFor();
	await desktop.locator('#list li[data-id]').nth(1).click();
	await desktop.locator('#detail #approve').waitFor();
	await shoot(desktop, 'inbox');
	const cookies = await desktop.context().cookies();
	const phone = await browser.page({ viewport: PHONE });
	await phone.context().addCookies(cookies);
	await phone.goto(inboxUrl);
	await phone.locator('#list li[data-id]').nth(15).waitFor();
	await phone.locator('#list li[data-id]').nth(1).click();
	await phone.locator('#detail #approve').waitFor();
	await shoot(phone, 'inbox-phone', true);
}

async function main() {
	fs.mkdirSync(OUT, { recursive: true });
	const server = await startProviderServer({ responder: (req: RecordedRequest, i: number) => triageResponder(req) ?? autoResponder(req, i) });
	log('starting n8n (packs and installs the package first) …');
	const n8n = await startN8n();
	const browser = await launchBrowser();
	try {
		if (process.env.SCREENSHOTS_ONLY === 'inbox') {
			await inboxShots(n8n, browser);
			return;
		}
		await n8n.importCredentials([{ ...CREDENTIAL, type: 'governedAiOpenAiApi', data: { apiKey: 'sk-screenshots', baseUrl: server.openaiBaseUrl } }]);
		const links = loadExample('review-links.json');
		const linksId = await n8n.importWorkflow(links);
		await n8n.activate(linksId);
		const triage = loadExample('support-triage.json');
		const checkpoint = triage.nodes.find((n: any) => n.name === 'Human Checkpoint');
		checkpoint.typeVersion = 2;
		checkpoint.parameters.fieldsToShow = 'subject, text';
		const triageId = await n8n.importWorkflow(triage);
		await n8n.activate(triageId);
		const reportId = await n8n.importWorkflow(reportWorkflow());
		await n8n.activate(reportId);

		log(`posting the ${sampleTickets.length} sample tickets …`);
		const executions = await runTickets(n8n, triageId);
		const paused = executions.filter((e) => e.status === 'waiting');
		log(`${executions.length} executions, ${paused.length} waiting for a person`);

		const page = await browser.signedInPage(n8n, { viewport: DESKTOP });

		// the workflow on the canvas
		await page.goto(`${n8n.baseUrl}/workflow/${triageId}`);
		await page.locator('[data-test-id="canvas-node"][data-node-name="AI Classify"]').waitFor();
		await page.getByTestId('zoom-to-fit').click();
		await sleep(1500);
		await shoot(page, 'triage-workflow');

		// AI Classify's panel
		await page.locator('[data-test-id="canvas-node"][data-node-name="AI Classify"]').dblclick();
		await page.getByTestId('ndv').waitFor();
		await page.getByTestId('fixed-collection-categories').waitFor();
		await sleep(1000);
		await shoot(page, 'ai-classify-panel');
		await page.getByTestId('ndv').getByTestId('ndv-close-button').click();

		// an execution's AI Classify output: the ticket that went to a person for review, in n8n's execution view
		const reviewed = executions.find((e) => e.status === 'waiting' && /^review/.test(routeOf(e))) ?? executions[0];
		log(`output of execution ${reviewed.id} (${ticketIdOf(reviewed)}, ${routeOf(reviewed)})`);
		await page.goto(`${n8n.baseUrl}/workflow/${triageId}/executions/${reviewed.id}`);
		// n8n 2.40 draws the execution inline (execution-preview-host); the panel opens on it with the run's data
		const preview = page.getByTestId('execution-preview-host');
		const classifyNode = preview.locator('[data-test-id="canvas-node"][data-node-name="AI Classify"]');
		await classifyNode.waitFor();
		await classifyNode.dblclick();
		const ndv = page.getByTestId('ndv');
		await ndv.waitFor();
		const output = ndv.getByTestId('output-panel');
		await output.getByTestId('radio-button-json').click();
		await output.getByText('"classify"').first().waitFor();
		await sleep(1000);
		await shoot(page, 'ai-classify-output');

		// the review page of that ticket, desktop and phone
		const link = await waitUntil(
			'the review link of that ticket',
			async () => reviewLinks(await n8n.executions(linksId)).get(String(reviewed.id)),
			120_000,
			n8n.logs,
		);
		for (const [name, viewport] of [['review-page', DESKTOP], ['review-page-phone', PHONE]] as const) {
			const review = await browser.page({ viewport });
			await review.goto(link.reviewUrl);
			await review.locator('fieldset.item').first().waitFor();
			await shoot(review, name, true);
		}

		// every paused ticket approved, then the report of the stream both audit logs write
		const allLinks = await waitUntil(
			`${paused.length} review links`,
			async () => {
				const found = reviewLinks(await n8n.executions(linksId));
				return paused.every((e) => found.has(String(e.id))) ? found : undefined;
			},
			120_000,
			n8n.logs,
		);
		for (const e of paused) {
			const decided = await decide(allLinks.get(String(e.id))!.reviewUrl, { decision: 'approve' });
			if (decided.status !== 200) throw new Error(`approving execution ${e.id}: HTTP ${decided.status} ${JSON.stringify(decided.body)}`);
		}
		const report = await waitUntil(
			'the report to count every ticket',
			async () => {
				const res = await post(n8n, 'screenshots-report', {});
				if (res.status !== 200) return undefined;
				const [item] = (await res.json()) as any[];
				return item?.records === sampleTickets.length ? item : undefined;
			},
			180_000,
			n8n.logs,
		);
		const htmlFile = path.join(n8n.userFolder, 'report.html');
		fs.writeFileSync(htmlFile, report.html);
		for (const [name, viewport] of [['report', { width: 1100, height: 900 }], ['report-phone', PHONE]] as const) {
			const view = await browser.page({ viewport });
			await view.goto(`file://${htmlFile}`);
			await view.getByText('Support triage: AI audit').first().waitFor();
			await shoot(view, name, true);
		}

		await inboxShots(n8n, browser);
	} finally {
		await browser.close();
		await n8n.stop();
		await server.close();
	}
}

main().catch((error) => {
	process.stderr.write(`screenshots failed: ${(error as Error).stack ?? error}\n`);
	process.exit(1);
});
