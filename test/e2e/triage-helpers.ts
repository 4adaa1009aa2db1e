/**
 * Shared pieces of the triage example tests (examples.test.ts, queue.test.ts): the example files, the
 * scripted model answers for the sample tickets, and small helpers to post tickets, find each ticket's
 * route, and resume the paused ones through their signed review links.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { jsonWithLogprobs, type RecordedRequest, type Reply } from '../provider-server';
import { nodeOutputs, REPO_ROOT, type N8n } from './harness';

export const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function loadExample(file: string): any {
	return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
}

export interface Ticket {
	id: string;
	customer: { name: string; email: string; plan: string };
	subject: string;
	text: string;
	amount?: number;
}
export const sampleTickets: Ticket[] = loadExample('data/tickets.json');

/** What the scripted model answers per sample ticket: the category with its probability, the action with its confidence. */
export const SCRIPT: Record<string, { category: string; p: number; action?: string; q?: number }> = {
	'T-4811': { category: 'billing', p: 0.95, action: 'refund', q: 0.92 },
	'T-4812': { category: 'outage', p: 0.97 },
	'T-4813': { category: 'access', p: 0.93, action: 'reply_with_article', q: 0.88 },
	'T-4814': { category: 'feature', p: 0.9, action: 'reply_with_article', q: 0.85 },
	// wants a refund, but 1,200 is above the refund limit: the model only sees the other actions
	'T-4815': { category: 'billing', p: 0.96, action: 'refund', q: 0.9 },
	'T-4816': { category: 'other', p: 0.9, action: 'route_to_account_team', q: 0.85 },
	'T-4817': { category: 'billing', p: 0.92, action: 'reply_with_article', q: 0.9 },
	'T-4818': { category: 'outage', p: 0.88 },
	'T-4819': { category: 'access', p: 0.91, action: 'reply_with_article', q: 0.55 },
	'T-4820': { category: 'feature', p: 0.95, action: 'reply_with_article', q: 0.9 },
	'T-4821': { category: 'billing', p: 0.65 },
	'T-4822': { category: 'other', p: 0.3 },
	'T-4823': { category: 'outage', p: 0.94 },
	'T-4824': { category: 'billing', p: 0.93, action: 'refund', q: 0.9 },
	'T-4825': { category: 'access', p: 0.86, action: 'route_to_account_team', q: 0.9 },
	'T-4826': { category: 'feature', p: 0.7 },
	'T-4827': { category: 'outage', p: 0.72 },
	'T-4828': { category: 'billing', p: 0.97, action: 'reply_with_article', q: 0.93 },
	'T-4829': { category: 'access', p: 0.9, action: 'reply_with_article', q: 0.9 },
	'T-4830': { category: 'other', p: 0.45 },
};

/** The sample ticket a request is about: the one whose subject the prompt holds (longest match wins). */
function ticketOf(req: RecordedRequest): Ticket | undefined {
	const text = JSON.stringify(req.body?.messages ?? []);
	return sampleTickets
		.filter((t) => text.includes(t.subject))
		.sort((a, b) => b.subject.length - a.subject.length)[0];
}

/** The scripted model for the triage example: classify by label log-probability, decide among the offered actions. */
export function triageResponder(req: RecordedRequest): Reply | undefined {
	const ticket = ticketOf(req);
	const props = (req.schema as any)?.properties ?? {};
	if (!ticket || !SCRIPT[ticket.id]) return undefined;
	const script = SCRIPT[ticket.id];
	if (props.label) {
		return jsonWithLogprobs(
			{ label: script.category, reason: `Scripted: ${script.category}.`, evidence: [ticket.subject] },
			{ [script.category]: Math.log(script.p) },
		);
	}
	const offered: string[] = props.action?.enum ?? [];
	// only the triage example's decisions (a lead can quote a ticket subject word for word)
	if (offered.length && offered.every((a) => DECIDE_OUTPUTS.includes(a))) {
		const action = offered.includes(script.action ?? '') ? script.action : 'route_to_account_team';
		return { json: { action, reason: `Scripted: ${action}.`, evidence: [ticket.subject], confidence: script.q ?? 0.9 } };
	}
	return undefined;
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
export async function triageSampleTickets(n8n: N8n, triageId: string, timeoutMs: number): Promise<any[]> {
	for (const ticket of sampleTickets) {
		const res = await post(n8n, 'triage', ticket);
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
