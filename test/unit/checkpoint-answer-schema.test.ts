/**
 * A reviewer's correction is held to the schema the AI step published (`ai.<key>.answerSchema`): the checker,
 * the submission logic (form and JSON), and the page's editors. The real-n8n proof is test/e2e/review-edits.test.ts.
 */
import { choiceAnswerSchema, choicesAnswerSchema } from '../../shared/schema/answerSchema';
import { answerChecker } from '../../nodes/HumanCheckpoint/answerCheck';
import { answerEditor } from '../../nodes/HumanCheckpoint/page/answerEditor';
import {
	parseFormSubmission,
	parseJsonSubmission,
	resolveSubmission,
	ReviewInputError,
	type ReviewableItem,
} from '../../nodes/HumanCheckpoint/decisions';
import { renderReviewPage, toReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import { aiResult } from './checkpoint-fixtures';
import { withAiResult } from '../../shared/contract';

const CATEGORIES = ['billing', 'feature', 'refund'];
const RECORD = {
	type: 'object',
	properties: {
		invoice_number: { type: 'string' },
		total: { type: 'number' },
		currency: { type: 'string', enum: ['EUR', 'USD'] },
		due_date: { type: 'string', format: 'date' },
		paid: { type: 'boolean' },
		lines: { type: 'array', items: { type: 'string' } },
	},
	required: ['invoice_number', 'total'],
};
const record = { invoice_number: 'INV-1', total: 12.5, currency: 'EUR', due_date: null, paid: false, lines: ['a'] };

function refusal(fn: () => unknown): string {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(ReviewInputError);
		return (error as Error).message;
	}
	throw new Error('expected the submission to be refused');
}

