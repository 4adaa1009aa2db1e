/**
 * AI Extract inside n8n's execution engine (n8n-core's WorkflowExecute), against the local provider server
 * over the official SDKs. (Inside a real n8n it is proven by test/e2e/extract.test.ts.)
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { autoResponder, type ProviderServer, type Reply, type Responder, sequence, startProviderServer } from '../provider-server';
import { type OnError, providerCredentials, runNode } from './helpers/engine';

const fields = {
	field: [
		{ name: 'invoice_number', type: 'string', description: "The supplier's invoice number", required: true },
		{ name: 'total', type: 'number', description: 'Amount due including tax', required: true },
		{ name: 'due_date', type: 'date', description: 'When payment is due', required: false },
	],
};

const INVOICE = [
	'Dear accounts team,',
	'please find attached our invoice INV-2024-0193 for the March delivery.',
	'Total due: 1.240,00 EUR, payable by 15 April 2024.',
	'Kind regards, Anna Berger, ACME Office Supplies',
].join('\n');

const always =
	(reply: Reply): Responder =>
	() =>
		reply;

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

function extract(
	texts: string[],
	params: Record<string, unknown> = {},
	{ provider = 'openai', onError }: { provider?: string; onError?: OnError } = {},
) {
	return runNode({
		node: new AiExtract(),
		items: texts.map((text, i) => ({ id: i, text })),
		parameters: {
			provider,
			model: provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
			text: '={{ $json.text }}',
			schemaSource: 'fields',
			fields,
			records: 'one',
			threshold: 0.5,
			unsupportedToReview: true,
			instructions: '',
			resultKey: 'extract',
			options: { retries: 2 },
			...params,
		},
		credentials: providerCredentials(server),
		onError,
	});
}

const result = (item: INodeExecutionData) => (item.json.ai as IDataObject).extract as IDataObject;
const field = (item: INodeExecutionData, name: string) => (result(item).fields as IDataObject)[name] as IDataObject;

const goodAnswer = {
	invoice_number: { value: 'INV-2024-0193', quote: 'our invoice INV-2024-0193', confidence: 0.95 },
	total: { value: 1240, quote: 'Total due: 1.240,00 EUR', confidence: 0.9 },
	due_date: { value: '2024-04-15', quote: 'payable by 15 April 2024', confidence: 0.8 },
};

describe('AI Extract', () => {
	it('extracts a supported record to Extracted, with quotes, confidence and the common result fields', async () => {
		server.setResponder(always({ json: goodAnswer }));
		const outputs = await extract([INVOICE]);
		expect(outputs.map((o) => o.length)).toEqual([1, 0]);
		const item = outputs[0][0];
		const r = result(item);
		expect(r.data).toEqual({ invoice_number: 'INV-2024-0193', total: 1240, due_date: '2024-04-15' });
		expect(r.answer).toEqual(r.data);
		expect(field(item, 'total')).toEqual({ value: 1240, quote: 'Total due: 1.240,00 EUR', supported: true, confidence: 0.9 });
		expect(r.confidence).toBe(0.9); // min over the required fields
		expect(r.confidenceMethod).toBe('evidence+estimate');
		expect(r.missing).toEqual([]);
		expect(r.needsReview).toBe(false);
		expect(r.truncated).toBe(false);
		expect(r.attempts).toBe(1);
		expect((r.usage as IDataObject).requests).toBe(1);
		expect(r.promptHash).toMatch(/^[0-9a-f]{64}$/);
		expect(r.decisionId).toMatch(/^[0-9a-f-]{36}$/);
		expect(item.json.id).toBe(0);
		expect(item.pairedItem).toEqual({ item: 0 });
		expect((item.json.ai as IDataObject).latest).toBe('extract');
		// what the model was sent: the static instructions first, the item's text last and on its own
		const sent = server.requests[0];
		expect(sent.userText).toBe(INVOICE);
		expect(sent.systemText).toContain('Required: invoice_number, total.');
		// the field's description travels once, in the schema
		expect(JSON.stringify(sent.schema)).toContain("The supplier's invoice number");
		expect(sent.systemText).not.toContain("The supplier's invoice number");
		expect(sent.body.response_format.json_schema.strict).toBe(true);
	});

	it('flags a fabricated value whose quote is not in the text, and sends it to Needs Review', async () => {
		server.setResponder(
			always({ json: { ...goodAnswer, total: { value: 4980, quote: 'Total due: 4.980,00 EUR', confidence: 0.97 } } }),
		);
		const outputs = await extract([INVOICE]);
		expect(outputs.map((o) => o.length)).toEqual([0, 1]);
		const item = outputs[1][0];
		expect(field(item, 'total')).toMatchObject({ value: 4980, supported: false, confidence: 0, problem: 'the quote does not occur in the text' });
		expect(field(item, 'invoice_number').supported).toBe(true);
		expect(result(item).unsupported).toEqual(['total']);
		expect(result(item).confidence).toBe(0);
		expect(result(item).reviewReason).toBe('unsupported value: total');
		expect(result(item).evidence).not.toContain('Total due: 4.980,00 EUR');
	});

	it('flags a value its (real) quote does not state, and can leave such items on Extracted when asked', async () => {
		server.setResponder(
			always({ json: { ...goodAnswer, due_date: { value: '2024-05-15', quote: 'payable by 15 April 2024', confidence: 0.9 } } }),
		);
		const flagged = await extract([INVOICE]);
		expect(field(flagged[1][0], 'due_date')).toMatchObject({ supported: false, problem: 'the date 2024-05-15 is not the date in the quote' });
		const kept = await extract([INVOICE], { unsupportedToReview: false });
		expect(kept.map((o) => o.length)).toEqual([1, 0]);
		expect(result(kept[0][0]).unsupported).toEqual(['due_date']);
	});

	it('fixes a wrong type by re-asking with the validation error', async () => {
		server.setResponder(
			sequence({ json: { ...goodAnswer, total: { value: '1.240,00 EUR', quote: 'Total due: 1.240,00 EUR', confidence: 0.9 } } }, { json: goodAnswer }),
		);
		const outputs = await extract([INVOICE]);
		expect(server.requests).toHaveLength(2);
		const reask = server.requests[1];
		// the second request carries the model's wrong answer and what was wrong with it, naming the field
		expect(reask.userText).toContain('total.value');
		expect(reask.userText).toMatch(/expected number/i);
		expect(reask.body.messages.at(-2)).toMatchObject({ role: 'assistant' });
		expect(outputs[0]).toHaveLength(1);
		expect(result(outputs[0][0]).attempts).toBe(2);
		expect(result(outputs[0][0]).data).toMatchObject({ total: 1240 });
	});

	it('ends in a clear error naming the field when the re-asks do not fix it, or routes it with Continue On Fail', async () => {
		server.setResponder(always({ json: { ...goodAnswer, total: { value: 'a lot', quote: 'Total due', confidence: 0.9 } } }));
		await expect(extract([INVOICE], { options: { reasks: 1, retries: 0 } })).rejects.toThrow(
			/Item 0: The model's answer stayed invalid after re-asking, for field total: total\.value/,
		);
		expect(server.requests).toHaveLength(2);
		server.reset();
		const outputs = await extract([INVOICE], { options: { reasks: 1, retries: 0 } }, { onError: 'continueRegularOutput' });
		expect(outputs[1]).toHaveLength(1);
		expect(result(outputs[1][0]).error).toMatch(/field total/);
		expect(outputs[1][0].pairedItem).toEqual({ item: 0 });
	});

	it('sends a record with a required field missing to Needs Review, listed in missing', async () => {
		server.setResponder(always({ json: { ...goodAnswer, invoice_number: { value: null, quote: '', confidence: 0.2 } } }));
		const outputs = await extract([INVOICE]);
		expect(outputs.map((o) => o.length)).toEqual([0, 1]);
		const r = result(outputs[1][0]);
		expect(r.missing).toEqual(['invoice_number']);
		expect(r.reviewReason).toBe('missing required field: invoice_number');
		expect(field(outputs[1][0], 'invoice_number')).toEqual({ value: null, quote: null, supported: true, confidence: 0 });
	});

	it('a missing optional field does not send the record to review', async () => {
		server.setResponder(always({ json: { ...goodAnswer, due_date: { value: null, quote: '', confidence: 0.3 } } }));
		const outputs = await extract([INVOICE]);
		expect(outputs.map((o) => o.length)).toEqual([1, 0]);
		expect(result(outputs[0][0]).missing).toEqual([]);
	});

	it('gives one output item per record in many-records mode, each paired to its source item', async () => {
		const orders = [
			'Order 7781\n2 x Desk lamp @ 39.90\n1 x Office chair @ 249.00\n3 x Notebook A5 @ 4,50',
			'Order 7782\n5 x Stapler @ 12.00',
		];
		const line = (item: string, qty: number, price: number, quote: string, priceQuote = quote) => ({
			item: { value: item, quote, confidence: 0.9 },
			quantity: { value: qty, quote, confidence: 0.9 },
			unit_price: { value: price, quote: priceQuote, confidence: 0.9 },
		});
		server.setResponder((req) =>
			req.userText.includes('7781')
				? {
						json: {
							records: [
								line('Desk lamp', 2, 39.9, '2 x Desk lamp @ 39.90'),
								line('Office chair', 1, 249, '1 x Office chair @ 249.00'),
								line('Notebook A5', 3, 4.5, '3 x Notebook A5 @ 4,50'),
							],
						},
					}
				: { json: { records: [line('Stapler', 5, 12, '5 x Stapler @ 12.00')] } },
		);
		const outputs = await extract(orders, {
			records: 'many',
			fields: {
				field: [
					{ name: 'item', type: 'string', description: '', required: true },
					{ name: 'quantity', type: 'integer', description: '', required: true },
					{ name: 'unit_price', type: 'number', description: '', required: true },
				],
			},
		});
		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((i) => [i.pairedItem, result(i).recordIndex, result(i).recordCount, (result(i).data as IDataObject).item])).toEqual([
			[{ item: 0 }, 0, 3, 'Desk lamp'],
			[{ item: 0 }, 1, 3, 'Office chair'],
			[{ item: 0 }, 2, 3, 'Notebook A5'],
			[{ item: 1 }, 0, 1, 'Stapler'],
		]);
		// each output item keeps its own input item's fields
		expect(outputs[0].map((i) => i.json.id)).toEqual([0, 0, 0, 1]);
		// the request's usage is counted once per input item
		expect(outputs[0].map((i) => (result(i).usage as IDataObject).requests)).toEqual([1, 0, 0, 1]);
		expect(server.requests[0].schema).toMatchObject({ properties: { records: { type: 'array' } } });
	});

	it('sends an item without records to Needs Review in many-records mode', async () => {
		server.setResponder(always({ json: { records: [] } }));
		const outputs = await extract(['Thanks for the call today!'], { records: 'many' });
		expect(outputs.map((o) => o.length)).toEqual([0, 1]);
		expect(result(outputs[1][0])).toMatchObject({ reviewReason: 'no records found', recordCount: 0, answer: [] });
	});

	it('fails with a message naming an unsupported JSON Schema keyword, before any request', async () => {
		const schema = { type: 'object', properties: { total: { type: 'number' }, tags: { type: 'object', patternProperties: { '^x-': { type: 'string' } } } } };
		await expect(extract([INVOICE], { schemaSource: 'jsonSchema', jsonSchema: JSON.stringify(schema) })).rejects.toThrow(
			'JSON Schema keyword "patternProperties" at #/properties/tags is not supported',
		);
		expect(server.requests).toHaveLength(0);
	});

	it('extracts with a pasted JSON Schema and with an example, through the schema-driven responder', async () => {
		server.setResponder(autoResponder);
		const text = 'Invoice number: INV-77\nTotal: 1,999.00\nCurrency: USD\nDue date: 2024-06-30';
		const schema = {
			type: 'object',
			properties: {
				invoice_number: { type: 'string' },
				total: { type: 'number' },
				currency: { type: 'string', enum: ['EUR', 'USD'] },
				due_date: { type: 'string', format: 'date' },
			},
			required: ['invoice_number', 'total'],
		};
		const bySchema = await extract([text], { schemaSource: 'jsonSchema', jsonSchema: schema });
		expect(result(bySchema[0][0]).data).toEqual({ invoice_number: 'INV-77', total: 1999, currency: 'USD', due_date: '2024-06-30' });
		const byExample = await extract([text], {
			schemaSource: 'example',
			example: '{"invoice_number": "INV-1", "total": 10.5, "due_date": "2024-01-31"}',
		});
		expect(result(byExample[0][0]).data).toEqual({ invoice_number: 'INV-77', total: 1999, due_date: '2024-06-30' });
		expect(byExample[0]).toHaveLength(1);
	});

	it('works the same through Anthropic forced tool use', async () => {
		server.setResponder(always({ json: goodAnswer }));
		const outputs = await extract([INVOICE], {}, { provider: 'anthropic' });
		expect(result(outputs[0][0])).toMatchObject({ provider: 'anthropic', needsReview: false, data: { total: 1240 } });
		expect(server.requests[0].toolName).toBeDefined();
	});

	it('fails long text clearly, or truncates it only when asked and flags the result', async () => {
		server.setResponder(always({ json: goodAnswer }));
		const long = `${INVOICE}\n${'Terms and conditions apply. '.repeat(20)}`;
		await expect(extract([long], { options: { maxInputChars: 300 } })).rejects.toThrow(/Text is too long: \d+ characters, the limit is 300/);
		expect(server.requests).toHaveLength(0);
		const outputs = await extract([long], { options: { maxInputChars: 300, truncate: true } });
		expect(server.requests[0].userText).toBe(long.slice(0, 300));
		expect(result(outputs[0][0]).truncated).toBe(true);
	});

	it('names the item and the field for empty text; Continue On Fail routes it to Needs Review', async () => {
		server.setResponder(always({ json: goodAnswer }));
		await expect(extract(['  '])).rejects.toThrow('Text is empty');
		const outputs = await extract([INVOICE, ''], {}, { onError: 'continueRegularOutput' });
		expect(outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }]);
		expect(outputs[1].map((i) => i.pairedItem)).toEqual([{ item: 1 }]);
		expect(result(outputs[1][0]).error).toBe('Text is empty');
	});

	it('prints the prompt overhead around the text for a 3-field schema (n8n Information Extractor: about 380)', async () => {
		server.setResponder(always({ json: goodAnswer }));
		const text = 'x';
		await extract([text]);
		await extract([text], {}, { provider: 'anthropic' });
		for (const request of server.requests) {
			const overhead = request.promptTokens - Math.ceil(text.length / 4);
			console.log(`AI Extract prompt overhead, 3 fields, ${request.api}: ${overhead} tokens`);
			expect(overhead).toBeLessThan(380);
		}
	});
});
