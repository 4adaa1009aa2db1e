import {
	parseFormSubmission,
	parseJsonSubmission,
	resolveSubmission,
	ReviewInputError,
	type ReviewableItem,
} from '../../nodes/HumanCheckpoint/decisions';

const items: ReviewableItem[] = [
	{ index: 0, key: 'classify', answer: 'billing' },
	{ index: 1, key: 'extract', answer: { total: 12.5, customer: { name: 'ACME' } } },
	{ index: 2 },
];

function expectInputError(fn: () => unknown, message: RegExp) {
	let caught: unknown;
	try {
		fn();
	} catch (error) {
		caught = error;
	}
	expect(caught).toBeInstanceOf(ReviewInputError);
	expect((caught as Error).message).toMatch(message);
}

describe('form submissions (the review page)', () => {
	const base = { reviewer: 'ada@example.com', decision_0: 'approve', decision_1: 'approve', decision_2: 'reject' };

	it('reads decisions and treats an answer left as shown as no edit', () => {
		const sub = parseFormSubmission(
			{ ...base, answer_0: 'billing', answer_1: JSON.stringify(items[1].answer, null, 2), comment_2: '  spam  ' },
			items,
		);
		expect(sub).toEqual({
			reviewer: 'ada@example.com',
			items: [
				{ index: 0, decision: 'approve' },
				{ index: 1, decision: 'approve' },
				{ index: 2, decision: 'reject', comment: 'spam' },
			],
		});
	});

	it('takes a changed text answer as text and a changed record as JSON', () => {
		const sub = parseFormSubmission({ ...base, answer_0: ' refund \r\n', answer_1: '{"total": 13, "customer": {"name": "ACME"}}' }, items);
		expect(sub.items[0].answer).toBe('refund');
		expect(sub.items[1].answer).toEqual({ total: 13, customer: { name: 'ACME' } });
	});

	it('names the item when the edited JSON is invalid or a decision is missing or unknown', () => {
		expectInputError(() => parseFormSubmission({ ...base, answer_1: '{total: 13' }, items), /^Item 1: the edited answer is not valid JSON/);
		expectInputError(() => parseFormSubmission({ ...base, decision_2: '' }, items), /^Item 2: choose Approve or Reject/);
		expectInputError(() => parseFormSubmission({ ...base, decision_0: 'maybe' }, items), /^Item 0: decision "maybe"/);
	});

	it('uses the first value when a field is repeated', () => {
		const sub = parseFormSubmission({ ...base, decision_0: ['reject', 'approve'] }, items);
		expect(sub.items[0].decision).toBe('reject');
	});
});

describe('JSON submissions (programmatic reviewers)', () => {
	it('validates the shape and says where it is wrong', () => {
		expectInputError(() => parseJsonSubmission({ reviewer: 'x', items: [{ index: 0, decision: 'yes' }] }), /items\.0\.decision/);
		expectInputError(() => parseJsonSubmission({ reviewer: 'x', items: [] }), /items/);
		expectInputError(() => parseJsonSubmission('approve all'), /Invalid review/);
		expect(parseJsonSubmission({ reviewer: 'x', items: [{ index: 0, decision: 'approve', edits: 'refund' }] }).items[0].edits).toBe('refund');
	});
});

describe('resolving a submission against the items', () => {
	const decide = (entries: object[], extra: object = {}) =>
		resolveSubmission(parseJsonSubmission({ reviewer: 'ada', items: entries, ...extra }), items, 'ada');

	it('needs every item decided exactly once, and only existing items', () => {
		expectInputError(() => decide([{ index: 0, decision: 'approve' }]), /missing: item 1, item 2/);
		expectInputError(
			() => decide([{ index: 0, decision: 'approve' }, { index: 0, decision: 'reject' }, { index: 1, decision: 'approve' }, { index: 2, decision: 'reject' }]),
			/Item 0: decided more than once/,
		);
		expectInputError(() => decide([{ index: 7, decision: 'approve' }]), /Item 7: there is no such item \(this review has items 0 to 2\)/);
	});

	it('applies a new label, field edits on a record, or a whole new answer', () => {
		const r = decide([
			{ index: 2, decision: 'approve' },
			{ index: 1, decision: 'approve', edits: { total: 13, 'customer.vat': 'DE1' } },
			{ index: 0, decision: 'approve', edits: 'refund', comment: 'was a refund' },
		]);
		expect(r.decisions.map((d) => d.index)).toEqual([0, 1, 2]);
		expect(r.decisions[0]).toEqual({ index: 0, action: 'approve', newAnswer: 'refund', changed: true, comment: 'was a refund' });
		expect(r.decisions[1].newAnswer).toEqual({ total: 13, customer: { name: 'ACME', vat: 'DE1' } });
		expect(r.decisions[2]).toEqual({ index: 2, action: 'approve', changed: false, comment: null });
		const whole = decide([{ index: 0, decision: 'approve' }, { index: 1, decision: 'approve', answer: { total: 1 } }, { index: 2, decision: 'reject' }]);
		expect(whole.decisions[1].newAnswer).toEqual({ total: 1 });
	});

	it('marks an edit that changes nothing as unchanged', () => {
		const r = decide([{ index: 0, decision: 'approve', edits: 'billing' }, { index: 1, decision: 'approve', edits: { total: 12.5 } }, { index: 2, decision: 'reject' }]);
		expect(r.decisions[0].changed).toBe(false);
		expect(r.decisions[1].changed).toBe(false);
	});

	it('does not apply edits on rejected items and uses the shared comment as a fallback', () => {
		const r = decide([{ index: 0, decision: 'reject', edits: 'refund' }, { index: 1, decision: 'reject' }, { index: 2, decision: 'reject', comment: 'own' }], { comment: 'all spam' });
		expect(r.decisions[0]).toEqual({ index: 0, action: 'reject', changed: false, comment: 'all spam' });
		expect(r.decisions[2].comment).toBe('own');
	});

	it('refuses edits that do not fit the answer', () => {
		const rest = [{ index: 1, decision: 'approve' }, { index: 2, decision: 'reject' }];
		expectInputError(() => decide([{ index: 0, decision: 'approve', edits: { label: 'x' } }, ...rest]), /Item 0: the AI answer is not a record/);
		expectInputError(() => decide([{ index: 0, decision: 'approve' }, { index: 1, decision: 'approve', edits: 'x' }, { index: 2, decision: 'reject' }]), /Item 1: the AI answer is a record/);
		expectInputError(() => decide([{ index: 0, decision: 'approve' }, { index: 1, decision: 'approve' }, { index: 2, decision: 'approve', edits: 'x' }]), /Item 2: has no AI result/);
		expectInputError(() => decide([{ index: 0, decision: 'approve', edits: 'a', answer: 'b' }, ...rest]), /either "edits" or "answer"/);
		expectInputError(
			() => decide([{ index: 0, decision: 'approve' }, { index: 1, decision: 'approve', edits: { '__proto__.polluted': true } }, { index: 2, decision: 'reject' }]),
			/Item 1: edit path "__proto__.polluted" is not a valid field path/,
		);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});
