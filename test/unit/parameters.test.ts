/**
 * The per-run parameter reader: static parameters are evaluated once, expressions per item. It reads through
 * n8n's real execution context (n8n-core's engine resolves the expressions); the test counts the calls it
 * makes to the context's own getNodeParameter.
 */
import type { IDataObject, IExecuteFunctions, INodeParameters, INodeProperties } from 'n8n-workflow';

import { fieldReference, parameterReader } from '../../shared/node/parameters';
import { probeNode, runNode } from './helpers/engine';

const properties: INodeProperties[] = [
	{ displayName: 'Model', name: 'model', type: 'string', default: '' },
	{ displayName: 'Text', name: 'text', type: 'string', default: '={{ $json.text }}' },
	{ displayName: 'Nested', name: 'nested', type: 'string', default: '' },
	{
		displayName: 'Categories',
		name: 'categories',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		options: [
			{
				displayName: 'Category',
				name: 'category',
				values: [
					{ displayName: 'Name', name: 'name', type: 'string', default: '' },
					{ displayName: 'Description', name: 'description', type: 'string', default: '' },
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		default: {},
		options: [{ displayName: 'Concurrency', name: 'concurrency', type: 'number', default: 5 }],
	},
];

/** Runs `body` with a reader over n8n's context; returns what it read and the calls n8n's context got. */
async function withReader(parameters: INodeParameters, items: IDataObject[], body: (read: ReturnType<typeof parameterReader>) => unknown) {
	const calls: string[] = [];
	let value: unknown;
	await runNode({
		node: probeNode(properties, (ctx: IExecuteFunctions) => {
			const original = ctx.getNodeParameter.bind(ctx) as (...args: unknown[]) => unknown;
			// count the calls, answer each with n8n's own resolution
			(ctx as { getNodeParameter: unknown }).getNodeParameter = (name: string, itemIndex: number, ...rest: unknown[]) => {
				calls.push(`${name}#${itemIndex}`);
				return original(name, itemIndex, ...rest);
			};
			value = body(parameterReader(ctx));
		}),
		parameters,
		items,
	});
	return { value, calls };
}

it('reads a parameter without expressions once, and one with an expression for every item', async () => {
	const items = [0, 1, 2].map((i) => ({ text: `  ticket ${i}  `, hint: `hint ${i}` }));
	const { value, calls } = await withReader(
		{
			model: 'gpt-4.1-mini',
			text: '={{ $json.text.trim() }}',
			categories: { category: [{ name: 'billing', description: '={{ $json.hint }}' }] },
			options: { concurrency: 3 },
		},
		items,
		(read) =>
			[0, 1, 2].map((i) => [read('model', i), read('text', i), read('categories.category', i), read('options', i)]),
	);
	expect(value).toEqual(
		[0, 1, 2].map((i) => ['gpt-4.1-mini', `ticket ${i}`, [{ name: 'billing', description: `hint ${i}` }], { concurrency: 3 }]),
	);
	expect(calls.filter((c) => c.startsWith('model'))).toEqual(['model#0']);
	expect(calls.filter((c) => c.startsWith('text'))).toHaveLength(3);
	expect(calls.filter((c) => c.startsWith('categories'))).toHaveLength(3);
	expect(calls.filter((c) => c.startsWith('options'))).toEqual(['options#0']);
});

it('reads a parameter the workflow does not hold for every item (its default may be an expression)', async () => {
	// a parameter the node does not define: the workflow holds no value and the reader cannot know it is static
	const { value, calls } = await withReader({}, [{ text: 'a' }, { text: 'b' }], (read) => [read('other', 0, ''), read('other', 1, '')]);
	expect(value).toEqual(['', '']);
	expect(calls).toEqual(['other#0', 'other#1']);
});

it('recognises plain field references and nothing else', () => {
	expect(fieldReference('={{ $json.text }}')).toEqual(['text']);
	expect(fieldReference('={{$json.body.text}}')).toEqual(['body', 'text']);
	expect(fieldReference(`={{ $json["e-mail body"].text }}`)).toEqual(['e-mail body', 'text']);
	expect(fieldReference(`={{ $json['subject'] }}`)).toEqual(['subject']);
	for (const other of ['{{ $json.text }}', '={{ $json.text.trim() }}', '=Subject: {{ $json.subject }}', '={{ $json.list[0] }}', '={{ $json }}', '={{ $json.a }} {{ $json.b }}', 42]) {
		expect(fieldReference(other)).toBeUndefined();
	}
});

it('reads a string a field reference points at straight from the item; anything else through n8n', async () => {
	const items = [
		{ text: 'first ticket', body: { text: 'nested' } },
		{ text: 42, body: null },
		{ other: 'no text field' },
		{ text: 'fourth', body: { text: { rich: true } } },
	];
	const { value, calls } = await withReader({ text: '={{ $json.text }}', nested: '={{ $json["body"].text }}' }, items, (read) => ({
		texts: items.map((_, i) => read('text', i)),
		nested: items.map((_, i) => read('nested', i)),
	}));
	// the strings straight from the item; the rest as n8n resolves them (a missing field, or one under null: undefined)
	expect(value).toStrictEqual({ texts: ['first ticket', 42, undefined, 'fourth'], nested: ['nested', undefined, undefined, { rich: true }] });
	// n8n evaluates only what is not a string at that path
	expect(calls).toEqual(['text#1', 'text#2', 'nested#1', 'nested#2', 'nested#3']);
});
