import { applyFieldEdits, diffValues, jsonEqual, mergeAnswer } from '../../nodes/HumanCheckpoint/edits';

describe('edit diff and merge', () => {
	it('compares JSON values regardless of key order', () => {
		expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
		expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
		expect(jsonEqual([1, 2], [2, 1])).toBe(false);
		expect(jsonEqual('1', 1)).toBe(false);
	});

	it('lists changed leaves by path', () => {
		expect(diffValues('billing', 'refund', 'ai.classify.answer')).toEqual({ 'ai.classify.answer': { from: 'billing', to: 'refund' } });
		expect(
			diffValues({ total: 1, c: { n: 'a', v: null }, lines: [1, 2] }, { total: 2, c: { n: 'a', v: 'x' }, lines: [1, 3], added: true }, 'ai.extract.answer'),
		).toEqual({
			'ai.extract.answer.total': { from: 1, to: 2 },
			'ai.extract.answer.c.v': { from: null, to: 'x' },
			'ai.extract.answer.lines[1]': { from: 2, to: 3 },
			'ai.extract.answer.added': { from: null, to: true },
		});
		expect(diffValues({ l: [1] }, { l: [1, 2] }, 'x')).toEqual({ 'x.l': { from: [1], to: [1, 2] } });
		expect(diffValues({ a: 1 }, { a: 1 }, 'x')).toEqual({});
	});

	it('applies field paths to a copy', () => {
		const answer = { a: { b: 1 }, keep: true };
		const edited = applyFieldEdits(answer, { 'a.b': 2, 'n.m': 'new' });
		expect(edited).toEqual({ a: { b: 2 }, keep: true, n: { m: 'new' } });
		expect(answer).toEqual({ a: { b: 1 }, keep: true });
		expect(() => applyFieldEdits(answer, { 'a..b': 1 })).toThrow('edit path "a..b"');
		expect(() => applyFieldEdits(answer, { 'constructor.prototype.x': 1 })).toThrow('not a valid field path');
	});

	it('merges the answer under ai[key] and keeps mirrored label fields in step', () => {
		const json = { ticket: 't', ai: { classify: { answer: 'billing', label: 'billing', confidence: 0.4 }, latest: 'classify', other: { answer: 1 } } };
		const merged = mergeAnswer(json, 'classify', 'refund');
		expect(merged).toEqual({
			ticket: 't',
			ai: { classify: { answer: 'refund', label: 'refund', confidence: 0.4 }, latest: 'classify', other: { answer: 1 } },
		});
		expect(json.ai.classify.answer).toBe('billing');
		expect(mergeAnswer({ ai: { extract: { answer: { a: 1 } } } }, 'extract', { a: 2 })).toEqual({ ai: { extract: { answer: { a: 2 } } } });
	});
});
