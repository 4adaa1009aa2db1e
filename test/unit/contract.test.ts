/**
 * The item contract's typed results: what AI Classify, AI Extract and AI Decide put out, run inside n8n's
 * engine against the local provider server, must parse with the exact step schema (so a producer that drifts
 * from the contract fails here), and the lenient reading schema still reads failed and hand-made results.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiDecide } from '../../nodes/AiDecide/AiDecide.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { exactStepResultSchema, labelScores, latestAiResult, stepResultSchema, withAnswer, type StepResult } from '../../shared/contract';
import { jsonWithLogprobs, perSample, type ProviderServer, type Reply, startProviderServer } from '../provider-server';
import { aiResult } from './checkpoint-fixtures';
import { providerCredentials, runNode } from './helpers/engine';

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

const always = (reply: Reply) => () => reply;
/** The whole conversation, re-asks included: a scripted model that stays wrong keeps seeing its item. */
const conversation = (req: { body?: unknown }) => JSON.stringify(req.body ?? {});
const model = { provider: 'openai', model: 'gpt-4.1-mini' };

/** Every result the outputs hold, checked against the exact schema of its step; returns them typed. */
function exactResults(outputs: INodeExecutionData[][], key: string): StepResult[] {
	return outputs.flat().map((item) => {
		const value = (item.json.ai as IDataObject)[key];
		const parsed = exactStepResultSchema.safeParse(value);
		if (!parsed.success) throw new Error(`ai.${key} does not meet the contract: ${parsed.error.message}\n${JSON.stringify(value)}`);
		return parsed.data as StepResult;
	});
}

const categories = { category: ['billing', 'access', 'outage'].map((name) => ({ name, description: name })) };
function classify(texts: string[], params: Record<string, unknown>) {
	return runNode({
		node: new AiClassify(),
		items: texts.map((text, i) => ({ id: i, text })),
		parameters: {
			...model,
			text: '={{ $json.text }}',
			categories,
			multiLabel: false,
			confidenceMethod: 'logprobs',
			samples: 3,
			threshold: 0.5,
			routing: 'byCategory',
			instructions: '',
			resultKey: 'classify',
			options: { retries: 0, reasks: 1 },
			...params,
		},
		credentials: providerCredentials(server),
		onError: 'continueRegularOutput',
	});
}

const fields = {
	field: [
		{ name: 'invoice_number', type: 'string', description: 'Invoice number', required: true },
		{ name: 'total', type: 'number', description: 'Amount due', required: false },
	],
};
const INVOICE = 'Our invoice INV-7 is attached. Total due: 120 EUR.';
const record = (total: number) => ({
	invoice_number: { value: 'INV-7', quote: 'invoice INV-7', confidence: 0.9 },
	total: { value: total, quote: total === 120 ? 'Total due: 120 EUR' : 'made up', confidence: 0.8 },
});
function extract(params: Record<string, unknown>) {
	return runNode({
		node: new AiExtract(),
		items: [{ text: INVOICE }],
		parameters: {
			...model,
			text: '={{ $json.text }}',
			schemaSource: 'fields',
			fields,
			records: 'one',
			threshold: 0.5,
			unsupportedToReview: true,
			instructions: '',
			resultKey: 'extract',
			options: { retries: 0, reasks: 1 },
			...params,
		},
		credentials: providerCredentials(server),
		onError: 'continueRegularOutput',
	});
}

function decide(items: IDataObject[], params: Record<string, unknown> = {}) {
	return runNode({
		node: new AiDecide(),
		items,
		parameters: {
			...model,
			policy: 'Damaged goods get a partial refund.',
			actions: {
				action: [
					{ name: 'partial_refund', description: 'Refund part', needsApproval: false },
					{ name: 'full_refund', description: 'Refund all', needsApproval: true },
				],
			},
			rules: {
				rule: [
					{ name: 'Big orders', condition: '={{ $json.amount > 500 }}', effect: 'forbid', forbiddenActions: 'full_refund' },
					{ name: 'VIP', condition: '={{ $json.vip === true }}', effect: 'force', action: 'partial_refund' },
				],
			},
			confidenceMethod: 'model-estimate',
			samples: 3,
			threshold: 0.7,
			resultKey: 'decide',
			options: { retries: 0, reasks: 1, timeoutSeconds: 5 },
			...params,
		},
		credentials: providerCredentials(server),
		onError: 'continueRegularOutput',
	});
}

