/**
 * The support triage example in n8n's queue mode: one main and two workers on the local Redis, n8n's data
 * in PostgreSQL, the audit log switched to the PostgreSQL sink (a table of its own per run, dropped after).
 * 200 tickets are posted to the main's webhook; the checkpoints post their signed links to the "Review
 * links" example, and every paused ticket is decided through the main.
 *
 * Proves: every execution succeeds (the paused ones after their decision); each ticket has exactly one
 * audit record (nothing duplicated or lost across workers); the chain, written by two workers at once,
 * verifies (Audit Log Verify inside n8n) with a gap-free sequence; and the resumed executions continued
 * on a worker, not on the main that received the decision.
 */
import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

import { type ProviderServer, type RecordedRequest, type Reply, startProviderServer } from '../provider-server';
import { startN8n, type N8n } from './harness';
import { decide, loadExample, post, reviewLinks, sampleTickets, sleep, triageResponder, waitUntil } from './triage-helpers';

jest.setTimeout(20 * 60_000);

const TICKETS = 200;
/** Posts and decisions in flight at once: enough to keep both workers busy on a 2-core machine. */
const CONCURRENCY = 6;
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };
const table = `triage_audit_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

function responder(req: RecordedRequest): Reply {
	return triageResponder(req) ?? { status: 400, message: `no scripted answer for: ${req.userText.slice(0, 200)}` };
}

/** 200 tickets made from the 20 samples: unique ids, the sample's subject (which the script keys on) plus a number. */
const tickets = Array.from({ length: TICKETS }, (_, k) => {
	const sample = sampleTickets[k % sampleTickets.length];
	return { ...sample, id: `Q-${String(k + 1).padStart(3, '0')}`, subject: `${sample.subject} (#${k + 1})` };
});

async function pool<T>(inputs: T[], limit: number, work: (input: T) => Promise<void>) {
	let next = 0;
	await Promise.all(
		Array.from({ length: limit }, async () => {
			while (next < inputs.length) await work(inputs[next++]);
		}),
	);
}

/** Executions without their data (the public API, every page): status counts stay cheap for 200+ runs. */
async function statuses(n8n: N8n, workflowId: string, status?: string): Promise<Array<{ id: string; status: string }>> {
	const all: Array<{ id: string; status: string }> = [];
	let cursor: string | undefined;
	do {
		const query = new URLSearchParams({ workflowId, limit: '250', includeData: 'false', ...(status ? { status } : {}) });
		if (cursor) query.set('cursor', cursor);
		const res = await fetch(`${n8n.baseUrl}/api/v1/executions?${query}`, { headers: { 'X-N8N-API-KEY': n8n.apiKey, accept: 'application/json' } });
		if (res.status !== 200) throw new Error(`GET /executions: HTTP ${res.status} ${await res.text()}`);
		const page: any = await res.json();
		all.push(...page.data.map((e: any) => ({ id: String(e.id), status: e.status })));
		cursor = page.nextCursor ?? undefined;
	} while (cursor);
	return all;
}

async function storedStatus(n8n: N8n, id: string): Promise<string> {
	const res = await fetch(`${n8n.baseUrl}/api/v1/executions/${id}?includeData=false`, { headers: { 'X-N8N-API-KEY': n8n.apiKey, accept: 'application/json' } });
	if (res.status !== 200) throw new Error(`GET /executions/${id}: HTTP ${res.status} ${await res.text()}`);
	return ((await res.json()) as { status: string }).status;
}

function countBy(values: string[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const v of values) out[v] = (out[v] ?? 0) + 1;
	return out;
}

function pgSinkWorkflow(workflow: any) {
	for (const node of workflow.nodes) {
		if (node.type !== 'n8n-nodes-governed-ai.auditLog') continue;
		node.parameters = { ...node.parameters, sink: 'postgres', tableName: table };
		node.credentials = { governedAiPostgres: { id: 'auditpg', name: 'Audit PostgreSQL' } };
	}
	return workflow;
}

