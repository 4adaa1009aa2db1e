/**
 * The Review Inbox where it must hold up: n8n's queue mode and a crash.
 *
 * Queue mode (1 main + 2 workers, Redis + PostgreSQL; the checkpoints and the inbox use the PostgreSQL review
 * store through the credential the Audit Log uses): 10 executions wait with 2 items each. Item 1 of each is
 * approved by ada; then ada (approve) and bob (reject) decide item 0 at the same moment, for all 10. Proves:
 * exactly one of each pair wins, the other gets a JSON 409 "already_decided"; every execution finishes once
 * (success; the winner's verdict on its output with the winner's name); each resumed run was a job on a
 * worker (the workers' own "Worker started execution N" log lines: twice per execution, never on the main);
 * the store and the Audit Log (PostgreSQL sink after the inbox) hold one decision per item.
 *
 * Crash (one n8n, the embedded file store, its SQLite data in a user folder kept across the restart): the
 * signed resume links point at a small proxy of this test (WEBHOOK_URL). The proxy holds the inbox's resume
 * POST; at that moment the decision is already in the store (read from its file), and n8n is SIGKILLed. n8n
 * starts again on the same folder and port, the proxy lets requests through, and inbox requests finish the
 * round: the execution ends once with the decided items, the resume link was called once, the store says
 * resumed and the Audit Log has one "resumed" event for it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from 'pg';

import { hashPassword } from '../../nodes/ReviewInbox/identity';
import { freePort, nodeOutputs, RUN_ROOT, startCrashableN8n, startN8n, type CrashableN8n, type N8n } from './harness';

jest.setTimeout(30 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };
const PASSWORDS = { ada: 'ada-pass-1', bob: 'bob-pass-2' };
const REVIEWERS = {
	id: 'queueReviewers1',
	name: 'Reviewers',
	type: 'governedAiReviewers',
	data: {
		reviewers: `ada: ${hashPassword(PASSWORDS.ada)}\nbob: ${hashPassword(PASSWORDS.bob)}`,
		groups: 'support: ada, bob',
		sessionSecret: 'e2e-session-secret-queue-0123456789',
		trustedHeader: 'X-Forwarded-User',
		trustedProxies: '127.0.0.1',
	},
};
const PG_CREDENTIAL = { id: 'reviewpg', name: 'Review PostgreSQL', type: 'governedAiPostgres', data: { ...PG, password: '', ssl: 'disable' } };
const pgCredentials = { governedAiPostgres: { id: PG_CREDENTIAL.id, name: PG_CREDENTIAL.name } };

let uid = 0;
const id = () => `2c0d0000-0000-4000-8000-${String(++uid).padStart(12, '0')}`;

/** Webhook → Code (`count` tickets with a fake classify result) → Human Checkpoint v3 in the inbox → NoOps. */
function checkpointWorkflow(name: string, hookPath: string, count: number, store: Record<string, unknown>, credentials?: object) {
	const code = `const run = $input.first().json.body?.run ?? 0;
return Array.from({ length: ${count} }, (_, i) => ({ json: { id: i + 1, run, ticket: 'Ticket ' + run + '.' + (i + 1), ai: { latest: 'classify', classify: {
  decisionId: 'dec-' + run + '-' + i, step: 'classify', answer: 'refund', confidence: 0.6, confidenceMethod: 'logprobs',
  reason: 'because', evidence: [], needsReview: true, provider: 'openai', model: 'fake',
  usage: { inputTokens: 10, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 }, costUsd: 0.0001,
  attempts: 1, latencyMs: 5, promptHash: 'sha256:x', at: '2026-01-01T00:00:00.000Z' } } } }));`;
	return {
		name,
		nodes: [
			{ id: id(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: id(), parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'onReceived', options: {} } },
			{ id: id(), name: 'Fake Classify', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
			{
				id: id(),
				name: 'Human Checkpoint',
				type: 'n8n-nodes-governed-ai.humanCheckpoint',
				typeVersion: 3,
				position: [400, 0],
				webhookId: id(),
				parameters: { operation: 'sendAndWait', reviewIn: 'inbox', fieldsToShow: 'ticket', fourEyes: 'never', reviewerGroup: 'support', ...store },
				...(credentials ? { credentials } : {}),
			},
			{ id: id(), name: 'No Response', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, -150], parameters: {} },
			{ id: id(), name: 'Approved', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 0], parameters: {} },
			{ id: id(), name: 'Rejected', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [650, 150], parameters: {} },
		],
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

/** Review Inbox (webhook) → Audit Log, with the given store and audit sink parameters. */
function inboxWorkflow(inboxPath: string, store: Record<string, unknown>, audit: Record<string, unknown>, withPg: boolean) {
	return {
		name: `Review Inbox ${inboxPath}`,
		nodes: [
			{
				id: id(),
				name: 'Review Inbox',
				type: 'n8n-nodes-governed-ai.reviewInbox',
				typeVersion: 1,
				position: [0, 0],
				webhookId: id(),
				parameters: { path: inboxPath, ...store },
				credentials: { governedAiReviewers: { id: REVIEWERS.id, name: REVIEWERS.name }, ...(withPg ? pgCredentials : {}) },
			},
			{
				id: id(),
				name: 'Audit Log',
				type: 'n8n-nodes-governed-ai.auditLog',
				typeVersion: 1,
				position: [250, 0],
				parameters: { operation: 'append', stream: 'inbox', includeInput: true, ...audit },
				...(withPg ? { credentials: pgCredentials } : {}),
			},
		],
		connections: { 'Review Inbox': { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/** Polls `probe` until it returns a value; fails with `what` (and the n8n logs) after `timeoutMs`. */
async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, logs?: () => string): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value !== undefined) return value;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n${logs?.().slice(-8000) ?? ''}`);
		}
		await sleep(1000);
	}
}

type Who = { header: string };

/** One reviewer's call of the inbox API (trusted header from 127.0.0.1); the answer must be JSON. */
async function inboxApi(url: string, who: Who, body?: Record<string, unknown>, query = ''): Promise<{ status: number; json: any }> {
	const headers: Record<string, string> = { accept: 'application/json', 'x-forwarded-user': who.header };
	if (body) headers['content-type'] = 'application/json';
	const res = await fetch(`${url}${query}`, { method: body ? 'POST' : 'GET', headers, body: body ? JSON.stringify(body) : undefined });
	const text = await res.text();
	try {
		return { status: res.status, json: JSON.parse(text) };
	} catch {
		throw new Error(`the inbox answered HTTP ${res.status} with something that is not JSON: ${text.slice(0, 500)}`);
	}
}

/** Posts to a trigger webhook until it is registered (a 404 right after activation), then expects 200. */
async function trigger(n8n: N8n, hookPath: string, body: object): Promise<void> {
	let res = await n8n.webhook(hookPath, body);
	for (let i = 0; res.status === 404 && i < 120; i++) {
		await res.text();
		await sleep(500);
		res = await n8n.webhook(hookPath, body);
	}
	const text = await res.text();
	if (res.status !== 200) throw new Error(`POST ${hookPath}: HTTP ${res.status} ${text.slice(0, 500)}`);
}

async function pgQuery<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
	const client = new Client(PG);
	await client.connect();
	try {
		return (await client.query<R>(sql, params)).rows;
	} finally {
		await client.end();
	}
}

describe('Review Inbox in queue mode (1 main + 2 workers, PostgreSQL review store)', () => {
	const EXECUTIONS = 10;
	const reviewTable = `review_queue_${suffix}`;
	const auditTable = `review_queue_audit_${suffix}`;
	const inboxName = `queue-${suffix}`;
	const inboxPath = `inbox-queue-${suffix}`;
	const hookPath = `inbox-queue-start-${suffix}`;
	const store = { inboxName, reviewStore: 'postgres', reviewTable };
	let n8n: N8n;
	let workflowId: string;
	let inboxUrl: string;
	const ada: Who = { header: 'ada' };
	const bob: Who = { header: 'bob' };

	beforeAll(async () => {
		n8n = await startN8n({ mode: 'queue', workers: 2 });
		await n8n.importCredentials([REVIEWERS, PG_CREDENTIAL]);
		workflowId = await n8n.importWorkflow(checkpointWorkflow(`Inbox queue ${suffix}`, hookPath, 2, store, pgCredentials));
		await n8n.activate(workflowId);
		const inboxId = await n8n.importWorkflow(inboxWorkflow(inboxPath, store, { sink: 'postgres', tableName: auditTable }, true));
		await n8n.activate(inboxId);
		inboxUrl = `${n8n.baseUrl}/webhook/${inboxPath}`;
	});

	afterAll(async () => {
		await n8n?.stop();
		await pgQuery(`DROP TABLE IF EXISTS ${reviewTable}, ${reviewTable}_rounds, ${auditTable}, ${auditTable}_trust`).catch(() => undefined);
	});

	it('decisions taken on the main resume on workers; two reviewers racing for an item: one wins, the other is told; each execution ends once', async () => {
		for (let run = 1; run <= EXECUTIONS; run++) await trigger(n8n, hookPath, { run });
		// every execution waits, and its two items are in the inbox (the pause records them on a worker)
		const waiting = await waitUntil(
			`${EXECUTIONS} waiting executions with ${2 * EXECUTIONS} items in the inbox`,
			async () => {
				const executions = (await n8n.executions(workflowId)).filter((e) => e.status === 'waiting');
				if (executions.length < EXECUTIONS) return undefined;
				const answer = await inboxApi(inboxUrl, ada, undefined, '?api=items');
				return answer.status === 200 && answer.json.items.length === 2 * EXECUTIONS ? answer.json.items : undefined;
			},
			5 * 60_000,
			n8n.logs,
		);
		const byExecution = new Map<string, any[]>();
		for (const item of waiting) byExecution.set(item.executionId, [...(byExecution.get(item.executionId) ?? []), item].sort((a, b) => a.itemIndex - b.itemIndex));
		expect(byExecution.size).toBe(EXECUTIONS);
		expect(JSON.stringify(waiting)).not.toMatch(/webhook-waiting|signature/);

		const winners = new Map<string, 'ada' | 'bob'>();
		for (const [executionId, [first, second]] of byExecution) {
			const single = await inboxApi(inboxUrl, ada, { action: 'decide', id: second.id, decision: 'approve' });
			expect(single).toMatchObject({ status: 200, json: { status: 'ok', final: true } });
			// the race: the item whose decision completes the round, by two reviewers at the same moment
			const [byAda, byBob] = await Promise.all([
				inboxApi(inboxUrl, ada, { action: 'decide', id: first.id, decision: 'approve' }),
				inboxApi(inboxUrl, bob, { action: 'decide', id: first.id, decision: 'reject' }),
			]);
			const won = [byAda, byBob].filter((a) => a.status === 200);
			const lost = [byAda, byBob].filter((a) => a.status !== 200);
			expect({ executionId, won: won.length, lost: lost.length }).toEqual({ executionId, won: 1, lost: 1 });
			expect(won[0].json).toMatchObject({ status: 'ok', final: true });
			expect(lost[0]).toMatchObject({ status: 409, json: { status: 'refused', reason: 'already_decided', message: 'This item has already been decided.' } });
			winners.set(executionId, byAda.status === 200 ? 'ada' : 'bob');
		}
		console.log(`inbox queue: race winners ${JSON.stringify(Object.fromEntries([...winners.values()].map((w) => [w, [...winners.values()].filter((x) => x === w).length])))}`);

		// every execution finishes (inbox requests finish what a request left: GETs until all are done)
		const finished = await waitUntil(
			`${EXECUTIONS} executions to finish`,
			async () => {
				await inboxApi(inboxUrl, ada, undefined, '?api=items');
				const all = (await n8n.executions(workflowId)).filter((e) => byExecution.has(String(e.id)));
				return all.length === EXECUTIONS && all.every((e) => e.status === 'success') ? all : undefined;
			},
			5 * 60_000,
			n8n.logs,
		);
		for (const execution of finished) {
			const winner = winners.get(String(execution.id))!;
			const outputs = nodeOutputs(execution, 'Human Checkpoint');
			expect(outputs[0]).toEqual([]);
			const approved = outputs[1].map((json: any) => ({ id: json.id, reviewer: json.review.reviewer, decision: json.review.decision }));
			const rejected = outputs[2].map((json: any) => ({ id: json.id, reviewer: json.review.reviewer, decision: json.review.decision }));
			if (winner === 'ada') {
				expect({ approved, rejected }).toEqual({ approved: [{ id: 1, reviewer: 'ada', decision: 'approved' }, { id: 2, reviewer: 'ada', decision: 'approved' }], rejected: [] });
			} else {
				expect({ approved, rejected }).toEqual({ approved: [{ id: 2, reviewer: 'ada', decision: 'approved' }], rejected: [{ id: 1, reviewer: 'bob', decision: 'rejected' }] });
			}
			// the nodes after the checkpoint ran once
			expect(execution.data.resultData.runData.Approved).toHaveLength(1);
		}

		// where they ran: each execution was a job on a worker twice (before the pause and after the resume), never on the main
		const jobs = await waitUntil(
			'the workers to log every finished job',
			async () => {
				const lines = n8n.logs().split('\n');
				const perExecution = [...byExecution.keys()].map((executionId) => {
					const about = lines.filter((line) => new RegExp(`execution ${executionId}\\b`).test(line));
					return {
						executionId,
						started: about.filter((l) => /Worker started execution/.test(l)).map((l) => /^\[([\w-]+)\]/.exec(l)?.[1]),
						finished: about.filter((l) => /Worker finished execution/.test(l)).length,
					};
				});
				return perExecution.every((e) => e.finished >= 2) ? perExecution : undefined;
			},
			2 * 60_000,
			n8n.logs,
		);
		const perWorker: Record<string, number> = {};
		for (const { executionId, started, finished } of jobs) {
			expect({ executionId, started: started.length, finished, onWorkers: started.every((w) => /^worker-\d$/.test(w ?? '')) }).toEqual({
				executionId,
				started: 2,
				finished: 2,
				onWorkers: true,
			});
			for (const w of started) perWorker[w!] = (perWorker[w!] ?? 0) + 1;
		}
		console.log(`inbox queue: jobs of the paused executions per worker (before + after the pause): ${JSON.stringify(perWorker)}`);

		// the store: every item decided once (one approval) and resumed, every round resumed once
		const stored = await pgQuery<{ id: string; state: string; approvals: number; reviewer: string }>(
			`SELECT id, state, jsonb_array_length(item->'approvals') AS approvals, item->'approvals'->0->>'reviewer' AS reviewer FROM ${reviewTable} WHERE inbox = $1`,
			[inboxName],
		);
		expect(stored).toHaveLength(2 * EXECUTIONS);
		for (const row of stored) expect({ id: row.id, state: row.state, approvals: Number(row.approvals) }).toEqual({ id: row.id, state: 'resumed', approvals: 1 });
		for (const [executionId, [first]] of byExecution) expect(stored.find((r) => r.id === first.id)?.reviewer).toBe(winners.get(executionId));
		const rounds = await pgQuery<{ resumed: boolean }>(`SELECT resumed FROM ${reviewTable}_rounds WHERE inbox = $1`, [inboxName]);
		expect(rounds.map((r) => r.resumed)).toEqual(Array(EXECUTIONS).fill(true));

		// the Audit Log after the inbox (written on the workers): one decision per item, one resume per execution
		const audit = await waitUntil(
			'the audit records of every decision and resume',
			async () => {
				// (by execution and item index: the Audit Log's redaction masks the digit runs of a stored item's id)
				const rows = await pgQuery<{ event: string; item: string | null; execution: string; reviewer: string | null; review: string | null }>(
					`SELECT record->'input'->'inbox'->>'event' AS event,
					        (record->'input'->'inbox'->>'executionId') || ':' || (record->'input'->'inbox'->>'itemIndex') AS item,
					        record->'input'->'inbox'->>'executionId' AS execution, record->'review'->>'reviewer' AS reviewer, record->'review'->>'decision' AS review
					 FROM ${auditTable} WHERE stream = 'inbox'`,
				).catch(() => []);
				const decided = rows.filter((r) => r.event === 'decided');
				const resumed = rows.filter((r) => r.event === 'resumed');
				return decided.length >= 2 * EXECUTIONS && resumed.length >= EXECUTIONS ? { decided, resumed } : undefined;
			},
			3 * 60_000,
			n8n.logs,
		);
		const decidedPerItem: Record<string, number> = {};
		for (const r of audit.decided) decidedPerItem[r.item!] = (decidedPerItem[r.item!] ?? 0) + 1;
		const storedKeys = [...byExecution].flatMap(([executionId, pair]) => pair.map((item) => `${executionId}:${item.itemIndex}`));
		expect(Object.keys(decidedPerItem).sort()).toEqual(storedKeys.sort());
		expect(Object.values(decidedPerItem).every((n) => n === 1)).toBe(true);
		for (const [executionId, [first]] of byExecution) {
			expect(audit.decided.find((r) => r.item === `${executionId}:${first.itemIndex}`)).toMatchObject({ reviewer: winners.get(executionId), review: winners.get(executionId) === 'ada' ? 'approved' : 'rejected' });
		}
		expect(audit.resumed.map((r) => r.execution).sort()).toEqual([...byExecution.keys()].sort());
	});
});

/**
 * A proxy in front of n8n for the resume links (n8n's WEBHOOK_URL): forwards everything, except that while
 * `holding`, a POST to /webhook-waiting/… is kept (never forwarded) and reported.
 */
interface ResumeProxy {
	url: string;
	holding: boolean;
	/** resolves with the held request's path when the first one arrives */
	held: Promise<string>;
	/** resume POSTs forwarded to n8n, with n8n's status */
	forwarded: Array<{ path: string; status: number }>;
	close(): Promise<void>;
}

async function startResumeProxy(targetPort: number): Promise<ResumeProxy> {
	let onHeld: (path: string) => void = () => undefined;
	const pending: http.ServerResponse[] = [];
	const server = http.createServer((req, res) => {
		const isResume = req.method === 'POST' && (req.url ?? '').startsWith('/webhook-waiting/');
		if (isResume && proxy.holding) {
			pending.push(res);
			onHeld(req.url ?? '');
			return;
		}
		const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
			if (isResume) proxy.forwarded.push({ path: req.url ?? '', status: answer.statusCode ?? 0 });
			res.writeHead(answer.statusCode ?? 502, answer.headers);
			answer.pipe(res);
		});
		upstream.on('error', (error) => {
			if (isResume) proxy.forwarded.push({ path: req.url ?? '', status: -1 });
			res.writeHead(502).end(String(error.message));
		});
		req.pipe(upstream);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as { port: number }).port;
	const proxy: ResumeProxy = {
		url: `http://127.0.0.1:${port}`,
		holding: true,
		held: new Promise((resolve) => (onHeld = resolve)),
		forwarded: [],
		async close() {
			for (const res of pending) res.destroy();
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		},
	};
	return proxy;
}

describe('Review Inbox crash: n8n killed between "decision stored" and "execution resumed"', () => {
	const inboxName = `crash-${suffix}`;
	const inboxPath = `inbox-crash-${suffix}`;
	const hookPath = `inbox-crash-start-${suffix}`;
	const userFolder = path.join(RUN_ROOT, `inbox-crash-${suffix}`);
	const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-crash-audit-'));
	const auditFile = path.join(auditDir, 'inbox.jsonl');
	const storeFile = path.join(userFolder, '.n8n', 'governed-ai-review', `${inboxName}.json`);
	const ada: Who = { header: 'ada' };
	let proxy: ResumeProxy;
	let first: CrashableN8n | undefined;
	let second: CrashableN8n | undefined;

	afterAll(async () => {
		await first?.stop();
		await second?.stop();
		await proxy?.close();
		fs.rmSync(userFolder, { recursive: true, force: true });
		fs.rmSync(auditDir, { recursive: true, force: true });
	});

	it('after the restart the decided items are resumed exactly once', async () => {
		const port = await freePort();
		proxy = await startResumeProxy(port);
		const options = { port, userFolder, publicUrl: `${proxy.url}/` };
		first = await startCrashableN8n(options);
		await first.importCredentials([REVIEWERS]);
		const workflowId = await first.importWorkflow(checkpointWorkflow(`Inbox crash ${suffix}`, hookPath, 2, { inboxName }));
		await first.activate(workflowId);
		const inboxId = await first.importWorkflow(inboxWorkflow(inboxPath, { inboxName }, { sink: 'file', filePath: auditFile }, false));
		await first.activate(inboxId);
		const inboxUrl = `${first.baseUrl}/webhook/${inboxPath}`;

		await trigger(first, hookPath, { run: 1 });
		const items = await waitUntil(
			'two items in the inbox',
			async () => {
				const answer = await inboxApi(inboxUrl, ada, undefined, '?api=items');
				return answer.status === 200 && answer.json.items.length === 2 ? answer.json.items.sort((a: any, b: any) => a.itemIndex - b.itemIndex) : undefined;
			},
			3 * 60_000,
			first.logs,
		);
		const executionId = String(items[0].executionId);
		expect((await inboxApi(inboxUrl, ada, { action: 'decide', id: items[0].id, decision: 'approve', comment: 'fine' })).json).toMatchObject({ status: 'ok', final: true, resumed: 0 });
		// the last decision: stored, then the inbox POSTs the resume link, which the proxy holds
		const lastDecision = inboxApi(inboxUrl, ada, { action: 'decide', id: items[1].id, decision: 'reject', comment: 'spam' }).then(
			(answer) => ({ answered: answer.status }),
			(error: Error) => ({ failed: error.message }),
		);
		const heldPath = await proxy.held;
		expect(heldPath).toMatch(new RegExp(`^/webhook-waiting/${executionId}/`));
		const before = JSON.parse(fs.readFileSync(storeFile, 'utf8'));
		expect(Object.values(before.items).map((i: any) => [i.itemIndex, i.state, i.verdict])).toEqual([
			[0, 'decided', 'approve'],
			[1, 'decided', 'reject'],
		]);
		expect(Object.values(before.rounds).map((r: any) => r.resumed)).toEqual([false]);

		await first.crash();
		// the request that was taking the decision dies with n8n
		expect(await lastDecision).toEqual({ failed: expect.any(String) });
		expect(proxy.forwarded).toEqual([]);
		const execution = (await (async () => {
			// nothing of n8n is running: the waiting execution is read from its SQLite file after the restart
			second = await startCrashableN8n(options);
			return (await second.executions(workflowId)).find((e) => String(e.id) === executionId);
		})())!;
		expect(execution.status).toBe('waiting');
		proxy.holding = false;

		// inbox requests (GETs: they decide nothing) finish the round once the crashed request's claim on it is void
		const restartedUrl = `${second!.baseUrl}/webhook/${inboxPath}`;
		const restartedAt = Date.now();
		let requests = 0;
		const finished = await waitUntil(
			`execution ${executionId} to finish after the restart`,
			async () => {
				requests++;
				const answer = await inboxApi(restartedUrl, ada, undefined, '?api=items');
				if (answer.status !== 200) return undefined;
				const found = (await second!.executions(workflowId)).find((e) => String(e.id) === executionId);
				return found?.status === 'success' ? found : undefined;
			},
			6 * 60_000,
			second!.logs,
		);
		console.log(`inbox crash: execution ${executionId} finished ${Date.now() - restartedAt} ms after the restart, at inbox request ${requests}`);
		const outputs = nodeOutputs(finished, 'Human Checkpoint');
		expect(outputs[0]).toEqual([]);
		expect(outputs[1]).toMatchObject([{ id: 1, review: { decision: 'approved', reviewer: 'ada', comment: 'fine' } }]);
		expect(outputs[2]).toMatchObject([{ id: 2, review: { decision: 'rejected', reviewer: 'ada', comment: 'spam' } }]);
		expect(finished.data.resultData.runData.Approved).toHaveLength(1);
		expect(finished.data.resultData.runData.Rejected).toHaveLength(1);

		// more inbox requests change nothing: the resume link was called once, the store says resumed
		for (let i = 0; i < 3; i++) expect((await inboxApi(restartedUrl, ada, undefined, '?api=items')).json.items).toEqual([]);
		expect(proxy.forwarded).toEqual([{ path: heldPath, status: 200 }]);
		const after = JSON.parse(fs.readFileSync(storeFile, 'utf8'));
		expect(Object.values(after.items).map((i: any) => i.state)).toEqual(['resumed', 'resumed']);
		expect(Object.values(after.rounds).map((r: any) => r.resumed)).toEqual([true]);
		const all = (await second!.executions(workflowId)).filter((e) => String(e.id) === executionId);
		expect(all.map((e) => e.status)).toEqual(['success']);
		// the Audit Log after the inbox: one "resumed" event for the execution
		const records = await waitUntil(
			'the audit record of the resume',
			async () => {
				const lines = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
				return lines.some((r) => r.input?.inbox?.event === 'resumed') ? lines : undefined;
			},
			60_000,
		);
		expect(records.filter((r) => r.input?.inbox?.event === 'resumed').map((r) => [r.input.inbox.executionId, r.input.inbox.outcome])).toEqual([[executionId, 'resumed']]);
	});
});
