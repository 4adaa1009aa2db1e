/**
 * Audit Log Verify and Report inside a real single-process n8n (issue 12, points 4 and 6).
 *
 * Proves: the support triage example run on the 20 sample tickets (paused ones approved through their
 * signed links) leaves an audit stream whose Report counts every model call the executions made: its cost
 * and requests equal the sum of `costUsd` and `usage.requests` over every distinct `ai.<key>` result in the
 * executions' run data, and the requests equal what the provider server received. Verify and Report work
 * with every sink the node's description offers them (taken from the description the way n8n evaluates
 * it, so a sink added there is tried here); a workflow saved with the HTTP sink under Verify or Report, and
 * an unknown operation, stop with a clear error instead of running something else.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { NodeHelpers, type INodePropertyOptions } from 'n8n-workflow';
import { Client } from 'pg';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { type ProviderServer, type RecordedRequest, type Reply, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';
import { decide, loadExampleAs, post, reviewLinks, sampleTickets, ticketIdOf, triageResponder, triageSampleTickets, waitUntil } from './triage-helpers';

jest.setTimeout(15 * 60_000);

const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER || 'postgres' };
const table = `audit_ops_e2e_${randomBytes(4).toString('hex')}`;
/** The examples with this file's webhook paths and audit stream: examples.test.ts runs them in the same shared n8n. */
const SUFFIX = 'ops';
const TRIAGE_STREAM = `support-triage-${SUFFIX}`;
const PG_CREDENTIAL = { governedAiPostgres: { id: 'auditpg', name: 'Audit PostgreSQL' } };

function responder(req: RecordedRequest): Reply {
	return triageResponder(req) ?? { status: 400, message: `no scripted answer for: ${req.userText.slice(0, 200)}` };
}

/** Sinks the Audit Log's description offers an operation, evaluated with n8n's NodeHelpers. */
function offeredSinks(operation: string): string[] {
	const description = new AuditLog().description;
	const node = { typeVersion: 1 };
	const values = NodeHelpers.getNodeParameters(description.properties, { operation, source: 'sink' }, true, false, node, description) ?? {};
	return description.properties
		.filter((p) => p.name === 'sink' && NodeHelpers.displayParameter(values, p, node, description))
		.flatMap((p) => (p.options as INodePropertyOptions[]).map((o) => String(o.value)));
}

/** Webhook → (optional Code node) → Audit Log with these parameters; answers with every item of the last node. */
function auditWorkflow(hookPath: string, parameters: Record<string, unknown>, code?: string) {
	const nodes: any[] = [
		{
			id: randomUUID(),
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
		},
	];
	if (code) nodes.push({ id: randomUUID(), name: 'Items', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: code } });
	nodes.push({
		id: randomUUID(),
		name: 'Audit Log',
		type: 'n8n-nodes-governed-ai.auditLog',
		typeVersion: 1,
		position: [440, 0],
		parameters,
		...(parameters.sink === 'postgres' ? { credentials: PG_CREDENTIAL } : {}),
	});
	const connections: Record<string, unknown> = code
		? { Webhook: { main: [[{ node: 'Items', type: 'main', index: 0 }]] }, Items: { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } }
		: { Webhook: { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] } };
	return { name: `audit ops ${hookPath}`, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** Two items as an AI Classify then AI Decide would leave them. */
const TWO_STEP_ITEMS = `
const usage = (i, o, r) => ({ inputTokens: i, outputTokens: o, cachedInputTokens: 0, cacheWriteTokens: 0, requests: r });
const result = (id, step, answer, u, cost) => ({ decisionId: id, step, answer, confidence: 0.9, confidenceMethod: 'logprobs', reason: 'r',
	evidence: [], needsReview: false, provider: 'openai', model: 'gpt-4.1-mini', usage: u, costUsd: cost, attempts: 1, latencyMs: 5,
	promptHash: 'p', at: new Date().toISOString() });
const tag = String($input.first().json.body.tag);
return [0, 1].map((i) => ({ json: { text: tag + ' ticket ' + i, ai: { latest: 'decide',
	classify: result(tag + '-c' + i, 'classify', 'billing', usage(100, 5, 1), 0.0001),
	decide: result(tag + '-d' + i, 'decide', 'refund', usage(200, 20, 2), 0.0003) } } }));
`;

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer({ responder, latencyMs: 0 });
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-audit-ops-secret', baseUrl: server.openaiBaseUrl } },
		{ id: 'auditpg', name: 'Audit PostgreSQL', type: 'governedAiPostgres', data: { ...PG, password: '', ssl: 'disable' } },
	]);
}, 10 * 60_000);

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
	const client = new Client(PG);
	await client.connect();
	await client.query(`DROP TABLE IF EXISTS ${table}`).finally(() => client.end());
}, 120_000);