const verifyWorkflow = {
	name: 'queue e2e: verify the triage audit chain',
	nodes: [
		{
			id: 'a0e2e000-0000-4000-8000-000000000001',
			name: 'Verify Requested',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: 'a0e2e000-0000-4000-8000-000000000001',
			parameters: { httpMethod: 'POST', path: 'queue-verify', responseMode: 'lastNode', responseData: 'firstEntryJson', options: {} },
		},
		{
			id: 'a0e2e000-0000-4000-8000-000000000002',
			name: 'Verify Audit Chain',
			type: 'n8n-nodes-governed-ai.auditLog',
			typeVersion: 1,
			position: [240, 0],
			parameters: { operation: 'verify', sink: 'postgres', tableName: table, stream: 'support-triage', options: {} },
			credentials: { governedAiPostgres: { id: 'auditpg', name: 'Audit PostgreSQL' } },
		},
	],
	connections: { 'Verify Requested': { main: [[{ node: 'Verify Audit Chain', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
};

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer({ responder, latencyMs: 0 });
	n8n = await startN8n({ mode: 'queue', workers: 2 });
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-queue-secret', baseUrl: server.openaiBaseUrl } },
		{ id: 'auditpg', name: 'Audit PostgreSQL', type: 'governedAiPostgres', data: { ...PG, password: '', ssl: 'disable' } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
	const client = new Client(PG);
	await client.connect();
	await client.query(`DROP TABLE IF EXISTS ${table}`).finally(() => client.end());
});

test('200 tickets through the triage example on one main and two workers: all succeed, one audit record each, a valid chain', async () => {
	const linksId = await n8n.importWorkflow(loadExample('review-links.json'));
	const triageId = await n8n.importWorkflow(pgSinkWorkflow(loadExample('support-triage.json')));
	const verifyId = await n8n.importWorkflow(verifyWorkflow);
	for (const id of [linksId, triageId, verifyId]) await n8n.activate(id);

	const t0 = Date.now();
	await pool(tickets, CONCURRENCY, async (ticket) => {
		const res = await post(n8n, 'triage', ticket);
		if (res.status !== 200) throw new Error(`posting ${ticket.id}: HTTP ${res.status} ${await res.text()}`);
		await res.text();
	});
	const posted = Date.now() - t0;

	const settled = await waitUntil(
		`${TICKETS} executions to finish or pause`,
		async () => {
			const all = await statuses(n8n, triageId);
			return all.length === TICKETS && all.every((e) => ['success', 'waiting', 'error', 'crashed', 'canceled'].includes(e.status)) ? all : undefined;
		},
		10 * 60_000,
		n8n.logs,
	);
	const settledMs = Date.now() - t0;
	const counts = countBy(settled.map((e) => e.status));
	console.log(`queue: ${TICKETS} tickets posted in ${posted} ms, settled in ${settledMs} ms: ${JSON.stringify(counts)}`);
	expect(Object.keys(counts).sort()).toEqual(['success', 'waiting']);
	const waiting = settled.filter((e) => e.status === 'waiting').map((e) => e.id);

	// every paused ticket posted its link; a reviewer decides each through the main
	const links = await waitUntil(
		`${waiting.length} review links`,
		async () => {
			const found = reviewLinks(await n8n.executions(linksId));
			return waiting.every((id) => found.has(id)) ? found : undefined;
		},
		5 * 60_000,
		n8n.logs,
	);
	const t1 = Date.now();
	await pool(waiting, CONCURRENCY, async (id) => {
		const { reviewUrl } = links.get(id)!;
		expect(reviewUrl.startsWith(n8n.baseUrl)).toBe(true);
		// a few rejected, the rest approved: either way the execution goes on to the audit log
		const answer = await decide(reviewUrl, { decision: Number(id) % 7 === 0 ? 'reject' : 'approve' });
		if (answer.status !== 200) throw new Error(`deciding execution ${id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
	});
	// The list of the public API leaves out executions the main still tracks as running in memory; after a
	// resume that can outlast the run (seen: 2 of ~90), so those are read one by one (stored status).
	const allStatuses = async () => {
		const listed = new Map((await statuses(n8n, triageId)).map((e) => [e.id, e.status]));
		const unlisted = settled.filter((e) => !listed.has(e.id)).map((e) => e.id);
		for (const id of unlisted) listed.set(id, `${await storedStatus(n8n, id)} (not listed)`);
		return { all: [...listed].map(([id, status]) => ({ id, status: status.replace(' (not listed)', '') })), unlisted };
	};
	let done: Array<{ id: string; status: string }>;
	try {
		done = await waitUntil(
			'every execution to finish',
			async () => {
				const { all } = await allStatuses();
				return all.every((e) => !['waiting', 'running', 'new'].includes(e.status)) ? all : undefined;
			},
			4 * 60_000,
		);
	} catch (error) {
		const { all } = await allStatuses();
		const logs = n8n.logs().split('\n');
		const about = all.filter((e) => e.status !== 'success').map((e) => `execution ${e.id} (${e.status}):\n${logs.filter((l) => new RegExp(`xecution ${e.id}\\b`).test(l)).join('\n')}`);
		throw new Error(`${(error as Error).message.split('\n')[0]}; not finished:\n${about.join('\n')}`);
	}
	const { unlisted } = await allStatuses();
	if (unlisted.length) {
		const logs = n8n.logs().split('\n');
		console.log(`queue: finished but left out of the public API list (the main still counts them as running): ${unlisted.join(', ')}\n${unlisted.map((id) => logs.filter((l) => new RegExp(`xecution ${id}\\b`).test(l)).join('\n')).join('\n')}`);
	}
	console.log(`queue: ${waiting.length} paused tickets decided and finished in ${Date.now() - t1} ms`);
	expect(done).toHaveLength(TICKETS);
	expect(countBy(done.map((e) => e.status))).toEqual({ success: TICKETS });
	const linkRuns = await statuses(n8n, linksId);
	expect(countBy(linkRuns.map((e) => e.status))).toEqual({ success: waiting.length });

	// one audit record per ticket, a gap-free sequence, a review on exactly the paused ones
	const client = new Client(PG);
	await client.connect();
	try {
		const perTicket = await client.query<{ ticket: string; n: string }>(
			`SELECT record->'input'->>'ticketId' AS ticket, count(*) AS n FROM ${table} WHERE stream = 'support-triage' GROUP BY 1`,
		);
		const byTicket = Object.fromEntries(perTicket.rows.map((r) => [r.ticket, Number(r.n)]));
		expect(Object.keys(byTicket).sort()).toEqual(tickets.map((t) => t.id).sort());
		expect(Object.values(byTicket).every((n) => n === 1)).toBe(true);
		const sequences = await client.query<{ sequence: string }>(`SELECT sequence FROM ${table} WHERE stream = 'support-triage' ORDER BY sequence`);
		expect(sequences.rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: TICKETS }, (_, i) => i + 1));
		const reviewed = await client.query<{ execution: string }>(
			`SELECT record->>'executionId' AS execution FROM ${table} WHERE stream = 'support-triage' AND record->'review' <> 'null'::jsonb`,
		);
		expect(reviewed.rows.map((r) => r.execution).sort()).toEqual([...waiting].sort());
	} finally {
		await client.end();
	}

	// Audit Log Verify, inside n8n on a worker: the chain two workers wrote at once is intact
	const res = await post(n8n, 'queue-verify', {});
	expect(res.status).toBe(200);
	expect(await res.json()).toMatchObject({ stream: 'support-triage', valid: true, records: TICKETS, firstBad: null });

	// the decisions reached the main; the executions continued on a worker (started there before and after the pause)
	await sleep(500);
	const logs = n8n.logs().split('\n');
	const startedOn = (id: string) =>
		logs.filter((line) => /started execution/i.test(line) && new RegExp(`execution ${id}\\b`).test(line)).map((line) => /^\[([\w-]+)\]/.exec(line)?.[1]);
	const perWorker: Record<string, number> = {};
	for (const id of waiting) {
		const where = startedOn(id);
		expect({ id, beforeAndAfterThePause: where.length >= 2, onMain: where.includes('main') }).toEqual({ id, beforeAndAfterThePause: true, onMain: false });
		for (const w of where) perWorker[w!] = (perWorker[w!] ?? 0) + 1;
	}
	console.log(`queue: runs of the paused executions per worker (before + after the pause): ${JSON.stringify(perWorker)}`);
	expect(Object.keys(perWorker).every((w) => /^worker-\d$/.test(w))).toBe(true);
	expect(server.requests.some((r) => JSON.stringify(r.headers).includes('sk-e2e-queue-secret'))).toBe(false);
});