describe('what the AI nodes put out meets the exact step schema', () => {
	it('AI Classify: one label, several labels with scores, no valid answer, a failed item', async () => {
		server.setResponder((req) =>
			req.userText.includes('boom')
				? { status: 400, message: 'Bad request (scripted)' }
				: conversation(req).includes('nonsense')
					? { json: { label: 'weather', reason: 'r', evidence: [] } }
					: jsonWithLogprobs({ label: 'billing', reason: 'r', evidence: ['invoice', 'not in the text'] }, { billing: -0.05 }),
		);
		const single = exactResults(await classify(['my invoice', 'nonsense', 'boom'], {}), 'classify');
		expect(single.map((r) => r.answer)).toEqual(['billing', null, null]);
		expect(single[0]).toMatchObject({ step: 'classify', label: 'billing', threshold: 0.5, unsupportedEvidence: 1 });

		server.setResponder(always(jsonWithLogprobs({ labels: ['billing', 'access'], reason: 'r', evidence: [] }, { billing: -0.05, access: -0.9 })));
		const [multi] = exactResults(await classify(['charged and locked out'], { multiLabel: true, threshold: 0.3 }), 'classify');
		expect(multi).toMatchObject({ answer: ['billing', 'access'], labels: ['billing', 'access'] });
		expect(labelScores(multi).map((l) => l.label)).toEqual(['billing', 'access']);
		expect(labelScores(multi)[1].score).toBeCloseTo(Math.exp(-0.9), 6);

		server.setResponder(
			perSample(
				{ json: { labels: ['billing', 'access'], reason: 'r', evidence: [] } },
				{ json: { labels: ['billing'], reason: 'r', evidence: [] } },
				{ json: { labels: ['billing', 'outage'], reason: 'r', evidence: [] } },
			),
		);
		const [sampled] = exactResults(
			await classify(['charged twice'], { multiLabel: true, confidenceMethod: 'k-sample', threshold: 0.3 }),
			'classify',
		);
		expect(sampled).toMatchObject({ answer: ['billing'], samples: 3 });
	});

	it('AI Extract: one record, an unsupported value, several records, no record, a failed item', async () => {
		server.setResponder(always({ json: record(120) }));
		const [one] = exactResults(await extract({}), 'extract');
		expect(one).toMatchObject({ step: 'extract', answer: { invoice_number: 'INV-7', total: 120 }, missing: [], unsupported: [] });

		server.setResponder(always({ json: record(999) }));
		const [flagged] = exactResults(await extract({}), 'extract');
		expect(flagged).toMatchObject({ unsupported: ['total'], needsReview: true });

		server.setResponder(always({ json: { records: [record(120), record(120)] } }));
		const many = exactResults(await extract({ records: 'many' }), 'extract');
		expect(many.map((r) => r.step === 'extract' && r.recordIndex)).toEqual([0, 1]);

		server.setResponder(always({ json: { records: [] } }));
		const [none] = exactResults(await extract({ records: 'many' }), 'extract');
		expect(none).toMatchObject({ answer: [], data: null, recordCount: 0 });

		server.setResponder(always({ json: { nothing: true } }));
		const [failed] = exactResults(await extract({}), 'extract');
		expect(failed).toMatchObject({ answer: null, reviewReason: 'failed' });
	});

	it('AI Decide: a forced action, the model choice, an escalation, no valid answer', async () => {
		server.setResponder((req) =>
			conversation(req).includes('nonsense')
				? { json: { action: 'shout', reason: 'r', evidence: [], confidence: 0.9 } }
				: /unsure/.test(req.userText)
					? { json: { action: 'full_refund', reason: 'r', evidence: [], confidence: 0.3 } }
					: { json: { action: 'full_refund', reason: 'r', evidence: ['damaged'], confidence: 0.95 } },
		);
		const results = exactResults(
			await decide([
				{ message: 'vip', vip: true, amount: 10 },
				{ message: 'arrived damaged', amount: 10 },
				{ message: 'unsure', amount: 10 },
				{ message: 'nonsense', amount: 10 },
			]),
			'decide',
		);
		const byAnswer = Object.fromEntries(results.map((r) => [`${r.answer}:${r.reviewReason ?? ''}`, r]));
		expect(byAnswer['partial_refund:']).toMatchObject({ action: 'partial_refund', rule: 'VIP', confidenceMethod: 'rule' });
		expect(byAnswer['full_refund:']).toMatchObject({ action: 'full_refund', requiresApproval: true, proposedAction: 'full_refund' });
		expect(byAnswer['escalate:below threshold']).toMatchObject({ action: 'escalate', proposedAction: 'full_refund' });
		expect(byAnswer['escalate:no valid answer']).toMatchObject({ action: 'escalate', proposedAction: null });
	});
});

describe('the step schemas', () => {
	const classified = { ...aiResult('classify', 'billing'), label: 'billing', threshold: 0.7, unsupportedEvidence: 0 };

	it('refuse a field the contract does not name, and a repeated answer that differs, when exact', () => {
		expect(exactStepResultSchema.safeParse(classified).success).toBe(true);
		expect(exactStepResultSchema.safeParse({ ...classified, labelz: ['billing'] }).success).toBe(false);
		expect(exactStepResultSchema.safeParse({ ...classified, label: 'access' }).success).toBe(false);
		expect(exactStepResultSchema.safeParse({ ...aiResult('decide', 'x'), action: 'y' }).success).toBe(false);
		expect(exactStepResultSchema.safeParse({ ...aiResult('extract', { a: 1 }), fields: { a: { value: 1, quote: null, supported: true, confidence: 1, extra: 1 } } }).success).toBe(false);
	});

	it('read results leniently: other fields kept, older results without the step fields, failed ones', () => {
		const read = stepResultSchema.parse({ ...classified, addedLater: 1 });
		expect(read).toMatchObject({ step: 'classify', label: 'billing', addedLater: 1 });
		expect(stepResultSchema.safeParse(aiResult('decide', 'refund')).success).toBe(true);
		expect(stepResultSchema.safeParse(aiResult('extract', null)).success).toBe(true);
		// an answer of the wrong kind for its step is not that step's result
		expect(stepResultSchema.safeParse(aiResult('decide', { a: 1 })).success).toBe(false);
		const json = { ai: { latest: 'c', c: aiResult('classify', ['billing', 'access'], { scores: { billing: 0.9 } } as never) } };
		const found = latestAiResult(json)!;
		expect(labelScores(found.result)).toEqual([
			{ label: 'billing', score: 0.9 },
			{ label: 'access', score: null },
		]);
	});

	it('keep the fields that repeat the answer in step with a corrected answer, for the step only', () => {
		expect(withAnswer({ step: 'classify', answer: ['a'], labels: ['a'], action: 'x' }, ['b'])).toEqual({
			step: 'classify',
			answer: ['b'],
			labels: ['b'],
			action: 'x',
		});
		expect(withAnswer({ step: 'extract', answer: [], data: null }, { a: 1 })).toEqual({ step: 'extract', answer: { a: 1 }, data: { a: 1 } });
	});
});
