import { reviewSchema } from '../../shared/contract';
import { resolveSubmission } from '../../nodes/HumanCheckpoint/decisions';
import { buildOutputs, OUTPUT_NAMES } from '../../nodes/HumanCheckpoint/outputs';
import { toReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import { classifiedItem, extractedItem } from './checkpoint-fixtures';

describe('building the outputs from the decisions', () => {
	const inputs = [
		{ json: classifiedItem('refund please', 'billing'), binary: { file: { data: 'AAAA', mimeType: 'text/plain' } } },
		{ json: extractedItem({ total: 12.5 }) },
		{ json: classifiedItem('buy now', 'sales') },
		{ json: { plain: true } },
	];
	const views = inputs.map((item, i) => toReviewItem(item.json, i));
	const review = resolveSubmission(
		{
			reviewer: 'ada',
			items: [
				{ index: 0, decision: 'approve', edits: 'refund', comment: 'it is a refund' },
				{ index: 1, decision: 'approve' },
				{ index: 2, decision: 'reject', comment: 'spam' },
				{ index: 3, decision: 'approve' },
			],
		},
		views,
		'ada',
	);
	const decidedAt = new Date('2026-01-01T00:10:00.000Z');
	const outputs = buildOutputs(inputs, review, { keys: views.map((v) => v.key), decidedAt, pausedAt: new Date('2026-01-01T00:00:00.000Z') });

	it('puts each item on exactly one output: nothing on No Response', () => {
		expect(OUTPUT_NAMES).toEqual(['No Response', 'Approved', 'Rejected']);
		expect(outputs.map((o) => o.map((item) => item.pairedItem.item))).toEqual([[], [0, 1, 3], [2]]);
	});

	it('keeps input fields and binary, adds a valid review and approved', () => {
		const [edited, approved, plain] = outputs[1];
		expect(edited.json.ticket).toBe('refund please');
		expect(edited.binary).toEqual(inputs[0].binary);
		for (const item of [...outputs[1], ...outputs[2]]) expect(() => reviewSchema.parse(item.json.review)).not.toThrow();
		expect(edited.json.review).toEqual({
			decision: 'edited',
			reviewer: 'ada',
			comment: 'it is a refund',
			edits: { 'ai.classify.answer': { from: 'billing', to: 'refund' } },
			decidedAt: '2026-01-01T00:10:00.000Z',
			waitedMs: 600_000,
		});
		expect((edited.json.ai as any).classify.answer).toBe('refund');
		expect((inputs[0].json.ai as any).classify.answer).toBe('billing');
		expect(approved.json.review).toMatchObject({ decision: 'approved', edits: null, comment: null });
		expect(plain.json).toMatchObject({ plain: true, approved: true, review: { decision: 'approved' } });
		expect(outputs[2][0].json).toMatchObject({ approved: false, review: { decision: 'rejected', comment: 'spam' } });
		expect((outputs[2][0].json.ai as any).classify.answer).toBe('sales');
	});

	it('leaves waitedMs null when the start time is unknown', () => {
		const out = buildOutputs(inputs, review, { keys: views.map((v) => v.key), decidedAt });
		expect((out[1][0].json.review as any).waitedMs).toBeNull();
	});
});
