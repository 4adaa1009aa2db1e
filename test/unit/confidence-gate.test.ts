/**
 * Confidence Gate inside n8n's execution engine (n8n-core's WorkflowExecute), fed items as an AI node leaves
 * them. The band choice itself (gateItem, sampleDraw) is pure and is checked here against the node's routing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

	/** A multi-label AI Classify result: the item's confidence is its least confident label's, as the node sets it. */
	const multiItem = (scores: Record<string, number>) => {
		const labels = Object.keys(scores);
		return aiItem(Math.min(...Object.values(scores)), 'unused', { answer: labels, labels, scores });
	};
	const gateOf = (item: { json: IDataObject }) => item.json.gate as IDataObject;

	it('holds each label of a multi-label result to its own thresholds', async () => {
		const perLabel = { label: [{ label: 'refund', high: 0.95, low: 0.5 }, { label: 'spam', high: 0.6, low: 0.2 }] };
		const [auto, review] = await gate(
			[multiItem({ billing: 0.9, refund: 0.92 }), multiItem({ billing: 0.9, spam: 0.7 }), multiItem({ spam: 0.65, other: 0.7 })],
			{ perLabel },
		);
		// refund is below its own 0.95: the item is held for review although the defaults would pass it
		expect(review.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(gateOf(review[0])).toMatchObject({ label: null, confidence: 0.92, high: 0.95, low: 0.5 });
		expect(String(gateOf(review[0]).reason)).toMatch(/^refund: confidence 0.920 between 0.5 and 0.95/);
		expect(gateOf(review[0]).labels).toEqual([
			// version 3 (the newest) says where each label's thresholds came from
			{ label: 'billing', confidence: 0.9, high: 0.85, low: 0.4, band: 'auto', thresholdSource: 'typed' },
			{ label: 'refund', confidence: 0.92, high: 0.95, low: 0.5, band: 'review', thresholdSource: 'typed' },
		]);
		// spam's looser thresholds pass it; billing passes the defaults
		expect(auto.map((i) => i.pairedItem)).toEqual([{ item: 1 }]);
		// spam passes its own 0.6, but other at 0.7 stays below the default 0.85
		expect(gateOf(review[1])).toMatchObject({ confidence: 0.7, high: 0.85 });
	});

	it('sends a multi-label item to the most cautious band of its labels', async () => {
		const perLabel = { label: [{ label: 'refund', high: 0.95, low: 0.5 }] };
		const [auto, review, reject] = await gate([multiItem({ billing: 0.99, refund: 0.45 }), multiItem({ billing: 0.6, refund: 0.97 })], { perLabel });
		expect(auto).toHaveLength(0);
		expect(reject.map((i) => i.pairedItem)).toEqual([{ item: 0 }]);
		expect(gateOf(reject[0])).toMatchObject({ confidence: 0.45, low: 0.5 });
		expect(review.map((i) => i.pairedItem)).toEqual([{ item: 1 }]);
	});

	it('without per-label thresholds, routes a multi-label item by its least confident label, as before', async () => {
		const [auto, review, reject] = await gate([multiItem({ a: 0.9, b: 0.87 }), multiItem({ a: 0.99, b: 0.5 }), multiItem({ a: 0.9, b: 0.1 })]);
		expect(auto.map((i) => gateOf(i).confidence)).toEqual([0.87]);
		expect(review.map((i) => gateOf(i).confidence)).toEqual([0.5]);
		expect(reject.map((i) => gateOf(i).confidence)).toEqual([0.1]);
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

	it('Earned mode (version 2): bad settings and an unreadable store name the item and the parameter; Continue On Fail keeps every item', async () => {
		const folder = await mkdtemp(join(tmpdir(), 'gate-earned-'));
		try {
			const earned = { mode: 'earned', sink: 'file', stream: 'e', filePath: join(folder, '{stream}.jsonl') };
			const run = (params: Record<string, unknown>, onError?: OnError) =>
				runNode({ node: new ConfidenceGate(), typeVersion: 2, items: [aiItem(0.95), aiItem(0.9, 'refund')], parameters: { ...earned, ...params }, onError });
			await expect(run({ auditPercent: 0 })).rejects.toThrow(/Earned mode needs an Audit Sample above 0 %/);
			await expect(run({ target: 1.5 })).rejects.toThrow(/Parameter "target" must be above 0 and below 1, got 1.5/);
			await expect(run({ stream: 'no spaces' })).rejects.toThrow(/Stream name "no spaces" is not allowed/);
			// a file path that is a folder: the store cannot be read
			await expect(run({ filePath: folder })).rejects.toThrow(/Could not read the audit store for Earned mode \(stream "e"\)/);
			const [auto, review] = await run({ target: 1.5 }, 'continueRegularOutput');
			expect(auto).toHaveLength(0);
			expect(review.map((i) => (i.json.gate as IDataObject).reason)).toEqual([expect.stringMatching(/"target"/), expect.stringMatching(/"target"/)]);
			// a store without records: nothing earned yet, every item to a person, nothing written
			const [auto2, review2] = await run({});
			expect(auto2).toHaveLength(0);
			expect(review2.map((i) => (i.json.gate as IDataObject).trust)).toEqual([
				{ label: 'billing', stage: 'review', reviewed: 0, agreed: 0, audits: 0, auditsAgreed: 0, changed: null },
				{ label: 'refund', stage: 'review', reviewed: 0, agreed: 0, audits: 0, auditsAgreed: 0, changed: null },
			]);
			expect((review2[0].json.gate as IDataObject).wouldBe).toBe('auto');
		} finally {
			await rm(folder, { recursive: true, force: true });
		}
	});
});
