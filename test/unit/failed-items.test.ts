/**
 * What n8n's engine makes of a failed item, for each node that can fail per item. n8n-core's WorkflowExecute
 * moves items that carry an `error` to the error output ("Continue (using error output)") and replaces the
 * json of any item still carrying one with `{ error }`; these tests read the outputs after both, as the next
 * node would receive them. (test/e2e/failures.test.ts proves the same inside a real n8n.)
 */
import type { IDataObject, INodeExecutionData, INodeType } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiDecide } from '../../nodes/AiDecide/AiDecide.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { ConfidenceGate } from '../../nodes/ConfidenceGate/ConfidenceGate.node';
import { type ProviderServer, type Reply, serverError, startProviderServer } from '../provider-server';
import { type OnError, providerCredentials, runNode } from './helpers/engine';

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

/** Input items with fields of several kinds; the second one's request always fails with a 500. */
const inputs = (): IDataObject[] => [
	{ id: 1, text: 'My invoice is wrong', customer: { name: 'Ada', tier: 'gold' }, tags: ['mail'], amount: 40 },
	{ id: 2, text: 'boom: this request fails', customer: { name: 'Grace', tier: 'basic' }, tags: ['web', 'urgent'], amount: 60 },
];
const RETRIES = 1;

interface AiCase {
	name: string;
	node: () => INodeType;
	key: string;
	outputCount: number;
	reviewOutput: number;
	goodOutput: number;
	parameters: IDataObject;
	good: Reply;
}

const aiCases: AiCase[] = [
	{
		name: 'AI Classify',
		node: () => new AiClassify(),
		key: 'classify',
		outputCount: 3,
		reviewOutput: 2,
		goodOutput: 0,
		parameters: {
			text: '={{ $json.text }}',
			categories: { category: [{ name: 'billing', description: 'Invoices' }, { name: 'other', description: 'Anything else' }] },
			confidenceMethod: 'model-estimate',
			threshold: 0.5,
		},
		good: { json: { label: 'billing', reason: 'invoice', evidence: ['My invoice'], confidence: 0.9 } },
	},
	{
		name: 'AI Extract',
		node: () => new AiExtract(),
		key: 'extract',
		outputCount: 2,
		reviewOutput: 1,
		goodOutput: 0,
		parameters: {
			text: '={{ $json.text }}',
			schemaSource: 'fields',
			fields: { field: [{ name: 'topic', type: 'string', description: 'What it is about', required: true }] },
		},
		good: { json: { topic: { value: 'invoice', quote: 'My invoice', confidence: 0.9 } } },
	},
	{
		name: 'AI Decide',
		node: () => new AiDecide(),
		key: 'decide',
		outputCount: 3,
		reviewOutput: 2,
		goodOutput: 0,
		parameters: {
			policy: 'Refund small amounts.',
			actions: { action: [{ name: 'refund', description: 'Refund the order', needsApproval: false }, { name: 'reply', description: 'Answer', needsApproval: false }] },
			confidenceMethod: 'model-estimate',
		},
		good: { json: { action: 'refund', reason: 'small amount', evidence: ['invoice'], confidence: 0.9 } },
	},
];

function runAi(c: AiCase, onError: OnError) {
	server.setResponder((req) => (req.userText.includes('boom') ? serverError() : c.good));
	return runNode({
		node: c.node(),
		items: inputs(),
		parameters: { provider: 'openai', model: 'gpt-4.1-mini', options: { retries: RETRIES }, ...c.parameters },
		credentials: providerCredentials(server),
		onError,
	});
}

const aiResult = (item: INodeExecutionData, key: string) => (item.json.ai as IDataObject)[key] as IDataObject;
const failedRequests = () => server.requests.filter((r) => r.userText.includes('boom'));

