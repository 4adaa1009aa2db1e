/**
 * Proves the harness against a real n8n with n8n's own nodes (ours are proven in their own test files):
 * the packed package installs and its credential types load; manual and webhook workflows run; in queue
 * mode a webhook execution runs on a worker; stop() leaves no process behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { N8nExecutionError, REPO_ROOT, nodeOutputs, startN8n, type N8n } from './harness';
import { manualFailWorkflow, manualSetWorkflow, webhookEchoWorkflow } from './harness-workflows';
import { waitUntil } from './triage-helpers';

jest.setTimeout(10 * 60_000);

const repoPackage = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

/** Credential type names of every credential registered in package.json, read from their sources. */
function registeredCredentialTypes(): string[] {
	return (repoPackage.n8n.credentials as string[]).map((file) => {
		const source = path.join(REPO_ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
		const match = /\bname\s*=\s*'([^']+)'/.exec(fs.readFileSync(source, 'utf8'));
		if (!match) throw new Error(`no credential name found in ${source}`);
		return match[1];
	});
}

/** Processes whose working folder or environment points at the user folder (n8n and its task runners). */
function processesOf(userFolder: string): number[] {
	const found: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
			const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
			if (cwd.startsWith(userFolder) || environ.split('\0').includes(`N8N_USER_FOLDER=${userFolder}`)) found.push(Number(entry));
		} catch {
			// exited meanwhile, or not ours to read
		}
	}
	return found;
}

async function expectStoppedCleanly(n8n: N8n) {
	const folder = n8n.userFolder;
	expect(processesOf(folder).length).toBeGreaterThan(0);
	await n8n.stop();
	await n8n.stop(); // idempotent
	expect(processesOf(folder)).toEqual([]);
	await expect(fetch(`${n8n.baseUrl}/healthz`)).rejects.toThrow();
	expect(fs.existsSync(folder)).toBe(false);
}

describe('single-process n8n', () => {
	let n8n: N8n;
	let started = Date.now();

	beforeAll(async () => {
		started = Date.now();
		// Its own n8n, not sharedN8n(): the last test stops it.
		n8n = await startN8n();
		console.log(`single mode: n8n ready at ${n8n.baseUrl} after ${((Date.now() - started) / 1000).toFixed(1)} s (${(n8n as any).startup})`);
	});
	afterAll(async () => {
		await n8n?.stop();
	});

	test('the packed package is installed in ~/.n8n/nodes and its credential types are loaded', async () => {
		const installed = path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', repoPackage.name, 'package.json');
		expect(JSON.parse(fs.readFileSync(installed, 'utf8')).version).toBe(repoPackage.version);

		const api = (p: string) => fetch(`${n8n.baseUrl}/api/v1${p}`, { headers: { 'X-N8N-API-KEY': n8n.apiKey } });
		const types = registeredCredentialTypes();
		expect(types).toContain('governedAiOpenAiApi');
		for (const type of types) {
			const res = await api(`/credentials/schema/${type}`);
			expect({ type, status: res.status }).toEqual({ type, status: 200 });
		}
		// The same call fails for a type nobody registered: the check above can fail.
		expect((await api('/credentials/schema/governedAiNoSuchApi')).status).toBe(404);

		await n8n.importCredentials([
			{ id: 'e2eOpenAiCred01', name: 'E2E OpenAI', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-secret', baseUrl: 'http://127.0.0.1:1/v1' } },
		]);
		const listed = (await (await api('/credentials')).json()) as { data: any[] };
		const mine = listed.data.find((c: any) => c.id === 'e2eOpenAiCred01');
		expect(mine).toMatchObject({ name: 'E2E OpenAI', type: 'governedAiOpenAiApi' });
		expect(JSON.stringify(listed)).not.toContain('sk-e2e-secret');
	});

	test('a manual-trigger workflow runs through the CLI and its node outputs are readable', async () => {
		const id = await n8n.importWorkflow(manualSetWorkflow());
		expect(id).toMatch(/^[A-Za-z0-9]{16}$/);
		const result = await n8n.execute(id);
		expect(nodeOutputs(result.data, 'Set')).toEqual([[{ greeting: 'hello', sum: 42 }]]);
		expect(() => nodeOutputs(result.data, 'Nope')).toThrow(/did not run.*Start, Set/);
	});

	test('a failing run rejects with the node and the message', async () => {
		const id = await n8n.importWorkflow(manualFailWorkflow());
		const failure = n8n.execute(id);
		await expect(failure).rejects.toThrow(N8nExecutionError);
		await expect(failure).rejects.toThrow(/node "Fail Here".*deliberate failure/);
	});

	test('an active webhook workflow answers over HTTP and its execution is listed', async () => {
		const id = await n8n.importWorkflow(webhookEchoWorkflow('e2e-single-echo'));
		await n8n.activate(id);
		const res = await n8n.webhook('e2e-single-echo', { ticket: 'printer on fire', n: 21 });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ echo: 'printer on fire', doubled: 42 });

		const execution = await n8n.waitForExecution((e) => e.workflowId === id && e.finished, 30_000);
		expect(execution.status).toBe('success');
		expect(execution.mode).toBe('webhook');
		expect(nodeOutputs(execution, 'Set')).toEqual([[{ echo: 'printer on fire', doubled: 42 }]]);
		expect(await n8n.executions(id)).toHaveLength(1);
	});

	test('stop() ends n8n and its task runner and removes the user folder', async () => {
		await expectStoppedCleanly(n8n);
	});
});