async function answer(hookPath: string, body: unknown = {}): Promise<any[]> {
	const res = await post(n8n, hookPath, body);
	const text = await res.text();
	if (res.status !== 200) throw new Error(`${hookPath}: HTTP ${res.status} ${text}\n${n8n.logs().slice(-3000)}`);
	return JSON.parse(text);
}

/** Posts to a workflow that must fail, and returns the error n8n stored for its Audit Log node. */
async function failure(workflowId: string, hookPath: string): Promise<{ message: string; description: string }> {
	const res = await post(n8n, hookPath, {});
	await res.text();
	expect(res.status).not.toBe(200);
	const execution = await waitUntil(
		`the failed execution of ${hookPath}`,
		async () => (await n8n.executions(workflowId)).find((e) => e.status === 'error'),
		60_000,
		n8n.logs,
	);
	const error = execution.data.resultData.runData['Audit Log'][0].error;
	return { message: String(error.message), description: String(error.description ?? '') };
}

/** Every distinct AI result (by decision id) in the executions' run data, on any node's output. */
function aiResultsInRunData(executions: any[]): Map<string, { costUsd: number; requests: number }> {
	const found = new Map<string, { costUsd: number; requests: number }>();
	for (const execution of executions) {
		for (const runs of Object.values<any[]>(execution.data.resultData.runData)) {
			for (const run of runs) {
				for (const output of run.data?.main ?? []) {
					for (const item of output ?? []) {
						const ai = item.json?.ai;
						if (!ai || typeof ai !== 'object') continue;
						for (const [key, result] of Object.entries<any>(ai)) {
							if (key === 'latest' || typeof result?.decisionId !== 'string') continue;
							found.set(result.decisionId, { costUsd: result.costUsd, requests: result.usage.requests });
						}
					}
				}
			}
		}
	}
	return found;
}

test('support triage: the report counts every model call of the executions, at their cost', async () => {
	const linksId = await n8n.importWorkflow(loadExampleAs('review-links.json', SUFFIX));
	await n8n.activate(linksId);
	const triageId = await n8n.importWorkflow(loadExampleAs('support-triage.json', SUFFIX));
	await n8n.activate(triageId);

	const settled = await triageSampleTickets(n8n, triageId, 240_000, `triage-${SUFFIX}`);
	const paused = settled.filter((e) => e.status === 'waiting');
	expect(paused.length).toBeGreaterThan(0);
	const links = await waitUntil(
		`${paused.length} review links`,
		async () => {
			const found = reviewLinks(await n8n.executions(linksId));
			return paused.every((e) => found.has(String(e.id))) ? found : undefined;
		},
		120_000,
		n8n.logs,
	);
	for (const e of paused) {
		const decided = await decide(links.get(String(e.id))!.reviewUrl, { decision: 'approve' });
		expect({ ticket: ticketIdOf(e), status: decided.status }).toEqual({ ticket: ticketIdOf(e), status: 200 });
	}
	const finished = await waitUntil(
		'every triage execution to finish',
		async () => {
			const all = await n8n.executions(triageId);
			return all.length === sampleTickets.length && all.every((e) => !['waiting', 'running', 'new'].includes(e.status)) ? all : undefined;
		},
		180_000,
		n8n.logs,
	);
	for (const e of finished) expect({ ticket: ticketIdOf(e), status: e.status }).toEqual({ ticket: ticketIdOf(e), status: 'success' });

	// the sum over the executions
	const results = aiResultsInRunData(finished);
	const executionCost = [...results.values()].reduce((sum, r) => sum + r.costUsd, 0);
	const executionRequests = [...results.values()].reduce((sum, r) => sum + r.requests, 0);
	const modelCalls = server.requests.length;
	// items that went through both AI steps: the case the latest-step-only record lost
	const twoSteps = finished.filter((e) => {
		try {
			return nodeOutputs(e, 'AI Decide').flat().length > 0;
		} catch {
			return false;
		}
	}).length;
	expect(twoSteps).toBeGreaterThan(0);
	expect(executionRequests).toBe(modelCalls);
	expect(executionCost).toBeGreaterThan(0);

	// the report, by the Audit Log node inside n8n
	const reportId = await n8n.importWorkflow(auditWorkflow('ops-triage-report', { operation: 'report', sink: 'file', stream: TRIAGE_STREAM, window: 'all' }));
	const verifyId = await n8n.importWorkflow(auditWorkflow('ops-triage-verify', { operation: 'verify', sink: 'file', stream: TRIAGE_STREAM }));
	await n8n.activate(reportId);
	await n8n.activate(verifyId);
	const [verified] = await answer('ops-triage-verify');
	expect(verified).toMatchObject({ valid: true, records: sampleTickets.length });
	const [report] = await answer('ops-triage-report');
	console.log(
		`triage cost: executions made ${modelCalls} model calls (${results.size} decisions, ${twoSteps} tickets through both AI steps) costing $${executionCost.toFixed(6)}; ` +
			`the report counts ${report.usage.total.requests} requests, ${report.usage.total.steps} steps, $${report.usage.total.costUsd}`,
	);
	expect(report.records).toBe(sampleTickets.length);
	expect(report.usage.total.requests).toBe(executionRequests);
	expect(report.usage.total.steps).toBe(results.size);
	// the report rounds to a millionth of a dollar
	expect(Math.abs(report.usage.total.costUsd - executionCost)).toBeLessThan(0.0000006);
	expect(report.html).toContain('AI steps');
});