describe.each(aiCases)('$name, a failed item', (c) => {
	it('with "Continue" reaches the review output whole, its failure in ai.<key>, without an item error', async () => {
		const outputs = await runAi(c, 'continueRegularOutput');
		expect(outputs).toHaveLength(c.outputCount);
		expect(outputs[c.goodOutput].map((i) => i.json.id)).toEqual([1]);
		expect(outputs[c.reviewOutput]).toHaveLength(1);
		const failed = outputs[c.reviewOutput][0];
		expect(failed.json).toMatchObject(inputs()[1]);
		expect(failed.pairedItem).toEqual({ item: 1 });
		expect(failed.error).toBeUndefined();
		expect(failed.json).not.toHaveProperty('error');
		const r = aiResult(failed, c.key);
		expect(r).toMatchObject({ step: c.key, needsReview: true, reviewReason: 'failed', provider: 'openai', model: 'gpt-4.1-mini', answer: null });
		expect(String(r.error)).toMatch(/^Item 1: .*500/);
		expect(r.decisionId).toMatch(/^[0-9a-f-]{36}$/);
		// every request the item made is counted: the first and the retries
		expect(failedRequests()).toHaveLength(RETRIES + 1);
		expect(r.attempts).toBe(RETRIES + 1);
		expect(r.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
		expect((failed.json.ai as IDataObject).latest).toBe(c.key);
	});

	it('with "Continue (using error output)" reaches the error output whole, with json.error', async () => {
		const outputs = await runAi(c, 'continueErrorOutput');
		// n8n adds the error output after the node's own
		expect(outputs).toHaveLength(c.outputCount + 1);
		const errorOutput = outputs[c.outputCount];
		expect(outputs.slice(0, c.outputCount).flat().map((i) => i.json.id)).toEqual([1]);
		expect(errorOutput).toHaveLength(1);
		const failed = errorOutput[0];
		expect(failed.json).toMatchObject(inputs()[1]);
		expect(failed.pairedItem).toEqual({ item: 1 });
		const r = aiResult(failed, c.key);
		expect(r).toMatchObject({ step: c.key, needsReview: true, reviewReason: 'failed', attempts: RETRIES + 1 });
		expect(failed.json.error).toBe(r.error);
		expect(String(failed.json.error)).toMatch(/^Item 1: .*500/);
	});

	it('stops the execution without Continue, naming the item', async () => {
		await expect(runAi(c, 'stopWorkflow')).rejects.toThrow(/^Item 1: /);
	});
});

describe('Confidence Gate, a failed item', () => {
	const result = {
		decisionId: 'd-1',
		step: 'classify',
		answer: 'billing',
		confidence: 0.95,
		confidenceMethod: 'logprobs',
		reason: '',
		evidence: [],
		needsReview: false,
		provider: 'openai',
		model: 'gpt-4.1-mini',
		usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
		costUsd: 0,
		attempts: 1,
		latencyMs: 1,
		promptHash: 'h',
		at: '2026-01-01T00:00:00.000Z',
	};
	const aiItem = { id: 1, ticket: 'a', ai: { latest: 'classify', classify: result } };
	const noAi = { id: 2, ticket: 'b', customer: { name: 'Grace' }, tags: ['web'] };
	const gate = (onError: OnError) => runNode({ node: new ConfidenceGate(), items: [aiItem, noAi], parameters: { samplePercent: 0 }, onError });

	it('with "Continue" reaches Review whole, its failure in gate.reason, without an item error', async () => {
		const [auto, review, reject] = await gate('continueRegularOutput');
		expect(auto.map((i) => i.json.id)).toEqual([1]);
		expect(reject).toEqual([]);
		expect(review).toHaveLength(1);
		expect(review[0].json).toMatchObject(noAi);
		expect(review[0].json).not.toHaveProperty('error');
		expect(review[0].error).toBeUndefined();
		expect(review[0].json.gate).toMatchObject({ band: 'review', confidence: null, reason: 'error: Item 1 has no AI result to gate' });
		expect(review[0].pairedItem).toEqual({ item: 1 });
	});

	it('with "Continue (using error output)" reaches the error output whole, with json.error', async () => {
		const outputs = await gate('continueErrorOutput');
		expect(outputs).toHaveLength(4);
		expect(outputs[0].map((i) => i.json.id)).toEqual([1]);
		expect(outputs[1]).toEqual([]);
		expect(outputs[3]).toHaveLength(1);
		expect(outputs[3][0].json).toMatchObject({ ...noAi, error: 'Item 1 has no AI result to gate' });
		expect(outputs[3][0].pairedItem).toEqual({ item: 1 });
	});
});
