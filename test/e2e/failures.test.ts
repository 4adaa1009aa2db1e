/**
 * Nothing lost in real n8n: items whose model call times out, is refused (401) or exhausts its retries on 5xx
 * leave AI Classify, AI Extract, AI Decide and Confidence Gate whole — every input field kept, `ai.<key>.error`
 * set — on the review output with "Continue", and on n8n's error output with "Continue (using error output)".
 * The Audit Log behind them records each failed decision with its step, decision id, provider, model and error.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';

import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

type OnError = 'continueRegularOutput' | 'continueErrorOutput';

const tickets = [
	{ id: 1, text: 'I was charged twice on my invoice, please refund', customer: { name: 'Ada', tier: 'gold' }, tags: ['billing'] },
	{ id: 2, text: 'HANG: the dashboard has been slow all day', customer: { name: 'Grace', tier: 'silver' }, tags: [] },
	{ id: 3, text: 'DENY: my password reset mail never came', customer: { name: 'Linus', tier: 'bronze' }, tags: ['access'] },
	{ id: 4, text: 'STORM: where is my parcel?', customer: { name: 'Barbara', tier: 'gold' }, tags: ['shipping'] },
];
const FAILED = [2, 3, 4];
const ERROR_TEXT: Record<number, RegExp> = { 2: /timed out/i, 3: /401/, 4: /500/ };

const ANSWER_SCHEMA: Record<string, object> = {
	classify: { type: 'string', enum: ['billing', 'access', 'shipping'] },
	extract: { type: 'object', properties: { topic: expect.objectContaining({ type: 'string' }) } },
	decide: { type: 'string', enum: ['refund', 'reply'] },
};

const credentials = { governedAiOpenAiApi: { id: 'failOpenAi0001', name: 'Local OpenAI' } };
// short limits keep the run quick; the retry still happens, so "retries exhausted" is what is tested
const options = { retries: 1, reasks: 0, timeoutSeconds: 3 };

function node(name: string, type: string, typeVersion: number, parameters: object, extra: object = {}) {
	return { id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters, ...extra };
}

function workflow(onError: OnError, stream: string) {
	const ai = { credentials, onError };
	const nodes = [
		node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
		node('Tickets', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ tickets }), options: {} }),
		node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'tickets', options: {} }),
		node(
			'AI Classify',
			'n8n-nodes-governed-ai.aiClassify',
			1,
			{
				provider: 'openai',
				model: 'gpt-4.1-mini',
				text: '={{ $json.text }}',
				categories: { category: [{ name: 'billing' }, { name: 'access' }, { name: 'shipping' }] },
				confidenceMethod: 'model-estimate',
				options,
			},
			ai,
		),
		node(
			'AI Extract',
			'n8n-nodes-governed-ai.aiExtract',
			1,
			{
				provider: 'openai',
				model: 'gpt-4.1-mini',
				text: '={{ $json.text }}',
				schemaSource: 'fields',
				fields: { field: [{ name: 'topic', type: 'string', description: 'What the ticket is about', required: true }] },
				records: 'one',
				options,
			},
			ai,
		),
		node(
			'AI Decide',
			'n8n-nodes-governed-ai.aiDecide',
			1,
			{
				provider: 'openai',
				model: 'gpt-4.1-mini',
				context: '={{ $json.text }}',
				policy: 'Refund double charges; anything else goes to a person.',
				actions: { action: [{ name: 'refund', description: 'Refund the charge' }, { name: 'reply', description: 'Answer the customer' }] },
				options,
			},
			ai,
		),
		// placed before any AI node: every item fails "has no AI result"
		node('Gate', 'n8n-nodes-governed-ai.confidenceGate', 1, {}, { onError }),
		node('Audit Log', 'n8n-nodes-governed-ai.auditLog', 1, { operation: 'append', sink: 'file', stream }),
	];
	// every output of each AI node (n8n's error output included, which comes last) feeds the Audit Log
	const toAudit = (outputs: number) => ({ main: Array.from({ length: outputs }, () => [{ node: 'Audit Log', type: 'main', index: 0 }]) });
	const extra = onError === 'continueErrorOutput' ? 1 : 0;
	return {
		name: `e2e failures ${onError}`,
		nodes,
		connections: {
			Start: { main: [[{ node: 'Tickets', type: 'main', index: 0 }]] },
			Tickets: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: {
				main: [
					[
						{ node: 'AI Classify', type: 'main', index: 0 },
						{ node: 'AI Extract', type: 'main', index: 0 },
						{ node: 'AI Decide', type: 'main', index: 0 },
						{ node: 'Gate', type: 'main', index: 0 },
					],
				],
			},
			'AI Classify': toAudit(4 + extra),
			'AI Extract': toAudit(2 + extra),
			'AI Decide': toAudit(3 + extra),
		},
		settings: { executionOrder: 'v1' },
	};
}

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer();
	server.setResponder((req, sampleIndex) => {
		if (req.userText.includes('HANG')) return { hang: true };
		if (req.userText.includes('DENY')) return { status: 401, message: 'Invalid API key (scripted).' };
		if (req.userText.includes('STORM')) return { status: 500 };
		return autoResponder(req, sampleIndex);
	});
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'failOpenAi0001', name: 'Local OpenAI', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-failures-never-shown', baseUrl: server.openaiBaseUrl } },
	]);
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
}, 120_000);

function expectWhole(item: any, key: string, id: number) {
	const input = tickets.find((t) => t.id === id)!;
	expect(item).toMatchObject(input);
	const result = item.ai[key];
	expect(item.ai.latest).toBe(key);
	expect(result).toMatchObject({ step: key, answer: null, needsReview: true, reviewReason: 'failed', provider: 'openai', model: 'gpt-4.1-mini' });
	expect(result.error).toMatch(ERROR_TEXT[id]);
	expect(result.error).toContain(`Item ${id - 1}`);
	expect(result.decisionId).toMatch(/^[0-9a-f-]{36}$/);
	expect(result.attempts).toBeGreaterThanOrEqual(1);
	expect(result.usage).toEqual(expect.objectContaining({ inputTokens: expect.any(Number), requests: expect.any(Number) }));
}

function auditRecords(stream: string): any[] {
	const file = join(n8n.userFolder, '.n8n', 'governed-ai-audit', `${stream}.jsonl`);
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line));
}

describe.each<[OnError, string]>([
	['continueRegularOutput', 'on the review output'],
	['continueErrorOutput', "on n8n's error output"],
])('with %s, failed items arrive whole %s', (onError) => {
	const stream = `failures-${onError === 'continueErrorOutput' ? 'error' : 'regular'}`;
	let data: any;

	beforeAll(async () => {
		const id = await n8n.importWorkflow(workflow(onError, stream));
		({ data } = await n8n.execute(id));
	}, 300_000);

	test.each([
		['AI Classify', 'classify', 3],
		['AI Extract', 'extract', 1],
		['AI Decide', 'decide', 2],
	])('%s', (name, key, reviewOutput) => {
		const outputs = nodeOutputs(data, name);
		// n8n appends its error output after the node's own outputs
		const failedOutput = onError === 'continueErrorOutput' ? outputs.length - 1 : reviewOutput;
		// with "Continue" the review output may also hold the working item (e.g. below the threshold)
		const failed = outputs[failedOutput].filter((item: any) => item.ai?.[key]?.reviewReason === 'failed' || item.error);
		expect(failed.map((item: any) => item.id).sort()).toEqual(FAILED);
		if (onError === 'continueErrorOutput') expect(outputs[failedOutput]).toHaveLength(FAILED.length);
		for (const item of failed) expectWhole(item, key, item.id);
		// a reviewer's correction of a failed item is held to the same contract as the model's answer
		for (const item of failed) expect(item.ai[key].answerSchema).toMatchObject(ANSWER_SCHEMA[key]);
		if (onError === 'continueErrorOutput') {
			// n8n's error output carries the message where n8n puts it, next to the whole item
			for (const item of failed) expect(item.error).toBe(item.ai[key].error);
		} else {
			for (const item of failed) expect(item.error).toBeUndefined();
		}
		// the item that worked is on some other output, and nothing is lost or doubled
		const all = outputs.flat().map((item: any) => item.id).sort();
		expect(all).toEqual([1, 2, 3, 4]);
	});

	test('Confidence Gate', () => {
		const outputs = nodeOutputs(data, 'Gate');
		const failed = onError === 'continueErrorOutput' ? outputs[3] : outputs[1];
		expect(failed).toHaveLength(4);
		for (const item of failed) {
			expect(item).toMatchObject(tickets.find((t) => t.id === item.id)!);
			expect(item.gate.band).toBe('review');
			expect(item.gate.error).toMatch(/has no AI result/);
		}
		if (onError === 'continueErrorOutput') expect(outputs.slice(0, 3).flat()).toHaveLength(0);
	});

	test('the Audit Log records each failed decision with step, decision id, provider, model and error', () => {
		const records = auditRecords(stream);
		expect(records).toHaveLength(12);
		const failed = records.filter((r) => r.error);
		expect(failed).toHaveLength(9);
		for (const record of failed) {
			expect(['classify', 'extract', 'decide']).toContain(record.step);
			expect(record.decisionId).toMatch(/^[0-9a-f-]{36}$/);
			expect(record.provider).toBe('openai');
			expect(record.model).toBe('gpt-4.1-mini');
			expect(record.error).toMatch(/timed out|401|500/i);
		}
		const steps = failed.map((r) => r.step).sort();
		expect(steps).toEqual(['classify', 'classify', 'classify', 'decide', 'decide', 'decide', 'extract', 'extract', 'extract']);
		expect(JSON.stringify(records)).not.toContain('sk-failures-never-shown');
		expect(JSON.stringify(data)).not.toContain('sk-failures-never-shown');
	});
});
