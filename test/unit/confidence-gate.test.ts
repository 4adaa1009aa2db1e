/**
 * Confidence Gate inside n8n's execution engine (n8n-core's WorkflowExecute), fed items as an AI node leaves
 * them. The band choice itself (gateItem, sampleDraw) is pure and is checked here against the node's routing.
 */
import type { IDataObject } from 'n8n-workflow';

import { ConfidenceGate } from '../../nodes/ConfidenceGate/ConfidenceGate.node';
import { sampleDraw } from '../../nodes/ConfidenceGate/gateItem';
import { newDecisionId } from '../../shared/hash';
import { type OnError, runNode } from './helpers/engine';

describe('Confidence Gate', () => {
	function gate(items: IDataObject[], params: Record<string, unknown> = {}, onError?: OnError) {
		return runNode({
			node: new ConfidenceGate(),
			items,
			parameters: { source: 'latest', mode: 'autopilot', high: 0.85, low: 0.4, perLabel: {}, samplePercent: 0, sampleKey: '', ...params },
			onError,
		});
	}
	const aiItem = (confidence: number | null, answer = 'billing', extra: IDataObject = {}) => ({
		ticket: 't',
		ai: {
			latest: 'classify',
			classify: {
				decisionId: `d-${answer}-${confidence}-${JSON.stringify(extra)}`,
				step: 'classify',
				answer,
				confidence,
				confidenceMethod: confidence === null ? 'none' : 'logprobs',
				reason: '',
				evidence: [],
				needsReview: false,
				provider: 'openai',
				model: 'm',
				usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
				costUsd: 0,
				attempts: 1,
				latencyMs: 1,
				promptHash: 'h',
				at: new Date().toISOString(),
				...extra,
			},
		},
	});

	it('routes by bands; a missing confidence goes to Review', async () => {
		const [auto, review, reject] = await gate([aiItem(0.9), aiItem(0.6), aiItem(0.1), aiItem(null), aiItem(0.85)]);
		expect(auto.map((i) => (i.json.gate as IDataObject).confidence)).toEqual([0.9, 0.85]);
		expect(review.map((i) => (i.json.gate as IDataObject).confidence)).toEqual([0.6, null]);
		expect(reject.map((i) => (i.json.gate as IDataObject).confidence)).toEqual([0.1]);
		expect(auto[0].json.ticket).toBe('t');
		expect(review[1].pairedItem).toEqual({ item: 3 });
	});

	it('applies per-label thresholds', async () => {
		const [auto, review] = await gate([aiItem(0.9, 'refund'), aiItem(0.9, 'billing')], {
			perLabel: { label: [{ label: 'refund', high: 0.95, low: 0.5 }] },
		});
		expect(auto.map((i) => (i.json.gate as IDataObject).label)).toEqual(['billing']);
		expect(review.map((i) => (i.json.gate as IDataObject).high)).toEqual([0.95]);
	});

	it('sends actions that require approval and steps that asked for review to Review', async () => {
		const [auto, review] = await gate([aiItem(0.99, 'refund', { requiresApproval: true }), aiItem(0.99, 'x', { needsReview: true, reviewReason: 'missing' })]);
		expect(auto).toHaveLength(0);
		expect(review).toHaveLength(2);
	});

	it('samples its share of 10,000 Auto items to within ±2 %, the same items on a re-run', async () => {
		// decision ids as the AI nodes make them (random uuids), so the draw sees real keys
		const items = Array.from({ length: 10_000 }, () => aiItem(0.95, 'billing', { decisionId: newDecisionId() }));
		for (const percent of [5, 10, 30]) {
			const first = await gate(items, { samplePercent: percent });
			const again = await gate(items, { samplePercent: percent });
			const sampled = first[1].filter((i) => (i.json.gate as IDataObject).sampled);
			expect(sampled.length).toBe(first[1].length);
			expect(first[0].length + first[1].length).toBe(items.length);
			expect(Math.abs(sampled.length / items.length - percent / 100)).toBeLessThanOrEqual(0.02);
			expect(again[1].map((i) => i.pairedItem)).toEqual(first[1].map((i) => i.pairedItem));
			const expected = items.filter((i) => sampleDraw((i.ai.classify as IDataObject).decisionId as string) < percent / 100).length;
			expect(sampled.length).toBe(expected);
		}
	}, 120_000); // six engine runs over 10,000 items

	it('sends everything to Review in assist mode', async () => {
		const [auto, review, reject] = await gate([aiItem(0.99), aiItem(0.1)], { mode: 'assist' });
		expect(auto.length + reject.length).toBe(0);
		expect(review).toHaveLength(2);
		expect((review[0].json.gate as IDataObject).mode).toBe('assist');
	});

	it('reads a confidence expression, and rejects out-of-range values naming the item', async () => {
		const [auto] = await gate([{ score: 0.9 }], { source: 'expression', confidence: 0.9, label: '' });
		expect(auto).toHaveLength(1);
		await expect(gate([{ a: 1 }, { a: 2 }], { source: 'expression', confidence: '={{ $json.a === 2 ? 7 : 0.5 }}', label: '' })).rejects.toThrow(
			/from 0 to 1/,
		);
		await expect(gate([{ no: 'ai' }])).rejects.toThrow(/Item 0 has no AI result/);
		const [, review] = await gate([{ no: 'ai' }], {}, 'continueRegularOutput');
		expect(review).toHaveLength(1);
	});
});
