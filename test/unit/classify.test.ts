/**
 * AI Classify inside n8n's execution engine (n8n-core's WorkflowExecute: real parameter resolution,
 * expressions, Continue On Fail and output handling), against the local provider server over the official
 * SDKs. (Inside a real n8n it is proven by the end-to-end suite.)
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { autoResponder, jsonWithLogprobs, type ProviderServer, type Reply, perSample, rateLimited, startProviderServer } from '../provider-server';
import { type OnError, providerCredentials, runNode } from './helpers/engine';

const categories = {
	category: [
		{ name: 'billing', description: 'Invoices, charges, refunds' },
		{ name: 'outage', description: 'Service down or degraded' },
		{ name: 'access', description: 'Login, passwords, permissions' },
		{ name: 'feature', description: 'Requests for new functionality' },
		{ name: 'other', description: 'Anything else' },
	],
};
const always = (reply: Reply) => () => reply;

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

function classify(
	texts: string[],
	params: Record<string, unknown> = {},
	{ provider = 'openai', onError }: { provider?: string; onError?: OnError } = {},
) {
	return runNode({
		node: new AiClassify(),
		items: texts.map((text, i) => ({ id: i, text })),
		parameters: {
			provider,
			model: provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
			text: '={{ $json.text }}',
			categories,
			multiLabel: false,
			confidenceMethod: 'logprobs',
			samples: 5,
			threshold: 0.7,
			routing: 'byCategory',
			instructions: '',
			resultKey: 'classify',
			options: { retries: 8 },
			...params,
		},
		credentials: providerCredentials(server),
		onError,
	});
}

const result = (item: INodeExecutionData) => (item.json.ai as IDataObject).classify as IDataObject;

describe('AI Classify', () => {
	it('turns known log-probabilities into the label probability (to 1e-6)', async () => {
		server.setResponder(
			always(jsonWithLogprobs({ label: 'billing', reason: 'asks about an invoice', evidence: ['my invoice'] }, { billing: [-0.1, -0.05] })),
		);
		const outputs = await classify(['Why is my invoice twice the usual amount?']);
		expect(outputs).toHaveLength(6);
		expect(outputs[0]).toHaveLength(1);
		const r = result(outputs[0][0]);
		expect(r.confidence).toBeCloseTo(Math.exp(-0.15), 6);
		expect(r.confidenceMethod).toBe('logprobs');
		expect(r.answer).toBe('billing');
		expect(r.evidence).toEqual(['my invoice']);
		expect(server.requests[0].body.logprobs).toBe(true);
		// the input fields are kept, pairedItem set, ai.latest points at the result
		expect(outputs[0][0].json.id).toBe(0);
		expect(outputs[0][0].pairedItem).toEqual({ item: 0 });
		expect((outputs[0][0].json.ai as IDataObject).latest).toBe('classify');
	});

	it('sends a label below the threshold to Needs Review', async () => {
		server.setResponder(always(jsonWithLogprobs({ label: 'outage', reason: 'r', evidence: [] }, { outage: -1.2 })));
		const outputs = await classify(['It is slow sometimes'], { threshold: 0.5 });
		expect(outputs[5]).toHaveLength(1);
		expect(result(outputs[5][0]).confidence).toBeCloseTo(Math.exp(-1.2), 6);
		expect(result(outputs[5][0]).reviewReason).toBe('below threshold');
	});

	it('measures k-sample agreement from OpenAI n samples', async () => {
		server.setResponder(
			perSample(
				{ json: { label: 'access', reason: 'r', evidence: [] } },
				{ json: { label: 'access', reason: 'r', evidence: [] } },
				{ json: { label: 'billing', reason: 'r', evidence: [] } },
				{ json: { label: 'access', reason: 'r', evidence: [] } },
				{ json: { label: 'other', reason: 'r', evidence: [] } },
			),
		);
		const outputs = await classify(['I cannot log in'], { confidenceMethod: 'k-sample', samples: 5, threshold: 0.5 });
		const r = result(outputs[2][0]);
		expect(r.answer).toBe('access');
		expect(r.confidence).toBeCloseTo(3 / 5, 9);
		expect(r.confidenceMethod).toBe('k-sample');
		expect(server.requests).toHaveLength(1);
		expect(server.requests[0].n).toBe(5);
	});

	it('measures k-sample agreement with Anthropic as k requests, majority wins', async () => {
		const answers = ['outage', 'billing', 'outage', 'outage'];
		let call = 0;
		server.setResponder(() => ({ json: { label: answers[call++ % answers.length], reason: 'r', evidence: [] } }));
		const outputs = await classify(['Everything is down'], { confidenceMethod: 'auto', samples: 4, threshold: 0.7 }, { provider: 'anthropic' });
		const r = result(outputs[1][0]);
		expect(r.answer).toBe('outage');
		expect(r.confidence).toBeCloseTo(3 / 4, 9);
		expect(r.confidenceMethod).toBe('k-sample');
		expect(server.requests).toHaveLength(4);
	});

	it('never lets a label outside the categories reach a category output', async () => {
		server.setResponder(always({ json: { label: 'shipping', reason: 'r', evidence: [] } }));
		const outputs = await classify(['Where is my parcel?'], { options: { reasks: 2 } });
		for (let i = 0; i < 5; i++) expect(outputs[i]).toHaveLength(0);
		expect(outputs[5]).toHaveLength(1);
		const r = result(outputs[5][0]);
		expect(r.answer).toBeNull();
		expect(r.reviewReason).toBe('no valid answer');
		expect(String(r.reason)).toMatch(/label/);
		// the model was asked again, twice, with the problem
		expect(server.requests).toHaveLength(3);
	});

	// Every third request is refused with a sub-second retry-after, which the node waits out before it retries;
	// how long that takes depends on the machine, so the test gives it a minute rather than jest's default.
	it('classifies every item through a 429 storm', async () => {
		let n = 0;
		server.setResponder(() =>
			n++ % 3 === 0
				? rateLimited(0.25)
				: jsonWithLogprobs({ label: 'feature', reason: 'r', evidence: [] }, { feature: -0.01 }),
		);
		const texts = Array.from({ length: 12 }, (_, i) => `Please add dark mode #${i}`);
		const outputs = await classify(texts, { options: { retries: 10, concurrency: 4 } });
		expect(outputs[3]).toHaveLength(12);
		expect(outputs[3].map((o) => o.json.id).sort((a, b) => Number(a) - Number(b))).toEqual(texts.map((_, i) => i));
		expect(server.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
	}, 60_000);

	it('routes per-item failures to Needs Review with Continue On Fail, and throws without it', async () => {
		server.setResponder((req) =>
			req.userText.includes('boom')
				? { status: 400, message: 'Bad request (scripted)' }
				: jsonWithLogprobs({ label: 'billing', reason: 'r', evidence: [] }, { billing: -0.01 }),
		);
		const outputs = await classify(['refund please', 'boom', 'invoice'], {}, { onError: 'continueRegularOutput' });
		expect(outputs[0].map((o) => o.json.id)).toEqual([0, 2]);
		expect(outputs[5]).toHaveLength(1);
		expect(outputs[5][0].json.id).toBe(1);
		expect(String(result(outputs[5][0]).error)).toMatch(/400/);
		await expect(classify(['refund please', 'boom'])).rejects.toThrow(/Item 1/);
	});

	it('gives each label its own score in multi-label mode', async () => {
		server.setResponder(
			always(jsonWithLogprobs({ labels: ['billing', 'access'], reason: 'r', evidence: [] }, { billing: -0.05, access: -0.9 })),
		);
		const outputs = await classify(['I was charged and now cannot log in'], { multiLabel: true, threshold: 0.3 });
		const r = result(outputs[0][0]);
		expect((r.scores as IDataObject).billing).toBeCloseTo(Math.exp(-0.05), 6);
		expect((r.scores as IDataObject).access).toBeCloseTo(Math.exp(-0.9), 6);
		expect(outputs[2]).toHaveLength(1);
	});

	it('uses a single output when asked', async () => {
		server.setResponder(always(jsonWithLogprobs({ label: 'other', reason: 'r', evidence: [] }, { other: -2 })));
		const outputs = await classify(['hello'], { routing: 'single' });
		expect(outputs).toHaveLength(1);
		expect(result(outputs[0][0]).needsReview).toBe(true);
	});

	it('gets log-probabilities from the autoResponder that follow its keyword match (the demo relies on it)', async () => {
		server.setResponder(autoResponder);
		const outputs = await classify(['My invoice has a wrong charge', 'hello there']);
		expect(outputs[0]).toHaveLength(1);
		expect(result(outputs[0][0]).confidence).toBeCloseTo(0.9, 6);
		expect(outputs[5]).toHaveLength(1);
		expect(result(outputs[5][0]).confidence).toBeCloseTo(0.4, 6);
	});

	it('keeps the prompt around the text under 150 tokens for 5 categories', async () => {
		server.setResponder(always(jsonWithLogprobs({ label: 'other', reason: 'r', evidence: [] }, { other: -0.1 })));
		const text = 'x';
		await classify([text]);
		await classify([text], { confidenceMethod: 'k-sample' }, { provider: 'anthropic' });
		for (const request of server.requests.slice(0, 2)) {
			const overhead = request.promptTokens - Math.ceil(text.length / 4);
			console.log(`AI Classify prompt overhead, 5 categories, ${request.api}: ${overhead} tokens`);
			expect(overhead).toBeLessThanOrEqual(150);
		}
	});
});
