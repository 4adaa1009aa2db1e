/**
 * The provider server answers the prompt format of n8n's LangChain chains (format instructions carrying a
 * JSON Schema in a ```json block), so the benchmark's n8n nodes do the same work as ours.
 */
import OpenAI from 'openai';

import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { langchainSchema } from '../provider-server/langchain';

const category = (name: string, description: string) => ({
	type: 'boolean',
	description: `Should be true if the input has category "${name}" (description: ${description})`,
});

function formatInstructions(schema: object): string {
	return [
		'Please classify the text provided by the user into one of the following categories: billing, outage.',
		'You must format your output as a JSON value that adheres to a given "JSON Schema" instance.',
		'Here is the JSON Schema instance your output must adhere to. Include the enclosing markdown codeblock:',
		'```json',
		JSON.stringify(schema),
		'```',
	].join('\n');
}

let server: ProviderServer;
let client: OpenAI;
beforeAll(async () => {
	server = await startProviderServer({ responder: autoResponder });
	client = new OpenAI({ apiKey: 'sk-test', baseURL: server.openaiBaseUrl, maxRetries: 0 });
});
afterAll(async () => server.close());

it('finds the schema in the format instructions, and only there', () => {
	const schema = { type: 'object', properties: { a: { type: 'string' } } };
	expect(langchainSchema(formatInstructions(schema))).toEqual(schema);
	expect(langchainSchema('no instructions here ```json\n{"type":"object"}\n```')).toBeUndefined();
});

it("answers the Text Classifier's one-boolean-per-category schema with exactly one category, in a json block", async () => {
	const schema = {
		type: 'object',
		properties: {
			billing: category('billing', 'Invoices, charges and refunds'),
			outage: category('outage', 'The service is down'),
		},
		required: ['billing', 'outage'],
		additionalProperties: false,
	};
	const completion = await client.chat.completions.create({
		model: 'gpt-4.1-mini',
		messages: [
			{ role: 'system', content: formatInstructions(schema) },
			{ role: 'user', content: 'The service is down since this morning' },
		],
	});
	const content = completion.choices[0].message.content ?? '';
	const block = /```json\s*\n([\s\S]*?)\n\s*```/.exec(content);
	expect(block).not.toBeNull();
	expect(JSON.parse(block![1])).toEqual({ billing: false, outage: true });
});

it("fills an Information Extractor schema from the text's name: value pairs", async () => {
	const schema = {
		type: 'object',
		properties: { invoiceNumber: { type: 'string' }, total: { type: 'number' } },
		required: ['invoiceNumber', 'total'],
		additionalProperties: false,
	};
	const completion = await client.chat.completions.create({
		model: 'gpt-4.1-mini',
		messages: [
			{ role: 'system', content: formatInstructions(schema) },
			{ role: 'user', content: 'Invoice number: INV-77\nTotal: 1250.50' },
		],
	});
	const block = /```json\s*\n([\s\S]*?)\n\s*```/.exec(completion.choices[0].message.content ?? '');
	expect(JSON.parse(block![1])).toEqual({ invoiceNumber: 'INV-77', total: 1250.5 });
});
