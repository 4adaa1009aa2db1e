/** The per-run parameter reader: static parameters are evaluated once, expressions per item. */
import type { IExecuteFunctions } from 'n8n-workflow';

import { fieldReference, parameterReader } from '../../shared/node/parameters';

function fakeContext(parameters: Record<string, unknown>, items: Array<Record<string, unknown>> = []) {
	const calls: string[] = [];
	const ctx = {
		getNode: () => ({ parameters }),
		getInputData: () => items.map((json) => ({ json })),
		getNodeParameter: (name: string, itemIndex: number) => {
			calls.push(`${name}#${itemIndex}`);
			return `${name} for item ${itemIndex}`;
		},
	} as unknown as IExecuteFunctions;
	return { ctx, calls };
}

it('reads a parameter without expressions once, and one with an expression for every item', () => {
	const { ctx, calls } = fakeContext({
		model: 'gpt-4.1-mini',
		text: '={{ $json.text.trim() }}',
		categories: { category: [{ name: 'billing', description: '={{ $json.hint }}' }] },
		options: { concurrency: 3 },
	});
	const read = parameterReader(ctx);
	for (let i = 0; i < 3; i++) {
		expect(read('model', i)).toBe('model for item 0');
		expect(read('text', i)).toBe(`text for item ${i}`);
		expect(read('categories.category', i)).toBe(`categories.category for item ${i}`);
		expect(read('options', i)).toBe('options for item 0');
	}
	expect(calls.filter((c) => c.startsWith('model'))).toEqual(['model#0']);
	expect(calls.filter((c) => c.startsWith('text'))).toHaveLength(3);
	expect(calls.filter((c) => c.startsWith('categories'))).toHaveLength(3);
});

it('reads a parameter the workflow does not hold for every item (its default may be an expression)', () => {
	const { ctx, calls } = fakeContext({});
	const read = parameterReader(ctx);
	read('text', 0, '');
	read('text', 1, '');
	expect(calls).toEqual(['text#0', 'text#1']);
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

it('reads a string a field reference points at straight from the item; anything else through n8n', () => {
	const items = [
		{ text: 'first ticket', body: { text: 'nested' } },
		{ text: 42, body: null },
		{ other: 'no text field' },
		{ text: 'fourth', body: { text: { rich: true } } },
	];
	const { ctx, calls } = fakeContext({ text: '={{ $json.text }}', nested: '={{ $json["body"].text }}' }, items);
	const read = parameterReader(ctx);
	expect(items.map((_, i) => read('text', i))).toEqual(['first ticket', 'text for item 1', 'text for item 2', 'fourth']);
	expect(items.map((_, i) => read('nested', i))).toEqual(['nested', 'nested for item 1', 'nested for item 2', 'nested for item 3']);
	// n8n evaluates only what is not a string at that path (a number, null, a missing field, an object)
	expect(calls).toEqual(['text#1', 'text#2', 'nested#1', 'nested#2', 'nested#3']);
});
