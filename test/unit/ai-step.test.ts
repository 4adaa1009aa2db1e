/**
 * The run shape every AI node shares (shared/aiStep.ts), inside n8n's engine against the local provider server:
 * `prepare` once per run, `process` per item, and the one policy for an answer that stays invalid after
 * re-asking ('review' for AI Classify and AI Decide, 'fail' for AI Extract).
 */
import { z } from 'zod/v4';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import type { AiStepConfig } from '../../shared/aiStep';
import { perSettings } from '../../shared/node/parameters';
import { type ProviderServer, type Reply, startProviderServer } from '../provider-server';
import { aiStepNode } from './helpers/aiStepNode';
import { type OnError, providerCredentials, runNode } from './helpers/engine';

const always = (reply: Reply) => () => reply;

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

const schema = z.object({ amount: z.number(), reason: z.string() });
const request = {
	instructions: 'Read the amount.',
	schemaName: 'amount',
	schemaDescription: 'The amount',
	samples: 1,
	logprobs: false,
	maxTokens: 256,
};
const ANSWER_SCHEMA = { type: 'number' };

/** A step that asks for the amount through the runner, under the given "no valid answer" policy. */
function amountStep(noValidAnswer: 'review' | 'fail', prepares: number[] = []): AiStepConfig<{ unit: string }> {
	return {
		step: 'extract',
		defaultKey: 'extract',
		noValidAnswer,
		prepare: ({ param }) => {
			prepares.push(1);
			return { unit: String(param('model', 0)), outputCount: 3, reviewOutput: 2 };
		},
		process: async (item, input, prepared) => {
			const text = item.prepareText(input.json.text, 'Text');
			const answer = await item.ask({ ...request, input: text, temperature: 0 }, schema, {
				promptParts: { step: 'test', unit: prepared.unit },
				answerSchema: ANSWER_SCHEMA,
				reviewFields: { note: 'asked for the amount' },
				fieldOf: (path) => `the ${path}`,
			});
			return {
				output: 0,
				result: item.result(
					{ answer: answer.value.amount, confidence: null, confidenceMethod: 'none', reason: prepared.unit, evidence: [], needsReview: false },
					answer,
					{ step: 'test' },
				),
			};
		},
	};
}

function run(config: AiStepConfig<{ unit: string }>, texts: string[], onError?: OnError) {
	return runNode({
		node: aiStepNode(config, 3),
		items: texts.map((text) => ({ text })),
		parameters: { provider: 'openai', model: 'gpt-4.1-mini', resultKey: 'extract', options: { reasks: 1, retries: 0 } },
		credentials: providerCredentials(server),
		onError,
	});
}

const result = (item: INodeExecutionData) => (item.json.ai as IDataObject).extract as IDataObject;

describe('the run shape', () => {
	it('prepares once per run and hands the prepared value to every item', async () => {
		server.setResponder(always({ json: { amount: 3, reason: 'r' } }));
		const prepares: number[] = [];
		const outputs = await run(amountStep('review', prepares), ['a', 'b', 'c']);
		expect(prepares).toHaveLength(1);
		expect(outputs.map((o) => o.length)).toEqual([3, 0, 0]);
		expect(outputs[0].map((item) => result(item).reason)).toEqual(['gpt-4.1-mini', 'gpt-4.1-mini', 'gpt-4.1-mini']);
	});

	it('builds what items share once per distinct settings', () => {
		const built: string[] = [];
		const prompt = perSettings((settings: { categories: string[] }) => {
			built.push(settings.categories.join());
			return { instructions: settings.categories.join('\n') };
		});
		const first = prompt({ categories: ['a', 'b'] });
		expect(prompt({ categories: ['a', 'b'] })).toBe(first);
		expect(prompt({ categories: ['c'] }).instructions).toBe('c');
		expect(built).toEqual(['a,b', 'c']);
	});

	it("keeps a prompt right per item when the categories come from an expression (AI Classify)", async () => {
		server.setResponder((req) => ({ json: { label: req.systemText.includes('refund') ? 'refund' : 'billing', reason: 'r', evidence: [], confidence: 0.9 } }));
		const outputs = await runNode({
			node: new AiClassify(),
			items: [
				{ text: 'first', second: 'billing' },
				{ text: 'second', second: 'refund' },
				{ text: 'third', second: 'billing' },
			],
			parameters: {
				provider: 'openai',
				model: 'gpt-4.1-mini',
				text: '={{ $json.text }}',
				categories: { category: [{ name: 'other' }, { name: '={{ $json.second }}' }] },
				confidenceMethod: 'model-estimate',
				routing: 'single',
				threshold: 0.5,
			},
			credentials: providerCredentials(server),
		});
		expect(outputs[0].map((item) => ((item.json.ai as IDataObject).classify as IDataObject).answer)).toEqual(['billing', 'refund', 'billing']);
		const prompts = server.requests.map((r) => r.systemText);
		expect(prompts[1]).toContain('refund');
		expect(prompts[0]).not.toContain('refund');
		expect(prompts[2]).toBe(prompts[0]);
	});
});

describe('an answer that stays invalid after re-asking', () => {
	beforeEach(() => server.setResponder(always({ json: { amount: 'twelve', reason: 'r' } })));

	it("'review': the item goes to the review output with no answer, the problems, what it cost and the answer's shape", async () => {
		const outputs = await run(amountStep('review'), ['Twelve euros']);
		expect(outputs.map((o) => o.length)).toEqual([0, 0, 1]);
		const r = result(outputs[2][0]);
		expect(r).toMatchObject({
			answer: null,
			confidence: null,
			confidenceMethod: 'none',
			needsReview: true,
			reviewReason: 'no valid answer',
			evidence: [],
			attempts: 2,
			answerSchema: ANSWER_SCHEMA,
			note: 'asked for the amount',
		});
		expect(r.reason).toMatch(/^No valid answer after re-asking: amount: /);
		expect((r.usage as IDataObject).requests).toBe(2);
		expect(r.promptHash).toMatch(/^[0-9a-f]{64}$/);
		expect(r.error).toBeUndefined();
		expect(outputs[2][0].json.text).toBe('Twelve euros');
	});

	it("'fail': the item fails with an error naming the user's fields, or goes to review with Continue On Fail", async () => {
		await expect(run(amountStep('fail'), ['Twelve euros'])).rejects.toThrow(
			/^Item 0: The model's answer stayed invalid after re-asking, for field the amount: amount: /,
		);
		server.reset();
		server.setResponder(always({ json: { amount: 'twelve', reason: 'r' } }));
		const outputs = await run(amountStep('fail'), ['Twelve euros'], 'continueRegularOutput');
		expect(outputs.map((o) => o.length)).toEqual([0, 0, 1]);
		const r = result(outputs[2][0]);
		expect(r).toMatchObject({ answer: null, needsReview: true, reviewReason: 'failed', attempts: 2 });
		expect(r.error).toMatch(/for field the amount/);
		expect((r.usage as IDataObject).requests).toBe(2);
	});
});
