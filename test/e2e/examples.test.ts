/**
 * Every workflow in examples/ inside a real single-process n8n, installed from the packed tarball, with
 * the local provider server answering by script (latency 0).
 *
 * Proves: each example imports and activates; every node type is ours (`n8n-nodes-governed-ai.*`, one of
 * the shipped nodes) or an n8n built-in. The support triage example on the 20 sample tickets: each ticket
 * takes the expected route (gate bands, the audit sample, hard rules, refund approval, Escalate); the
 * paused ones are resumed through the signed links their checkpoints posted to the "Review links"
 * example (one approved with an edit, one rejected, the rest approved) and finish; the audit log holds
 * exactly one record per ticket, and the accuracy review example finds the chain valid and renders the
 * HTML report as a binary file. The lead routing example routes the sample leads and logs each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { type ProviderServer, type RecordedRequest, type Reply, startProviderServer } from '../provider-server';
import { n8nInstall, nodeOutputs, REPO_ROOT, sharedN8n, type N8n } from './harness';
import {
	decide,
	EXAMPLES_DIR,
	loadExample,
	post,
	reviewLinks,
	routeOf,
	sampleTickets,
	ticketIdOf,
	triageResponder,
	triageSampleTickets,
	waitUntil,
} from './triage-helpers';

jest.setTimeout(15 * 60_000);

/** Where each sample ticket goes, given the scripted answers in triage.test.ts and the example's settings. */
const EXPECTED_ROUTES: Record<string, string> = {
	'T-4811': 'auto → refund', // refund needs approval → checkpoint
	'T-4812': 'auto → route_to_engineering', // rule: outages go to engineering, no model call
	'T-4813': 'auto → reply_with_article',
	'T-4814': 'auto → reply_with_article',
	'T-4815': 'auto → route_to_account_team', // rule: refund limit, refund not offered
	'T-4816': 'auto → route_to_account_team',
	'T-4817': 'auto → reply_with_article',
	'T-4818': 'auto → route_to_engineering',
	'T-4819': 'auto → escalate', // decision confidence 0.55 < 0.7
	'T-4820': 'review (sampled)', // confident, drawn for the 10 % audit sample
	'T-4821': 'review', // 0.65
	'T-4822': 'reject', // 0.3
	'T-4823': 'auto → route_to_engineering',
	'T-4824': 'auto → refund',
	'T-4825': 'auto → route_to_account_team',
	'T-4826': 'review',
	'T-4827': 'review',
	'T-4828': 'auto → reply_with_article',
	'T-4829': 'auto → reply_with_article',
	'T-4830': 'reject',
};
const TO_PERSON = /refund|escalate|review|reject/;

interface Lead {
	id: string;
	company: string;
}
const leads: Lead[] = loadExample('data/leads.json');
/** Scripted lead decisions (by company); rules decide L-301 and L-306 without the model. */
const LEAD_SCRIPT: Record<string, { action: string; confidence: number }> = {
	'Carter Consulting': { action: 'send_to_nurture', confidence: 0.8 },
	'Schulz IT Services': { action: 'route_to_partner_team', confidence: 0.9 },
	Finlytics: { action: 'book_sales_call', confidence: 0.85 },
	'Cheap Followers': { action: 'discard_as_spam', confidence: 0.97 },
	'Hall & Sons': { action: 'send_to_nurture', confidence: 0.6 },
};
const EXPECTED_LEADS: Record<string, string> = {
	'L-301': 'book_sales_call', // rule: large company
	'L-302': 'send_to_nurture',
	'L-303': 'route_to_partner_team',
	'L-304': 'book_sales_call',
	'L-305': 'discard_as_spam',
	'L-306': 'escalate', // large company on a free-mail address: the rules contradict each other
	'L-307': 'escalate', // 0.6 < 0.7
};

function responder(req: RecordedRequest): Reply {
	const triage = triageResponder(req);
	if (triage) return triage;
	const context = JSON.stringify(req.body?.messages ?? []);
	// by the company's first word: the fenced item escapes characters such as & (\u0026)
	const lead = Object.entries(LEAD_SCRIPT).find(([company]) => context.includes(company.split(' ')[0]));
	if (lead) return { json: { action: lead[1].action, reason: 'Scripted.', evidence: [], confidence: lead[1].confidence } };
	return { status: 400, message: `no scripted answer for: ${req.userText.slice(0, 200)}` };
}

const SHIPPED_NODES = new Set<string>(
	(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).n8n.nodes as string[]).map((file) => {
		const base = path.basename(file, '.node.js');
		return `n8n-nodes-governed-ai.${base[0].toLowerCase()}${base.slice(1)}`;
	}),
);

let server: ProviderServer;
let n8n: N8n;
const ids = new Map<string, string>();

