/**
 * Inside a real n8n (the packed tarball installed): AI Classify version 4 with the Result Cache on, in its file
 * store. The workflow runs twice: the second run makes no request for the texts the first one asked about
 * (counted at the provider server), its results say cached and cost nothing, and the Audit Log's records say
 * cached. Once the time to live has passed the requests are made again. A version 3 AI Classify in the same
 * workflow, given the same parameters, asks every run.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jsonWithLogprobs, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

const node = (name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) => ({
	id: randomUUID(),
	name,
	type,
	typeVersion,
	position: [0, 0],
	parameters,
	...extra,
});

let server: ProviderServer;
let n8n: N8n;
let folder: string;

beforeAll(async () => {
	server = await startProviderServer();
	folder = await fs.mkdtemp(join(tmpdir(), 'e2e-result-cache-'));
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'e2eCacheOpenAi01', name: 'Local OpenAI (cache)', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-cache-never-shown', baseUrl: server.openaiBaseUrl } },
	]);
}, 600_000);

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
	if (folder) await fs.rm(folder, { recursive: true, force: true });
});

// 10 tickets, 7 distinct texts: 3 repeat
const distinct = Array.from({ length: 7 }, (_, i) => `Ticket ${100 + i}: my invoice ${i} was charged twice`);
const tickets = [...distinct, distinct[0], distinct[1], distinct[2]].map((text) => ({ text }));

function workflow(name: string, cacheFile: string, auditFile: string, ttlHours: number) {
	const classify = (typeVersion: number, model: string) => ({
		provider: 'openai',
		openaiModel: model,
		text: '={{ $json.text }}',
		categories: { category: ['billing', 'outage', 'access'].map((c) => ({ name: c, description: `${c} tickets` })) },
		confidenceMethod: 'logprobs',
		routing: 'single',
		resultCache: true,
		resultCacheFilePath: cacheFile,
		resultCacheTtlHours: ttlHours,
	});
	const credentials = { credentials: { governedAiOpenAiApi: { id: 'e2eCacheOpenAi01', name: 'Local OpenAI (cache)' } } };
	return {
		name,
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Tickets', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ tickets }), options: {} }),
			node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'tickets', options: {} }),
			node('AI Classify', 'n8n-nodes-governed-ai.aiClassify', 4, classify(4, 'gpt-4.1-mini'), credentials),
			// a saved workflow's version 3 node: the cache's parameters mean nothing to it
			node('AI Classify v3', 'n8n-nodes-governed-ai.aiClassify', 3, classify(3, 'gpt-4.1-nano'), credentials),
			node('Audit Log', 'n8n-nodes-governed-ai.auditLog', 2, { filePath: auditFile, stream: 'cache' }),
		],
		connections: {
			Start: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
			Tickets: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: {
				main: [
					[
						{ node: 'AI Classify', type: 'main', index: 0 },
						{ node: 'AI Classify v3', type: 'main', index: 0 },
					],
				],
			},
			'AI Classify': { main: [[{ node: 'Audit Log', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

const requestsFor = (model: string) => server.requests.filter((r) => r.path === '/v1/chat/completions' && r.model === model).length;

async function auditRecords(path: string): Promise<Array<Record<string, unknown>>> {
	return (await fs.readFile(path, 'utf8'))
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeEach(() => {
	server.reset();
	server.setResponder(() => jsonWithLogprobs({ label: 'billing', reason: 'charged twice', evidence: ['charged twice'] }, { billing: -0.01 }));
});

test('a second run makes no request for the texts the first asked about; its results and audit records say cached; version 3 asks every run', async () => {
	const cacheFile = join(folder, 'results.jsonl');
	const auditFile = join(folder, 'audit.jsonl');
	const workflowId = await n8n.importWorkflow(workflow('e2e result cache', cacheFile, auditFile, 24));

	const first = await n8n.execute(workflowId);
	// version 3 and 4 both share one request per distinct text within a run
	expect(requestsFor('gpt-4.1-mini')).toBe(7);
	expect(requestsFor('gpt-4.1-nano')).toBe(7);
	const [firstOut] = nodeOutputs(first.data, 'AI Classify');
	expect(firstOut).toHaveLength(10);
	expect(firstOut.filter((item: any) => item.ai.classify.cached === true)).toHaveLength(0);
	// the store holds a hash per request and the answer, never the text
	const stored = await fs.readFile(cacheFile, 'utf8');
	expect(stored.split('\n').filter(Boolean)).toHaveLength(7);
	for (const text of distinct) expect(stored).not.toContain(text);

	server.reset();
	server.setResponder(() => jsonWithLogprobs({ label: 'billing', reason: 'charged twice', evidence: ['charged twice'] }, { billing: -0.01 }));
	const second = await n8n.execute(workflowId);
	expect(requestsFor('gpt-4.1-mini')).toBe(0);
	expect(requestsFor('gpt-4.1-nano')).toBe(7);
	const [out] = nodeOutputs(second.data, 'AI Classify');
	expect(out).toHaveLength(10);
	for (const item of out) {
		expect(item.ai.classify).toMatchObject({ answer: 'billing', cached: true, costUsd: 0, attempts: 0 });
		expect(item.ai.classify.usage.requests).toBe(0);
		expect(typeof item.ai.classify.cachedAt).toBe('string');
	}
	const [v3] = nodeOutputs(second.data, 'AI Classify v3');
	expect(v3.every((item: any) => item.ai.classify.cached === undefined)).toBe(true);

	// the Audit Log: 10 records of the first run, none cached; 10 of the second, all cached
	const records = await auditRecords(auditFile);
	expect(records).toHaveLength(20);
	expect(records.slice(0, 10).every((r) => r.cached === undefined)).toBe(true);
	expect(records.slice(10).every((r) => r.cached === true && r.costUsd === 0)).toBe(true);
	expect(JSON.stringify([first.data, second.data])).not.toContain('sk-e2e-cache-never-shown');
}, 900_000);

test('after the time to live the requests are made again', async () => {
	const cacheFile = join(folder, 'short.jsonl');
	const ttlHours = 0.0005; // 1.8 s
	const workflowId = await n8n.importWorkflow(workflow('e2e result cache, short time to live', cacheFile, join(folder, 'audit-short.jsonl'), ttlHours));
	await n8n.execute(workflowId);
	expect(requestsFor('gpt-4.1-mini')).toBe(7);
	// every answer was stored before the run ended: once the time to live has passed since then, none is used
	const stored = (await fs.readFile(cacheFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { s: number });
	const latest = Math.max(...stored.map((line) => line.s));
	const expired = latest + ttlHours * 3_600_000 + 100;
	while (Date.now() < expired) await new Promise((resolve) => setTimeout(resolve, 100));

	server.reset();
	server.setResponder(() => jsonWithLogprobs({ label: 'billing', reason: 'charged twice', evidence: ['charged twice'] }, { billing: -0.01 }));
	const again = await n8n.execute(workflowId);
	expect(requestsFor('gpt-4.1-mini')).toBe(7);
	const [out] = nodeOutputs(again.data, 'AI Classify');
	expect(out.every((item: any) => item.ai.classify.cached === undefined)).toBe(true);
}, 900_000);