describe('the answer checker', () => {
	const check = answerChecker();

	it('accepts a category from the list and names the field of one outside it', () => {
		expect(check(choiceAnswerSchema(CATEGORIES), 'refund', 'ai.classify.answer')).toEqual([]);
		expect(check(choiceAnswerSchema(CATEGORIES), 'feture', 'ai.classify.answer')).toEqual([
			'ai.classify.answer: "feture" is not one of billing, feature, refund',
		]);
		expect(check(choiceAnswerSchema(CATEGORIES), null, 'ai.classify.answer')).toEqual([
			'ai.classify.answer: null is not one of billing, feature, refund',
		]);
	});

	it('holds several labels to the list, at least one, each once', () => {
		const schema = choicesAnswerSchema(CATEGORIES);
		expect(check(schema, ['billing', 'refund'], 'ai.tags.answer')).toEqual([]);
		expect(check(schema, ['billing', 'feture'], 'ai.tags.answer')).toEqual(['ai.tags.answer[1]: "feture" is not one of billing, feature, refund']);
		expect(check(schema, [], 'ai.tags.answer')).toEqual(['ai.tags.answer: needs at least 1 value(s)']);
		expect(check(schema, ['billing', 'billing'], 'ai.tags.answer')).toEqual(['ai.tags.answer: items must be unique']);
		expect(check(schema, 'billing', 'ai.tags.answer')).toEqual(['ai.tags.answer: expected array, got "billing"']);
	});

	it('validates a record against its extraction schema, field by field', () => {
		expect(check(RECORD, record, 'ai.extract.answer')).toEqual([]);
		expect(check(RECORD, { ...record, total: '12,50', currency: 'YEN', due_date: '2024-02-30' }, 'ai.extract.answer')).toEqual([
			'ai.extract.answer.total: expected number, got "12,50"',
			'ai.extract.answer.currency: "YEN" is not one of EUR, USD',
			'ai.extract.answer.due_date: expected a calendar date written as YYYY-MM-DD',
		]);
		const { total: _total, ...withoutTotal } = record;
		void _total;
		expect(check(RECORD, withoutTotal, 'ai.extract.answer')).toEqual(['ai.extract.answer.total: is missing (expected number)']);
		expect(check(RECORD, { ...record, iban: 'DE00' }, 'ai.extract.answer')).toEqual(['ai.extract.answer.iban: is not a field of the schema']);
		expect(check(RECORD, { ...record, lines: ['a', 3] }, 'ai.extract.answer')).toEqual(['ai.extract.answer.lines[1]: expected string, got 3']);
	});

	it('refuses every edit where nothing is allowed or the schema cannot be checked', () => {
		expect(check(choiceAnswerSchema([]), 'refund', 'ai.decide.answer')[0]).toMatch(
			/^ai\.decide\.answer: cannot be edited, no value is allowed here .*; approve it as it is or reject it$/,
		);
		expect(check({ type: 'object', properties: { a: { type: 'string' } }, patternProperties: {} }, { a: 'x' }, 'ai.x.answer')[0]).toMatch(
			/^ai\.x\.answer: cannot be edited, its schema cannot be checked \(JSON Schema keyword "patternProperties"/,
		);
	});
});

describe('submissions against the published schema', () => {
	const items: ReviewableItem[] = [
		{ index: 0, key: 'classify', answer: 'billing', answerSchema: choiceAnswerSchema(CATEGORIES) },
		{ index: 1, key: 'decide', answer: 'escalate', answerSchema: choiceAnswerSchema(['partial_refund', 'send_replacement']) },
		{ index: 2, key: 'extract', answer: record, answerSchema: RECORD },
		{ index: 3, key: 'tags', answer: ['billing'], answerSchema: choicesAnswerSchema(CATEGORIES) },
	];
	const approveAll = (edits: Record<number, unknown>) =>
		parseJsonSubmission({
			reviewer: 'ada',
			items: items.map((item) => ({ index: item.index, decision: 'approve', ...(item.index in edits ? { edits: edits[item.index] } : {}) })),
		});

	it('refuses a JSON correction outside the schema, naming the item and the field', () => {
		expect(refusal(() => resolveSubmission(approveAll({ 0: 'feture' }), items, 'ada'))).toBe(
			'Item 0: ai.classify.answer: "feture" is not one of billing, feature, refund',
		);
		expect(refusal(() => resolveSubmission(approveAll({ 1: 'full_refund' }), items, 'ada'))).toBe(
			'Item 1: ai.decide.answer: "full_refund" is not one of partial_refund, send_replacement',
		);
		expect(refusal(() => resolveSubmission(approveAll({ 2: { total: 'lots', paid: 'no' } }), items, 'ada'))).toBe(
			'Item 2: ai.extract.answer.total: expected number, got "lots"; ai.extract.answer.paid: expected boolean, got "no"',
		);
		expect(refusal(() => resolveSubmission(approveAll({ 3: ['refund', 'spam'] }), items, 'ada'))).toBe(
			'Item 3: ai.tags.answer[1]: "spam" is not one of billing, feature, refund',
		);
	});

	it('accepts corrections that fit, and the AI answer approved as it is (even one a person could not choose)', () => {
		const review = resolveSubmission(approveAll({ 0: 'refund', 1: 'escalate', 2: { total: 13, currency: 'USD' }, 3: ['feature', 'billing'] }), items, 'ada');
		expect(review.decisions.map((d) => [d.changed, d.newAnswer])).toEqual([
			[true, 'refund'],
			[false, 'escalate'],
			[true, { ...record, total: 13, currency: 'USD' }],
			[true, ['feature', 'billing']],
		]);
	});

	it('does not check the edits of a rejected item (they are not applied)', () => {
		const submission = parseJsonSubmission({
			reviewer: 'ada',
			items: [{ index: 0, decision: 'reject', edits: 'feture' }, ...items.slice(1).map((i) => ({ index: i.index, decision: 'approve' }))],
		});
		expect(resolveSubmission(submission, items, 'ada').decisions[0]).toMatchObject({ action: 'reject', changed: false });
	});

	it('keeps today\'s free text for results without a schema (older results)', () => {
		const old: ReviewableItem[] = [{ index: 0, key: 'classify', answer: 'billing' }];
		const sub = parseFormSubmission({ reviewer: 'ada', decision_0: 'approve', answer_0: 'feture' }, old);
		expect(resolveSubmission(sub, old, 'ada').decisions[0]).toMatchObject({ changed: true, newAnswer: 'feture' });
	});
});

describe('the page form, read back', () => {
	const base = { reviewer: 'ada', decision_0: 'approve' };
	const one = (item: Omit<ReviewableItem, 'index'>): ReviewableItem[] => [{ index: 0, ...item }];

	it('reads a chosen value; the value as shown is no edit', () => {
		const items = one({ key: 'classify', answer: 'billing', answerSchema: choiceAnswerSchema(CATEGORIES) });
		expect(parseFormSubmission({ ...base, answer_0: 'billing' }, items).items[0].answer).toBeUndefined();
		expect(parseFormSubmission({ ...base, answer_0: 'refund' }, items).items[0].answer).toBe('refund');
		// a result without an answer shows "(no answer)": leaving it is no edit
		const none = one({ key: 'classify', answer: null, answerSchema: choiceAnswerSchema(CATEGORIES) });
		expect(parseFormSubmission({ ...base, answer_0: '' }, none).items[0].answer).toBeUndefined();
	});

	it('reads ticked checkboxes (several, one or none)', () => {
		const items = one({ key: 'tags', answer: ['billing', 'refund'], answerSchema: choicesAnswerSchema(CATEGORIES) });
		const read = (extra: Record<string, unknown>) => parseFormSubmission({ ...base, answer_0_list: '1', ...extra }, items).items[0].answer;
		expect(read({ answer_0: ['refund', 'billing'] })).toBeUndefined();
		expect(read({ answer_0: ['feature', 'billing'] })).toEqual(['feature', 'billing']);
		expect(read({ answer_0: 'feature' })).toEqual(['feature']);
		expect(read({})).toEqual([]);
		// and none ticked is refused by the schema: at least one label
		const sub = parseFormSubmission({ ...base, answer_0_list: '1' }, items);
		expect(refusal(() => resolveSubmission(sub, items, 'ada'))).toBe('Item 0: ai.tags.answer: needs at least 1 value(s)');
	});

	it('reads a record field by field, as values of their kinds', () => {
		const items = one({ key: 'extract', answer: record, answerSchema: RECORD });
		const shown = { answer_0_0: 'INV-1', answer_0_1: '12.5', answer_0_2: 'EUR', answer_0_3: '', answer_0_4: 'false', answer_0_5: '[\n  "a"\n]' };
		expect(parseFormSubmission({ ...base, ...shown }, items).items[0].answer).toBeUndefined();
		const changed = { ...shown, answer_0_1: ' 13 ', answer_0_2: 'USD', answer_0_3: '2026-03-31', answer_0_4: 'true', answer_0_5: '["a","b"]' };
		expect(parseFormSubmission({ ...base, ...changed }, items).items[0].answer).toEqual({
			invoice_number: 'INV-1',
			total: 13,
			currency: 'USD',
			due_date: '2026-03-31',
			paid: true,
			lines: ['a', 'b'],
		});
		// text that is not a number stays text, for the schema check to name
		const sub = parseFormSubmission({ ...base, ...shown, answer_0_1: '12,50' }, items);
		expect(refusal(() => resolveSubmission(sub, items, 'ada'))).toBe('Item 0: ai.extract.answer.total: expected number, got "12,50"');
		expect(refusal(() => parseFormSubmission({ ...base, ...shown, answer_0_5: '["a"' }, items))).toMatch(
			/^Item 0: ai\.extract\.answer\.lines: not valid JSON/,
		);
	});
});

describe('the page offers the allowed values as a choice', () => {
	const page = (result: ReturnType<typeof aiResult>) =>
		renderReviewPage({ title: 'Review', items: [toReviewItem(withAiResult({ id: 1 }, result.step, result), 0)] });

	it('a <select> for one value, the current one selected', () => {
		const html = page(aiResult('classify', 'feature', { answerSchema: choiceAnswerSchema(CATEGORIES) }));
		expect(html).toContain(
			'<select id="answer_0" name="answer_0"><option value="billing">billing</option><option value="feature" selected>feature</option><option value="refund">refund</option></select>',
		);
		expect(html).not.toMatch(/<input[^>]*name="answer_0"/);
	});

	it('keeps an answer outside the list selectable as no change, labelled as not allowed', () => {
		const html = page(aiResult('decide', 'escalate', { answerSchema: choiceAnswerSchema(['partial_refund']) }));
		expect(html).toContain('<option value="escalate" selected>escalate (the AI&#39;s answer; not an allowed value)</option><option value="partial_refund">partial_refund</option>');
	});

	it('checkboxes for several values', () => {
		const html = page(aiResult('classify', ['refund'], { answerSchema: choicesAnswerSchema(CATEGORIES) }));
		expect(html).toContain('<input type="checkbox" name="answer_0" value="billing"> billing');
		expect(html).toContain('<input type="checkbox" name="answer_0" value="refund" checked> refund');
		expect(html).toContain('<input type="hidden" name="answer_0_list" value="1">');
	});

	it('a record field by field, an enum field as a <select>, text escaped', () => {
		const html = page(aiResult('extract', { ...record, invoice_number: '<b>INV</b>' }, { answerSchema: RECORD }));
		expect(html).toContain('<select id="answer_0_2" name="answer_0_2"><option value="">(none)</option><option value="EUR" selected>EUR</option><option value="USD">USD</option></select>');
		expect(html).toContain('<input type="text" id="answer_0_0" name="answer_0_0" value="&lt;b&gt;INV&lt;/b&gt;">');
		expect(html).toContain('<input type="text" inputmode="decimal" id="answer_0_1" name="answer_0_1" value="12.5">');
		expect(html).toContain('<option value="false" selected>false</option>');
		expect(html).not.toContain('<b>INV</b>');
	});

	it('a free text box for results without a schema, as before', () => {
		const html = page(aiResult('classify', 'feature'));
		expect(html).toContain('<input type="text" id="answer_0" name="answer_0" value="feature">');
		expect(answerEditor(undefined, 'feature')).toBeUndefined();
	});
});