beforeAll(async () => {
	server = await startProviderServer({ responder, latencyMs: 0 });
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-examples-secret', baseUrl: server.openaiBaseUrl } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

const exampleFiles = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();

test('every example imports, uses only our nodes and n8n built-ins, and activates', async () => {
	const install = await n8nInstall();
	const builtIn = new Set<string>(
		(JSON.parse(fs.readFileSync(path.join(install.dir, 'app', 'node_modules', 'n8n-nodes-base', 'dist', 'types', 'nodes.json'), 'utf8')) as any[]).map(
			(d) => `n8n-nodes-base.${d.name}`,
		),
	);
	expect(exampleFiles).toEqual(expect.arrayContaining(['support-triage.json', 'lead-routing.json', 'accuracy-review.json', 'review-links.json', 'invoice-intake.json']));
	for (const file of exampleFiles) {
		const workflow = loadExample(file);
		for (const node of workflow.nodes) {
			const known = node.type.startsWith('n8n-nodes-governed-ai.') ? SHIPPED_NODES.has(node.type) : builtIn.has(node.type);
			if (!known) throw new Error(`${file}: node "${node.name}" has type ${node.type}, neither a shipped node nor an n8n built-in`);
		}
		const id = await n8n.importWorkflow(workflow);
		ids.set(file, id);
		// the review links first: the checkpoints of the others post to it
		if (file !== 'review-links.json') continue;
		await n8n.activate(id);
	}
	for (const file of exampleFiles) if (file !== 'review-links.json') await n8n.activate(ids.get(file)!);
});

test('support triage: 20 sample tickets take their routes, paused ones are decided through signed links, one audit record each', async () => {
	const triageId = ids.get('support-triage.json')!;
	const linksId = ids.get('review-links.json')!;
	expect(sampleTickets.map((t) => t.id).sort()).toEqual(Object.keys(EXPECTED_ROUTES).sort());

	const started = Date.now();
	const settled = await triageSampleTickets(n8n, triageId, 180_000);
	console.log(`triage: ${sampleTickets.length} tickets settled in ${Date.now() - started} ms`);

	const byTicket = new Map<string, any>(settled.map((e) => [ticketIdOf(e), e]));
	expect([...byTicket.keys()].sort()).toEqual(Object.keys(EXPECTED_ROUTES).sort());
	const routes = Object.fromEntries([...byTicket].map(([id, e]) => [id, routeOf(e)]));
	expect(routes).toEqual(EXPECTED_ROUTES);
	for (const [id, execution] of byTicket) {
		const toPerson = TO_PERSON.test(EXPECTED_ROUTES[id]);
		expect({ id, status: execution.status }).toEqual({ id, status: toPerson ? 'waiting' : 'success' });
		const runData = execution.data.resultData.runData;
		if (!toPerson) {
			const [logged] = nodeOutputs(execution, 'Log Automatic Decision')[0];
			expect(logged.audit).toMatchObject({ stream: 'support-triage', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
			expect(runData['Human Checkpoint']).toBeUndefined();
		} else {
			expect(runData['Human Checkpoint']).toBeDefined();
			expect(runData['Log Human Decision']).toBeUndefined();
		}
	}
	// the hard rules held: the outage was forced without asking the model, the big refund was never offered
	const decided = (id: string) => {
		const outputs = nodeOutputs(byTicket.get(id), 'AI Decide');
		return outputs.flat()[0].ai.decide;
	};
	expect(decided('T-4812')).toMatchObject({ action: 'route_to_engineering', rule: 'Outages go to engineering', attempts: 0 });
	expect(decided('T-4815')).toMatchObject({ action: 'route_to_account_team', forbidden: ['refund'], rulesMatched: ['Refund limit'] });
	expect(decided('T-4811')).toMatchObject({ action: 'refund', requiresApproval: true });
	const classify = nodeOutputs(byTicket.get('T-4821'), 'AI Classify')[0][0].ai.classify;
	expect(classify).toMatchObject({ answer: 'billing', confidenceMethod: 'logprobs' });
	expect(classify.confidence).toBeCloseTo(0.65, 6);

	// the checkpoints posted their signed links to the review-links example
	const paused = [...byTicket].filter(([id]) => TO_PERSON.test(EXPECTED_ROUTES[id]));
	const links = await waitUntil(
		`${paused.length} review links`,
		async () => {
			const found = reviewLinks(await n8n.executions(linksId));
			return paused.every(([, e]) => found.has(String(e.id))) ? found : undefined;
		},
		60_000,
		n8n.logs,
	);
	for (const [, e] of paused) {
		const { reviewUrl, notification } = links.get(String(e.id))!;
		expect(reviewUrl).toContain('signature=');
		expect(notification.text).toContain('1 item waiting for review');
	}

	// a reviewer decides each: T-4821 approved with the label corrected, T-4822 rejected, the rest approved
	for (const [id, e] of paused) {
		const { reviewUrl } = links.get(String(e.id))!;
		const decision =
			id === 'T-4821'
				? { decision: 'approve' as const, edits: 'access', comment: 'Locked out of the account, not a billing question' }
				: id === 'T-4822'
					? { decision: 'reject' as const, comment: 'spam' }
					: { decision: 'approve' as const };
		const answer = await decide(reviewUrl, decision);
		expect({ id, status: answer.status, body: answer.body }).toMatchObject({ id, status: 200, body: { status: 'ok' } });
	}
	const finished = await waitUntil(
		'every triage execution to finish',
		async () => {
			const all = await n8n.executions(triageId);
			return all.length === sampleTickets.length && all.every((e) => e.status !== 'waiting' && e.status !== 'running' && e.status !== 'new') ? all : undefined;
		},
		120_000,
		n8n.logs,
	);
	for (const e of finished) expect({ ticket: ticketIdOf(e), status: e.status }).toEqual({ ticket: ticketIdOf(e), status: 'success' });
	const after = new Map<string, any>(finished.map((e) => [ticketIdOf(e), e]));
	const human = (id: string) => nodeOutputs(after.get(id), 'Human Checkpoint');
	const [edited] = human('T-4821')[1];
	expect(edited.ai.classify.answer).toBe('access');
	expect(edited.review).toMatchObject({ decision: 'edited', reviewer: 'lead@example.com', edits: { 'ai.classify.answer': { from: 'billing', to: 'access' } } });
	const [rejected] = human('T-4822')[2];
	expect(rejected.review).toMatchObject({ decision: 'rejected', comment: 'spam' });
	expect(human('T-4811')[1][0].review.decision).toBe('approved');

	// the audit log: one record per ticket, the human decisions recorded
	const file = path.join(n8n.userFolder, '.n8n', 'governed-ai-audit', 'support-triage.jsonl');
	const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
	expect(records.map((r) => r.input.ticketId).sort()).toEqual(Object.keys(EXPECTED_ROUTES).sort());
	expect(records.map((r) => r.sequence)).toEqual(records.map((_, i) => i + 1));
	const record = (id: string) => records.find((r) => r.input.ticketId === id);
	expect(record('T-4821')).toMatchObject({ nodeName: 'Log Human Decision', step: 'classify', answer: 'access', review: { decision: 'edited' } });
	expect(record('T-4822')).toMatchObject({ review: { decision: 'rejected' } });
	expect(record('T-4811')).toMatchObject({ step: 'decide', answer: 'refund', requiresApproval: true, review: { decision: 'approved' } });
	expect(record('T-4813')).toMatchObject({ nodeName: 'Log Automatic Decision', step: 'decide', answer: 'reply_with_article', review: null, gate: { band: 'auto' } });
	expect(records.filter((r) => r.review).length).toBe(paused.length);
	// redacted input copy: no e-mail address of a customer, and no key anywhere
	const text = fs.readFileSync(file, 'utf8');
	for (const ticket of sampleTickets) expect(text).not.toContain(ticket.customer.email);
	expect(text).not.toContain('sk-e2e-examples-secret');
});

test('accuracy review: the chain verifies and the HTML report is produced as a binary file', async () => {
	const id = ids.get('accuracy-review.json')!;
	const { data } = await n8n.execute(id);
	const [verified] = nodeOutputs(data, 'Verify Audit Chain')[0];
	expect(verified).toMatchObject({ stream: 'support-triage', valid: true, records: sampleTickets.length, firstBad: null });
	const [report] = nodeOutputs(data, 'Weekly Report')[0];
	expect(report.records).toBe(sampleTickets.length);
	expect(report.html).toMatch(/^<!DOCTYPE html>/);
	expect(report.html).toContain('Support triage: weekly AI accuracy review');
	const binary = data['Weekly Report'][0].data.main[0][0].binary.report;
	expect(binary).toMatchObject({ fileName: 'report.html', mimeType: 'text/html' });
	expect(data['Chain Broken']).toBeUndefined();
	console.log(`accuracy review: ${report.records} records, html ${report.html.length} chars`);
});

test('lead routing: each sample lead is routed, rules first, and logged', async () => {
	for (const lead of leads) {
		const res = await post(n8n, 'lead', lead);
		const text = await res.text();
		if (res.status !== 200) throw new Error(`lead ${lead.id}: HTTP ${res.status} ${text}\n${n8n.logs().slice(-3000)}`);
		const body: any = JSON.parse(text);
		expect({ lead: lead.id, action: body.ai?.decide?.action }).toEqual({ lead: lead.id, action: EXPECTED_LEADS[lead.id] });
		expect(body.leadId).toBe(lead.id);
		expect(body.audit).toMatchObject({ stream: 'leads', sequence: expect.any(Number) });
	}
	const file = path.join(n8n.userFolder, '.n8n', 'governed-ai-audit', 'leads.jsonl');
	const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
	expect(records.map((r) => r.input.leadId)).toEqual(leads.map((l) => l.id));
	expect(records.find((r) => r.input.leadId === 'L-301')).toMatchObject({ answer: 'book_sales_call' });
	// L-301 and L-306 were settled by the rules: the model never saw them
	expect(server.requests.some((r) => /Global Freight|San Rafael/.test(JSON.stringify(r.body?.messages ?? [])))).toBe(false);
});