describe('queue mode: one main and two workers', () => {
	let n8n: N8n;
	let started = Date.now();

	beforeAll(async () => {
		started = Date.now();
		n8n = await startN8n({ mode: 'queue', workers: 2 });
		console.log(`queue mode: ready after ${((Date.now() - started) / 1000).toFixed(1)} s (${(n8n as any).startup})`);
	});
	afterAll(async () => {
		await n8n?.stop();
	});

	test('webhook executions are received by the main and run on the workers', async () => {
		const id = await n8n.importWorkflow(webhookEchoWorkflow('e2e-queue-echo'));
		await n8n.activate(id);
		const tickets = Array.from({ length: 8 }, (_, i) => ({ ticket: `ticket ${i}`, n: i }));
		const answers = await Promise.all(
			tickets.map(async (body) => {
				const res = await n8n.webhook('e2e-queue-echo', body);
				return { status: res.status, body: await res.json() };
			}),
		);
		expect(answers).toEqual(tickets.map((t) => ({ status: 200, body: { echo: t.ticket, doubled: t.n * 2 } })));

		// Respond to Webhook answers before the execution is saved: wait until all of them are stored
		const executions = await waitUntil(
			`${tickets.length} finished executions`,
			async () => {
				const all = await n8n.executions(id);
				return all.length >= tickets.length && all.every((e) => ['success', 'error', 'crashed'].includes(e.status)) ? all : undefined;
			},
			60_000,
			n8n.logs,
		);
		expect(executions).toHaveLength(tickets.length);
		expect(executions.every((e) => e.status === 'success' && e.mode === 'webhook')).toBe(true);
		const echoed = executions.map((e) => nodeOutputs(e, 'Set')[0][0].echo).sort();
		expect(echoed).toEqual(tickets.map((t) => t.ticket).sort());

		// Each execution was started and finished by a worker, not by the main.
		const logs = n8n.logs();
		for (const e of executions) {
			expect(logs).toMatch(new RegExp(`\\[worker-\\d\\] .*Worker started execution ${e.id} `));
			expect(logs).toMatch(new RegExp(`\\[worker-\\d\\] .*Worker finished execution ${e.id} `));
		}
		const perWorker = [1, 2].map((w) => (logs.match(new RegExp(`\\[worker-${w}\\] .*Worker finished execution`, 'g')) ?? []).length);
		console.log(`queue mode: executions per worker ${perWorker.join(' / ')}`);
	});

	test('the CLI execute works against the queue-mode database (n8n runs it in the CLI process)', async () => {
		const id = await n8n.importWorkflow(manualSetWorkflow('e2e queue manual'));
		const result = await n8n.execute(id);
		expect(nodeOutputs(result.data, 'Set')).toEqual([[{ greeting: 'hello', sum: 42 }]]);
	});

	test('stop() ends the main, the workers and their task runners', async () => {
		await expectStoppedCleanly(n8n);
	});
});