describe('Verify and Report with every sink they offer', () => {
	const readSinks = [...new Set([...offeredSinks('verify'), ...offeredSinks('report')])].sort();

	it('the description offers the readable sinks only, and every sink offered is tried below', () => {
		expect(readSinks).toEqual(['file', 'postgres']);
		expect(offeredSinks('append')).toContain('http');
	});

	it.each(['file', 'postgres'])('%s: append, then Verify and Report read it back', async (sink) => {
		const store = sink === 'postgres' ? { tableName: table } : { filePath: '' };
		const stream = `ops-${sink}`;
		const ids = [
			await n8n.importWorkflow(auditWorkflow(`ops-append-${sink}`, { operation: 'append', sink, stream, ...store }, TWO_STEP_ITEMS)),
			await n8n.importWorkflow(auditWorkflow(`ops-verify-${sink}`, { operation: 'verify', sink, stream, ...store })),
			await n8n.importWorkflow(auditWorkflow(`ops-report-${sink}`, { operation: 'report', sink, stream, window: 'all', ...store, options: { reportTitle: `Report ${sink}` } })),
		];
		for (const id of ids) await n8n.activate(id);
		const stamped = [...(await answer(`ops-append-${sink}`, { tag: 'a' })), ...(await answer(`ops-append-${sink}`, { tag: 'b' }))];
		expect(stamped.map((i) => i.audit.sequence).sort()).toEqual([1, 2, 3, 4]);

		const [verified] = await answer(`ops-verify-${sink}`);
		expect(verified).toMatchObject({ stream, valid: true, records: 4, lastSequence: 4, firstBad: null });
		const [report] = await answer(`ops-report-${sink}`);
		// 4 items × (classify 1 request + decide 2 requests), 4 × (0.0001 + 0.0003)
		expect(report).toMatchObject({ stream, records: 4, usage: { total: { records: 4, steps: 8, requests: 12, costUsd: 0.0016 } } });
		expect(report.html).toContain(`Report ${sink}`);
	});
});

describe('what Verify and Report cannot do is refused, by name', () => {
	it.each(['verify', 'report'])('%s saved with the HTTP sink (offered before): a clear error, nothing sent', async (operation) => {
		const hookPath = `ops-${operation}-http`;
		const id = await n8n.importWorkflow(
			auditWorkflow(hookPath, { operation, sink: 'http', url: `${server.openaiBaseUrl}/ingest`, stream: 'support-triage', window: 'all' }),
		);
		await n8n.activate(id);
		const before = server.requests.length;
		const error = await failure(id, hookPath);
		expect(error.message).toBe(`${operation === 'verify' ? 'Verify' : 'Report'} cannot read from the HTTP sink`);
		expect(error.description).toMatch(/cannot read them back.*"Records From" to "Input Items"/);
		expect(error.message).not.toMatch(/URL/);
		expect(server.requests.length).toBe(before);
	});

	it('an unknown operation stops with an error instead of appending', async () => {
		const id = await n8n.importWorkflow(auditWorkflow('ops-unknown', { operation: 'purge', stream: 'ops-unknown' }, TWO_STEP_ITEMS));
		await n8n.activate(id);
		const error = await failure(id, 'ops-unknown');
		expect(error.message).toBe('The operation "purge" is not supported');
		expect(error.description).toContain('append, verify, report');
		expect(fs.existsSync(path.join(n8n.userFolder, '.n8n', 'governed-ai-audit', 'ops-unknown.jsonl'))).toBe(false);
	});
});
