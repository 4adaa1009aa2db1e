/** The per-run parameter reader: static parameters are evaluated once, expressions per item. */
import type { IExecuteFunctions } from 'n8n-workflow';

import { parameterReader } from '../../shared/node/parameters';

function fakeContext(parameters: Record<string, unknown>) {
	const calls: string[] = [];
	const ctx = {
		getNode: () => ({ parameters }),
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
		text: '={{ $json.text }}',
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
