/**
 * Trust earned and withdrawn by the numbers, inside a real n8n (the packed package, one n8n for this file)
 * talking to the local provider server: AI Classify (OpenAI credential, log-probabilities) → Confidence Gate
 * version 2 → a deterministic reviewer → Audit Log (the default file sink).
 *
 * - Shadow: every item goes to Review, none is auto-routed, and agreement per label, as the Audit Log report
 *   and the gate's trust-state reader give it, equals a hand count over the audit records.
 * - Earned, the drift scenario at a smaller size than the unit test's full one (test/unit/trust.test.ts runs
 *   1,500 items per label through n8n's engine): per label 200 items before the drop, 100 reviewed items to
 *   earn; billing's accuracy then drops from 97 % to 70 %; at audit sample rates of 5 % and 20 % billing steps
 *   back within 60 sampled audits and no other label changes stage.
 *
 * The provider server is scripted per ticket: it answers the label the scenario gives the ticket, with a
 * log-probability that makes the confidence 0.97. Which answers are right is the scenario's ground truth
 * (test/unit/helpers/drift.ts), per label and phase. The reviewer is a Code node that sees the ticket's
 * ground truth (a field the model never sees) and decides as a Human Checkpoint records it: approved when
 * the AI's answer is the truth, else edited to the truth (the answer replaced, the edit kept as a diff).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import type { AuditRecord } from '../../nodes/AuditLog/record';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { jsonWithLogprobs, type ProviderServer, startProviderServer } from '../provider-server';
import { LABELS, scenarioItem, WRONG_TRUTH } from '../unit/helpers/drift';
import { sharedN8n, type N8n } from './harness';

jest.setTimeout(1_800_000);

/** The reviewer (the same decisions as reviewOf in test/unit/helpers/drift.ts, in the Code node's JavaScript). */
const REVIEWER = `
return $input.all().map((item) => {
	const json = item.json;
	const result = json.ai.classify;
	const agreed = result.answer === json.truth;
	const review = {
		decision: agreed ? 'approved' : 'edited',
		reviewer: 'scenario-reviewer',
		comment: null,
		edits: agreed ? null : { 'ai.classify.answer': { from: result.answer, to: json.truth } },
		decidedAt: new Date().toISOString(),
		waitedMs: 0,
	};
	const classify = agreed ? result : { ...result, answer: json.truth, label: json.truth };
	return { json: { ...json, ai: { ...json.ai, classify }, review } };
});
`;

