/**
 * No work done twice (version 3 of AI Classify and AI Extract): items of one run with the same text and
 * settings make one request and share its answer; each keeps its own item, pairedItem and decision id, and the
 * items that reused an answer say so (`reused`) and cost nothing. Version 2 asks for every item, as before.
 * Through n8n's engine, against the local provider server over the official SDKs.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { exactStepResultSchema } from '../../shared/contract';
import { startProviderServer, type ProviderServer } from '../provider-server';
import { providerCredentials, runNode } from './helpers/engine';

jest.setTimeout(120_000);

const categories = {
	category: [
		{ name: 'billing', description: 'Invoices, charges, refunds' },
		{ name: 'outage', description: 'Service down or degraded' },
		{ name: 'other', description: 'Anything else' },
	],
};

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

function classify(items: IDataObject[], typeVersion: number, params: Record<string, unknown> = {}) {
	return runNode({
		node: new AiClassify(),
		typeVersion,
		items,
		parameters: {
			provider: 'openai',
			model: 'gpt-4.1-mini',
			text: '={{ $json.text }}',
			categories,
			confidenceMethod: 'logprobs',
			threshold: 0.5,
			routing: 'single',
			resultKey: 'classify',
			options: { retries: 2 },
			...params,
		},
		credentials: providerCredentials(server),
	});
}

const classified = (item: INodeExecutionData) => (item.json.ai as IDataObject).classify as IDataObject;
const generation = () => server.requests.filter((r) => r.path === '/v1/chat/completions');

const texts = ['My invoice was charged twice', 'The service is down since noon', 'My invoice was charged twice', 'Hello there', 'My invoice was charged twice'];

describe('items with the same text and settings', () => {
	it('version 3: one request per distinct text; the others reuse its answer, each keeping its own item', async () => {
		const [out] = await classify(
			texts.map((text, id) => ({ id, text })),
			3,
		);
		expect(generation()).toHaveLength(3);
		expect(out).toHaveLength(5);
		expect(out.map((item) => item.json.id)).toEqual([0, 1, 2, 3, 4]);
		expect(out.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		const results = out.map(classified);
		expect(results.map((r) => r.reused ?? false)).toEqual([false, false, true, false, true]);
		expect(results[2].answer).toBe(results[0].answer);
		expect(results[4].answer).toBe('billing');
		expect(results[2].confidence).toBe(results[0].confidence);
		// the item that asked carries the cost, the ones that reused it none
		expect((results[0].usage as IDataObject).requests).toBe(1);
		expect(results[2].usage).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 0 });
		expect(results[2].costUsd).toBe(0);
		expect(results[2].attempts).toBe(0);
		expect(results[2].promptHash).toBe(results[0].promptHash);
		expect(new Set(results.map((r) => r.decisionId)).size).toBe(5);
		// what the node writes still meets the contract exactly
		for (const r of results) expect(exactStepResultSchema.safeParse(r).success).toBe(true);
	});

	it('version 2 (a saved workflow): every item asks, and no result says reused', async () => {
		const [out] = await classify(
			texts.map((text, id) => ({ id, text })),
			2,
		);
		expect(generation()).toHaveLength(5);
		expect(out.map(classified).every((r) => r.reused === undefined)).toBe(true);
	});

	it('the same text under different settings asks again', async () => {
		const [out] = await classify(
			[
				{ text: 'My invoice was charged twice', hint: 'Be strict.' },
				{ text: 'My invoice was charged twice', hint: 'Be lenient.' },
				{ text: 'My invoice was charged twice', hint: 'Be strict.' },
			],
			3,
			{ instructions: '={{ $json.hint }}' },
		);
		expect(generation()).toHaveLength(2);
		expect(out.map(classified).map((r) => r.reused ?? false)).toEqual([false, false, true]);
	});

	it('AI Extract version 3: a run where 30 % of the texts repeat makes 30 % fewer requests', async () => {
		const distinct = Array.from({ length: 14 }, (_, i) => `Invoice number: INV-${1000 + i}\nTotal: ${100 + i}.00`);
		// 20 items: 14 distinct texts, 6 repeats of earlier ones
		const all = [...distinct, ...distinct.slice(0, 6)];
		const [extracted, review] = await runNode({
			node: new AiExtract(),
			typeVersion: 3,
			items: all.map((text, id) => ({ id, text })),
			parameters: {
				provider: 'openai',
				model: 'gpt-4.1-mini',
				text: '={{ $json.text }}',
				schemaSource: 'fields',
				fields: {
					field: [
						{ name: 'invoice_number', type: 'string', description: 'The invoice number', required: true },
						{ name: 'total', type: 'number', description: 'The total', required: true },
					],
				},
				records: 'one',
				threshold: 0.5,
				resultKey: 'extract',
				options: { retries: 2 },
			},
			credentials: providerCredentials(server),
		});
		const out = [...extracted, ...review];
		expect(out).toHaveLength(20);
		expect(generation()).toHaveLength(14);
		const byId = new Map(out.map((item) => [item.json.id as number, (item.json.ai as IDataObject).extract as IDataObject]));
		for (let i = 0; i < 6; i++) {
			expect(byId.get(14 + i)?.reused).toBe(true);
			expect(byId.get(14 + i)?.answer).toEqual(byId.get(i)?.answer);
		}
		expect([...byId.values()].filter((r) => r.reused).length).toBe(6);
	});
});
