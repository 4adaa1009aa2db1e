/**
 * The shared n8n of a jest run (harness.ts `sharedN8n()`), with two handles standing for two test files:
 * both drive the same n8n, started once in the run; a credential id both import stays two credentials, and
 * each handle's workflow runs with its own (proved by the header an HTTP Request node sends); executions()
 * lists a handle's own executions; one handle's stop() leaves n8n up and the other handle's workflows active.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';

import { SHARED_DIR_ENV, sharedN8n, type N8n } from './harness';
import { webhookEchoWorkflow } from './harness-workflows';
import { post } from './triage-helpers';

jest.setTimeout(10 * 60_000);

/** Answers every request with the X-Shared-Secret header it received. */
async function startHeaderEcho() {
	const server = http.createServer((req, res) => {
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ secret: req.headers['x-shared-secret'] ?? null }));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

/** Webhook → HTTP Request with the header credential `sharedcred` → answers with what the server saw. */
function headerWorkflow(hookPath: string, url: string) {
	return {
		name: `shared n8n ${hookPath}`,
		nodes: [
			{
				id: randomUUID(),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'lastNode', responseData: 'firstEntryJson', options: {} },
			},
			{
				id: randomUUID(),
				name: 'Call',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				position: [220, 0],
				parameters: { url, authentication: 'genericCredentialType', genericAuthType: 'httpHeaderAuth', options: {} },
				credentials: { httpHeaderAuth: { id: 'sharedcred', name: 'Shared header' } },
			},
		],
		connections: { Webhook: { main: [[{ node: 'Call', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

const suffix = Date.now().toString(36);
let a: N8n;
let b: N8n;
let echo: Awaited<ReturnType<typeof startHeaderEcho>>;
const ids: Record<'a' | 'b', { header: string; echo: string }> = { a: { header: '', echo: '' }, b: { header: '', echo: '' } };

beforeAll(async () => {
	echo = await startHeaderEcho();
	a = await sharedN8n();
	b = await sharedN8n();
});

afterAll(async () => {
	await a?.stop();
	await b?.stop();
	await echo?.close();
});

test('every handle drives the same n8n, started once in this jest run', async () => {
	const dir = process.env[SHARED_DIR_ENV];
	expect(dir).toBeTruthy();
	expect(b.baseUrl).toBe(a.baseUrl);
	expect(b.userFolder).toBe(a.userFolder);
	expect((await fetch(`${a.baseUrl}/healthz/readiness`)).status).toBe(200);
	const starts = fs.readFileSync(path.join(dir!, 'starts.log'), 'utf8').split('\n').filter((line) => / shared /.test(line));
	expect(starts).toHaveLength(1);
	expect(JSON.parse(fs.readFileSync(path.join(dir!, 'state.json'), 'utf8')).instance.baseUrl).toBe(a.baseUrl);
});

test('the same credential id imported by two handles stays two credentials; each handle’s workflow uses its own', async () => {
	await a.importCredentials([{ id: 'sharedcred', name: 'Shared header', type: 'httpHeaderAuth', data: { name: 'X-Shared-Secret', value: 'secret-of-a' } }]);
	await b.importCredentials([{ id: 'sharedcred', name: 'Shared header', type: 'httpHeaderAuth', data: { name: 'X-Shared-Secret', value: 'secret-of-b' } }]);
	for (const [key, n8n] of [['a', a], ['b', b]] as const) {
		ids[key].header = await n8n.importWorkflow(headerWorkflow(`shared-header-${key}-${suffix}`, echo.url));
		await n8n.activate(ids[key].header);
	}
	for (const [key, n8n] of [['a', a], ['b', b]] as const) {
		const res = await post(n8n, `shared-header-${key}-${suffix}`, {});
		expect({ key, status: res.status, body: await res.json() }).toEqual({ key, status: 200, body: { secret: `secret-of-${key}` } });
	}
});

test('executions() without a workflow id lists the handle’s own executions only', async () => {
	for (const [key, n8n] of [['a', a], ['b', b]] as const) {
		ids[key].echo = await n8n.importWorkflow(webhookEchoWorkflow(`shared-echo-${key}-${suffix}`));
		await n8n.activate(ids[key].echo);
		const res = await post(n8n, `shared-echo-${key}-${suffix}`, { ticket: key, n: 1 });
		expect(res.status).toBe(200);
		await res.text();
	}
	for (const [key, n8n] of [['a', a], ['b', b]] as const) {
		const own = [ids[key].header, ids[key].echo];
		const found = await n8n.waitForExecution((e) => e.workflowId === ids[key].echo && e.finished, 60_000);
		expect(found.status).toBe('success');
		const listed = await n8n.executions();
		expect(listed.length).toBeGreaterThanOrEqual(2);
		expect(listed.filter((e) => !own.includes(e.workflowId))).toEqual([]);
	}
	// the other handle's executions are there, for whoever asks by workflow id
	expect((await a.executions(ids.b.echo)).length).toBeGreaterThanOrEqual(1);
});

test('stop() of one handle leaves n8n running and only that handle’s workflows inactive', async () => {
	await b.stop();
	expect((await fetch(`${a.baseUrl}/healthz/readiness`)).status).toBe(200);
	const gone = await a.webhook(`shared-echo-b-${suffix}`, { ticket: 'b', n: 2 });
	expect(gone.status).toBe(404);
	await gone.text();
	const still = await a.webhook(`shared-echo-a-${suffix}`, { ticket: 'a', n: 2 });
	expect(still.status).toBe(200);
	expect(await still.json()).toEqual({ echo: 'a', doubled: 4 });
});