function trustWorkflow(path: string, gate: Record<string, unknown>, stream: string) {
	const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
		id: randomUUID(),
		name,
		type,
		typeVersion,
		position: [0, 0],
		parameters,
		...extra,
	});
	return {
		name: `e2e trust ${path}`,
		nodes: [
			node('Webhook', 'n8n-nodes-base.webhook', 2, { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'allEntries', options: {} }, { webhookId: randomUUID() }),
			node('Tickets', 'n8n-nodes-base.code', 2, { jsCode: 'return $input.first().json.body.tickets.map((t) => ({ json: t }));' }),
			node(
				'AI Classify',
				'n8n-nodes-governed-ai.aiClassify',
				1,
				{
					provider: 'openai',
					model: 'gpt-4.1-mini',
					text: '={{ $json.text }}',
					categories: { category: [...LABELS, WRONG_TRUTH].map((name) => ({ name, description: `Tickets about ${name}` })) },
					confidenceMethod: 'logprobs',
					threshold: 0.5,
				},
				{ credentials: { governedAiOpenAiApi: { id: 'e2eTrustOpenAi1', name: 'Local OpenAI' } } },
			),
			node('Gate', 'n8n-nodes-governed-ai.confidenceGate', 2, { high: 0.9, low: 0.4, stream, ...gate }),
			node('Reviewer', 'n8n-nodes-base.code', 2, { jsCode: REVIEWER }),
			node('Audit Log', 'n8n-nodes-governed-ai.auditLog', 1, { stream }),
		],
		connections: {
			Webhook: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
			Tickets: { main: [[{ node: 'AI Classify', type: 'main', index: 0 }]] },
			'AI Classify': { main: [0, 1, 2, 3, 4].map(() => [{ node: 'Gate', type: 'main', index: 0 }]) },
			Gate: {
				main: [
					[{ node: 'Audit Log', type: 'main', index: 0 }],
					[{ node: 'Reviewer', type: 'main', index: 0 }],
					[{ node: 'Audit Log', type: 'main', index: 0 }],
				],
			},
			Reviewer: { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** The Report at version 1 (path trust-report-<stream>) or 3 (trust-report3-<stream>: with the stages). */
const reportWorkflow = (stream: string, version = 1) => ({
	name: `e2e trust report ${stream} v${version}`,
	nodes: [
		{ id: randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: randomUUID(), parameters: { httpMethod: 'POST', path: `trust-report${version === 1 ? '' : version}-${stream}`, responseMode: 'lastNode', responseData: 'allEntries', options: {} } },
		{ id: randomUUID(), name: 'Audit Log', type: 'n8n-nodes-governed-ai.auditLog', typeVersion: version, position: [220, 0], parameters: { operation: 'report', stream, window: 'all' } },
	],
	connections: { Webhook: { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
});

let server: ProviderServer;
let n8n: N8n;
/** ticket text → the label the provider answers */
const answers = new Map<string, string>();

async function post(path: string, body: unknown): Promise<any> {
	for (let attempt = 0; ; attempt++) {
		const res = await n8n.webhook(path, body);
		if (res.status === 200) return await res.json();
		if (res.status !== 404 || attempt > 20) throw new Error(`${path}: ${res.status} ${await res.text()}\n${n8n.logs().slice(-3000)}`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

async function records(stream: string): Promise<AuditRecord[]> {
	const text = await fs.readFile(join(n8n.userFolder, '.n8n', 'governed-ai-audit', `${stream}.jsonl`), 'utf8');
	return text.trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
}

const trustReader = (stream: string) => new FileSink(join(n8n.userFolder, '.n8n', 'governed-ai-audit', `${stream}.jsonl`)).trustSummary(stream);

beforeAll(async () => {
	server = await startProviderServer({ latencyMs: 0 });
	server.setResponder((req) => {
		const ticket = /Ticket [\w-]+/.exec(req.userText)?.[0] ?? '';
		const label = answers.get(ticket);
		if (!label) return { status: 400, message: `no scripted answer for "${ticket}"` };
		return jsonWithLogprobs({ label, reason: 'scripted', evidence: [] }, { [label]: Math.log(0.97) });
	});
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'e2eTrustOpenAi1', name: 'Local OpenAI', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-trust', baseUrl: server.openaiBaseUrl } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

/** Tickets for the scenario's items from..to: the provider learns their answers, the reviewer gets their truth. */
function tickets(run: string, from: number, to: number, phase1PerLabel: number) {
	const out = [];
	for (let index = from; index < to; index++) {
		const item = scenarioItem(run, index, phase1PerLabel);
		const text = `Ticket ${item.id}: a customer writes about their ${item.label} question.`;
		answers.set(`Ticket ${item.id}`, item.label);
		out.push({ id: item.id, text, truth: item.truth, phase: item.phase });
	}
	return out;
}

test('Shadow: nothing is auto-routed; agreement per label from the report and the trust reader equals a hand count', async () => {
	const stream = 'shadow';
	await n8n.activate(await n8n.importWorkflow(trustWorkflow('trust-shadow', { mode: 'shadow' }, stream)));
	await n8n.activate(await n8n.importWorkflow(reportWorkflow(stream)));
	for (let batch = 0; batch < 2; batch++) await post('trust-shadow', { tickets: tickets('shadow', batch * 60, batch * 60 + 60, 1000) });

	const all = await records(stream);
	expect(all).toHaveLength(120);
	// every item took the review path; what the AI alone would have done is recorded beside the person's decision
	expect(all.filter((r) => r.gate?.band !== 'review')).toEqual([]);
	expect(all.every((r) => r.gate?.mode === 'shadow' && r.gate.wouldBe === 'auto' && r.review)).toBe(true);
	const hand: Record<string, { reviewed: number; agreed: number }> = {};
	for (const r of all) {
		const entry = (hand[r.label!] ??= { reviewed: 0, agreed: 0 });
		entry.reviewed++;
		if (r.review!.decision === 'approved') entry.agreed++;
		// the link: the AI's label, the person's decision and, when they differ, the person's answer
		if (r.review!.decision === 'edited') expect(r.review!.edits).toEqual({ 'ai.classify.answer': { from: r.label, to: WRONG_TRUTH } });
	}
	expect(Object.keys(hand).sort()).toEqual([...LABELS].sort());
	expect(hand.other.agreed).toBeLessThan(hand.other.reviewed);

	const summary = await trustReader(stream);
	expect(Object.fromEntries(Object.entries(summary.labels).map(([label, l]) => [label, { reviewed: l.reviewed, agreed: l.agreed }]))).toEqual(hand);
	const [report] = await post(`trust-report-${stream}`, {});
	expect(Object.fromEntries(Object.entries(report.agreement.byLabel as Record<string, any>).map(([label, c]) => [label, { reviewed: c.reviewed, agreed: c.approved }]))).toEqual(hand);
	expect(report.gate.auto).toBe(0);
	expect(report).not.toHaveProperty('stages');
	// version 2's report: every label in the shadow stage since its first record
	await n8n.activate(await n8n.importWorkflow(reportWorkflow(stream, 3)));
	const [report2] = await post(`trust-report3-${stream}`, {});
	const firstAt = (label: string) => all.filter((r) => r.label === label).map((r) => r.at).sort()[0];
	expect(report2.stages).toEqual({
		byLabel: Object.fromEntries(
			[...LABELS].sort().map((label) => [label, expect.objectContaining({ stage: 'shadow', setBy: 'shadow mode', since: firstAt(label), lastChange: null, changesInWindow: 0 })]),
		),
		changes: [],
	});
	expect(report2.html).toContain('<h2>Stages</h2>');
});

describe.each([5, 20])('Earned, the drift scenario at an audit sample rate of %i %% (smaller size)', (auditPercent) => {
	const PHASE1 = 200;
	const stream = `earned${auditPercent}`;
	it('billing earns auto-routing, steps back within 60 sampled audits of the drop, and no other label changes stage', async () => {
		const path = `trust-earned-${auditPercent}`;
		await n8n.activate(
			await n8n.importWorkflow(trustWorkflow(path, { mode: 'earned', target: 0.9, minReviewed: 100, windowDays: 30, auditWindow: 20, auditPercent }, stream)),
		);
		const BATCH = 150;
		let index = 0;
		let dropSequence = -1;
		let autoRouted = 0;
		for (let run = 0; run < 60; run++) {
			if (index >= PHASE1 * LABELS.length && dropSequence < 0) dropSequence = (await records(stream)).length;
			const summary = await trustReader(stream);
			if (summary.labels.billing?.epoch >= 2) break;
			const end = index < PHASE1 * LABELS.length ? Math.min(PHASE1 * LABELS.length, index + BATCH) : index + BATCH;
			const answered = await post(path, { tickets: tickets(stream, index, end, PHASE1) });
			expect(answered.length).toBeGreaterThan(0);
			index = end;
		}
		const all = await records(stream);
		autoRouted = all.filter((r) => r.gate?.band === 'auto').length;
		const changes = all.filter((r) => r.kind === 'trust-change');
		const of = (label: string) => changes.filter((c) => c.label === label).map((c) => `${c.trust!.from}->${c.trust!.to}@${c.sequence < dropSequence ? 'before' : 'after'}`);
		expect(of('billing')).toEqual(['review->auto@before', 'auto->review@after']);
		expect(of('shipping')).toEqual(['review->auto@before']);
		expect(of('other')).toEqual([]);
		const stepBack = changes.find((c) => c.label === 'billing' && c.trust!.to === 'review')!;
		const audits = all.filter((r) => r.sequence > dropSequence && r.sequence < stepBack.sequence && r.label === 'billing' && r.gate?.sampled && r.review).length;
		expect(audits).toBeGreaterThan(0);
		expect(audits).toBeLessThanOrEqual(60);
		expect(autoRouted).toBeGreaterThan(0);
		// trust changes are made by the gate inside n8n and chained with the decisions
		expect(stepBack).toMatchObject({ v: 3, nodeName: 'Gate', workflowId: expect.any(String), executionId: expect.any(String) });
		console.log(`e2e drift at ${auditPercent} %: billing stepped back after ${audits} sampled audits after the drop (${index} tickets, ${autoRouted} auto-routed); ${stepBack.trust!.reason}`);
		const summary = await trustReader(stream);
		expect(summary.labels.billing.stage).toBe('review');
		expect(summary.labels.shipping.stage).toBe('auto');

		// version 2's report of the stream: each label's stage, since when and why, and the changes, as counted above
		await n8n.activate(await n8n.importWorkflow(reportWorkflow(stream, 3)));
		const [report] = await post(`trust-report3-${stream}`, {});
		const last = (label: string) => changes.filter((c) => c.label === label).at(-1)!;
		expect(report.stages.changes.map((c: any) => [c.sequence, c.label, c.from, c.to, c.at, c.reason])).toEqual(
			changes.map((c) => [c.sequence, c.label, c.trust!.from, c.trust!.to, c.at, c.trust!.reason]),
		);
		expect(report.stages.byLabel.billing).toMatchObject({ stage: 'review', setBy: 'trust-change', since: stepBack.at, why: stepBack.trust!.reason, changesInWindow: 2 });
		expect(report.stages.byLabel.billing.lastChange).toMatchObject({ reviewed: stepBack.trust!.reviewed, agreed: stepBack.trust!.agreed, upperBound: stepBack.trust!.upperBound });
		expect(report.stages.byLabel.shipping).toMatchObject({ stage: 'auto', since: last('shipping').at, why: last('shipping').trust!.reason, changesInWindow: 1 });
		expect(report.stages.byLabel.other).toMatchObject({ stage: 'review', setBy: 'earned mode', since: null, changesInWindow: 0 });
	});
});
