/**
 * Shared pieces of the triage example tests (examples.test.ts, queue.test.ts) and the demo: the example
 * files, the model answers recorded for the sample tickets (examples/data/recorded-answers.json), and small helpers to post tickets, find each ticket's
 * route, and resume the paused ones through their signed review links.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { sampleDraw } from '../../nodes/ConfidenceGate/gateItem';
import { recordedAnswer, type RecordedAnswers, type RecordedRequest, type Reply } from '../provider-server';
import { nodeOutputs, REPO_ROOT, type N8n } from './harness';

export const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function loadExample(file: string): any {
	return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
}

/**
 * An example made to run next to the same example of another test file in the shared n8n (harness.ts
 * `sharedN8n()`): every webhook path, the `/webhook/<path>` addresses that point at them (the checkpoints'
 * notification URL to the review links) and every audit stream get `-<suffix>`. examples.test.ts owns the
 * examples' own paths and streams.
 */
export function loadExampleAs(file: string, suffix: string): any {
	const workflow = loadExample(file);
	const paths: string[] = [];
	for (const node of workflow.nodes) {
		if (node.type === 'n8n-nodes-base.webhook' && typeof node.parameters?.path === 'string') {
			paths.push(node.parameters.path);
			node.parameters.path = `${node.parameters.path}-${suffix}`;
		}
		if (node.type === 'n8n-nodes-governed-ai.auditLog' && typeof node.parameters?.stream === 'string') {
			node.parameters.stream = `${node.parameters.stream}-${suffix}`;
		}
	}
	let text = JSON.stringify(workflow);
	// every address of a webhook of the examples, in any workflow (the triage checkpoint posts to review-links)
	for (const hook of new Set(['review-links', 'triage', 'lead', 'invoice-intake', ...paths])) {
		text = text.replace(new RegExp(`/webhook/${hook.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'), `/webhook/${hook}-${suffix}`);
	}
	return JSON.parse(text);
}

export interface Ticket {
	id: string;
	customer: { name: string; email: string; plan: string };
	subject: string;
	text: string;
	amount?: number;
	/** what a careful person would do with the ticket: its category and its route through the triage example */
	expected: { category: string; route: string };
}
export const sampleTickets: Ticket[] = loadExample('data/tickets.json');

/** The answers recorded per sample ticket (examples/data/recorded-answers.json): the demo replays the same ones. */
export const recordedAnswers: RecordedAnswers = loadExample('data/recorded-answers.json');

/** The recorded answers per sample ticket in short: the category with its probability, the action with its confidence. */
export const SCRIPT: Record<string, { category: string; p: number; action?: string; q?: number }> = Object.fromEntries(
	Object.entries(recordedAnswers.tickets).map(([id, { classify, decide }]) => [
		id,
		{ category: classify.label!, p: classify.confidence, ...(decide ? { action: decide.action, q: decide.confidence } : {}) },
	]),
);

/** The recorded model for the triage example: classify by label log-probability, decide among the offered actions. */
export function triageResponder(req: RecordedRequest): Reply | undefined {
	const offered: string[] = (req.schema as any)?.properties?.action?.enum ?? [];
	// only the triage example's decisions (a lead can quote a ticket subject word for word)
	if (offered.length && !offered.every((a) => DECIDE_OUTPUTS.includes(a))) return undefined;
	return recordedAnswer(req, recordedAnswers, sampleTickets);
}

/**
 * The route the support triage example gives a ticket's recorded answers, worked out from the
 * example's own settings without n8n: the gate's bands and audit sample (its real draw), the two
 * rules of AI Decide (the refund limit, outages to engineering) and Decide's threshold. The e2e suite
 * (examples.test.ts) checks the same routes in a real n8n.
 */
export function recordedRoute(ticket: Ticket): string {
	const workflow = loadExample('support-triage.json');
	const params = (name: string) => workflow.nodes.find((n: any) => n.name === name).parameters;
	const gate = params('Confidence Gate');
	const { classify, decide } = recordedAnswers.tickets[ticket.id];
	if (classify.confidence < gate.low) return 'reject';
	if (classify.confidence < gate.high) return 'review';
	if (sampleDraw(ticket.id) < gate.samplePercent / 100) return 'review (sampled)';
	if (classify.label === 'outage') return 'auto → route_to_engineering';
	if (!decide) throw new Error(`${ticket.id}: no recorded decide answer, but the model would be asked`);
	if (decide.action === 'refund' && Number(ticket.amount ?? 0) > 500) throw new Error(`${ticket.id}: refund is withheld above 500`);
	if (decide.confidence < params('AI Decide').threshold) return 'auto → escalate';
	return `auto → ${decide.action}`;
}

/** Whether a route is what the sample expects; a confident, correctly labelled item drawn for the audit sample counts (a person checks it by design). */
export function routedAsExpected(ticket: Ticket, route: string): boolean {
	if (route === ticket.expected.route) return true;
	return route === 'review (sampled)' && ticket.expected.route.startsWith('auto') && SCRIPT[ticket.id]?.category === ticket.expected.category;
}

/** POST to a production webhook; a freshly activated one can take a moment to register. */
export async function post(n8n: N8n, hookPath: string, body: unknown): Promise<Response> {
	const deadline = Date.now() + 15_000;
	for (;;) {
		const res = await n8n.webhook(hookPath, body);
		if (res.status !== 404 || Date.now() > deadline) return res;
		await res.text();
		await sleep(300);
	}
}

/** Polls until check() returns a value other than undefined. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, logs?: () => string): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: T | undefined;
	while (Date.now() < deadline) {
		last = await check();
		if (last !== undefined) return last;
		await sleep(1000);
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs?.().slice(-8000) ?? ''}`);
}

/** Posts every sample ticket to the triage webhook and waits until each of their executions has finished or paused. */
export async function triageSampleTickets(n8n: N8n, triageId: string, timeoutMs: number, hookPath = 'triage'): Promise<any[]> {
	for (const ticket of sampleTickets) {
		const res = await post(n8n, hookPath, ticket);
		expect(res.status).toBe(200);
		await res.text();
	}
	return await waitUntil(
		`${sampleTickets.length} triage executions to finish or pause`,
		async () => {
			const all = await n8n.executions(triageId);
			return all.length === sampleTickets.length && all.every((e) => ['success', 'waiting', 'error', 'crashed'].includes(e.status)) ? all : undefined;
		},
		timeoutMs,
		n8n.logs,
	);
}

export const DECIDE_OUTPUTS = ['refund', 'reply_with_article', 'route_to_engineering', 'route_to_account_team', 'escalate'];
const GATE_OUTPUTS = ['auto', 'review', 'reject'];

/** Where a ticket went in one execution of the triage example, e.g. "auto → refund" or "review (sampled)". */
export function routeOf(execution: any): string {
	const gate = nodeOutputs(execution, 'Confidence Gate');
	const band = gate.findIndex((items) => items.length > 0);
	if (band < 0) throw new Error(`execution ${execution.id}: the gate let nothing out`);
	if (GATE_OUTPUTS[band] !== 'auto') return `${GATE_OUTPUTS[band]}${gate[band][0].gate.sampled ? ' (sampled)' : ''}`;
	const decide = nodeOutputs(execution, 'AI Decide');
	return `auto → ${DECIDE_OUTPUTS[decide.findIndex((items) => items.length > 0)]}`;
}

export function ticketIdOf(execution: any): string {
	return nodeOutputs(execution, 'Ticket')[0][0].ticketId;
}

/** `/webhook-waiting/<execution id>/<node id>?…` → the execution id */
export function executionIdOfLink(reviewUrl: string): string {
	return new URL(reviewUrl).pathname.split('/').filter(Boolean)[1];
}

/** Review links the checkpoints posted to the "Review links" example: execution id → link. */
export function reviewLinks(executions: any[]): Map<string, { reviewUrl: string; notification: any }> {
	const links = new Map<string, { reviewUrl: string; notification: any }>();
	for (const execution of executions) {
		let body: any;
		try {
			body = nodeOutputs(execution, 'Review Requested')[0][0].body;
		} catch {
			continue;
		}
		if (typeof body?.reviewUrl === 'string') links.set(executionIdOfLink(body.reviewUrl), { reviewUrl: body.reviewUrl, notification: body });
	}
	return links;
}

/** The JSON call a programmatic reviewer makes (see nodes/HumanCheckpoint/README.md). */
export async function decide(
	reviewUrl: string,
	decision: { decision: 'approve' | 'reject'; edits?: unknown; comment?: string },
	reviewer = 'lead@example.com',
): Promise<{ status: number; body: any }> {
	const res = await fetch(reviewUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json' },
		body: JSON.stringify({ reviewer, items: [{ index: 0, ...decision }] }),
	});
	const text = await res.text();
	let body: any = text;
	try {
		body = JSON.parse(text);
	} catch {
		// not JSON: keep the text for the failure message
	}
	return { status: res.status, body };
}
