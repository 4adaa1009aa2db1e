/**
 * The report's version 2 numbers against hand counts: the recommended thresholds, the calibration per
 * confidence method (ECE, Brier, AUROC) and the savings. Every expected number is worked out by hand in the
 * comments; none is computed with the report's own code.
 *
 * Records (all in one window; "billing" by log-probabilities, "tech" by k samples):
 *
 * | #  | label   | method   | conf | gate            | review      |
 * | 1  | billing | logprobs | 0.99 | review          | approved    |
 * | 2  | billing | logprobs | 0.97 | review, sampled | approved    |  <- an audit sample: no review saved
 * | 3  | billing | logprobs | 0.95 | review          | approved    |  <- logged twice: before the person and after
 * | 4  | billing | logprobs | 0.93 | review          | approved    |
 * | 5  | billing | logprobs | 0.91 | review          | approved    |
 * | 6  | billing | logprobs | 0.90 | review          | rejected    |
 * | 7  | billing | logprobs | 0.85 | review          | approved    |
 * | 8  | billing | logprobs | 0.80 | review          | edited      |
 * | 9  | billing | logprobs | 0.70 | review          | rejected    |
 * | 10 | billing | logprobs | 0.96 | auto            | -           |
 * | 11 | billing | logprobs | 0.92 | auto            | -           |
 * | 12 | billing | logprobs | 0.50 | reject          | -           |
 * | 13 | billing | logprobs | 0.98 | review          | no-response |  <- sent to a person, no verdict
 * | 14 | tech    | k-sample | 0.90 | review          | rejected    |
 * | 15 | tech    | k-sample | 0.80 | review          | approved    |
 */
import { GENESIS_HEAD, sealRecords } from '../../nodes/AuditLog/chain';
import { buildDraft, type AuditDraft, type AuditRecord } from '../../nodes/AuditLog/record';
import { buildReport } from '../../nodes/AuditLog/report/report';
import { renderReportHtml } from '../../nodes/AuditLog/report/reportHtml';
import { auroc, brierScore, expectedCalibrationError, wilsonLowerBound } from '../../nodes/AuditLog/report/recommend';
import { aiItem, gate, review } from './audit-helpers';

type Decision = 'approved' | 'edited' | 'rejected' | 'no-response';

function item(label: string, method: string, confidence: number, band: 'auto' | 'review' | 'reject', sampled: boolean, decision: Decision | null) {
	const json = aiItem(`ticket ${label} ${confidence}`, { answer: label, confidence }, { gate: gate(band, confidence, label, sampled) });
	(json.ai as Record<string, { confidenceMethod: string }>).classify.confidenceMethod = method;
	if (decision) json.review = review(decision);
	return json;
}

const draft = (json: Record<string, unknown>, i: number): AuditDraft =>
	buildDraft(json, { workflowId: 'wf', executionId: String(i), nodeName: 'Audit Log', itemIndex: 0, now: new Date('2026-11-20T10:00:00Z') });

function records(): AuditRecord[] {
	const rows: Array<Parameters<typeof item>> = [
		['billing', 'logprobs', 0.99, 'review', false, 'approved'],
		['billing', 'logprobs', 0.97, 'review', true, 'approved'],
		['billing', 'logprobs', 0.95, 'review', false, 'approved'],
		['billing', 'logprobs', 0.93, 'review', false, 'approved'],
		['billing', 'logprobs', 0.91, 'review', false, 'approved'],
		['billing', 'logprobs', 0.9, 'review', false, 'rejected'],
		['billing', 'logprobs', 0.85, 'review', false, 'approved'],
		['billing', 'logprobs', 0.8, 'review', false, 'edited'],
		['billing', 'logprobs', 0.7, 'review', false, 'rejected'],
		['billing', 'logprobs', 0.96, 'auto', false, null],
		['billing', 'logprobs', 0.92, 'auto', false, null],
		['billing', 'logprobs', 0.5, 'reject', false, null],
		['billing', 'logprobs', 0.98, 'review', false, 'no-response'],
		['tech', 'k-sample', 0.9, 'review', false, 'rejected'],
		['tech', 'k-sample', 0.8, 'review', false, 'approved'],
	];
	const out: AuditDraft[] = [];
	rows.forEach((r, i) => {
		const json = item(...r);
		if (i === 2) {
			// #3 logged before the person decided (same decision, no review), then after
			const { review: _review, ...before } = json;
			out.push(draft(before, 100));
		}
		out.push(draft(json, i));
	});
	return sealRecords('default', GENESIS_HEAD, out);
}

describe('pure measures, against hand computations', () => {
	it('Wilson lower bound (95 %): 5 of 5 → 0.5655, 8 of 10 → 0.4902, 0 of 1 → 0, none → null', () => {
		expect(wilsonLowerBound(5, 5)).toBeCloseTo(0.5655, 4);
		expect(wilsonLowerBound(8, 10)).toBeCloseTo(0.4902, 4);
		expect(wilsonLowerBound(0, 1)).toBe(0);
		expect(wilsonLowerBound(0, 0)).toBeNull();
	});

	// 0.95 T, 0.9 T, 0.85 F, 0.8 T, 0.6 F, 0.55 T
	const six = [
		{ confidence: 0.95, correct: true },
		{ confidence: 0.9, correct: true },
		{ confidence: 0.85, correct: false },
		{ confidence: 0.8, correct: true },
		{ confidence: 0.6, correct: false },
		{ confidence: 0.55, correct: true },
	];

	it('ECE: bins 0.9 |2 − 1.85|, 0.8 |1 − 1.65|, 0.6 |0 − 0.6|, 0.5 |1 − 0.55| → 1.85 / 6', () => {
		expect(expectedCalibrationError(six)).toBeCloseTo(1.85 / 6, 10);
		expect(expectedCalibrationError([])).toBeNull();
	});

	it('Brier: (0.0025 + 0.01 + 0.7225 + 0.04 + 0.36 + 0.2025) / 6', () => {
		expect(brierScore(six)).toBeCloseTo(1.3375 / 6, 10);
	});

	it('AUROC: wrong 0.85 is below 2 of 4 right, wrong 0.6 below 3 of 4 → 5 / 8; a tie counts half', () => {
		expect(auroc(six)).toBe(5 / 8);
		expect(auroc([{ confidence: 0.7, correct: true }, { confidence: 0.7, correct: false }, { confidence: 0.9, correct: true }])).toBe(0.75);
		expect(auroc([{ confidence: 0.7, correct: true }])).toBeNull();
	});
});

describe('the report, version 2 sections, against hand counts', () => {
	const report = buildReport('default', records(), undefined, new Date('2026-11-25T00:00:00Z'), { targetPrecision: 0.55, reviewCostUsd: 3 });

	it('billing: walking down, 5 of 5 at 0.91 has lower bound 0.5655 ≥ 0.55; 5 of 6 at 0.90 is 0.4365, and lower ones stay below', () => {
		expect(report.recommendation!.byLabel.billing).toEqual({
			threshold: 0.91,
			reviewed: 5,
			correct: 5,
			precision: 1,
			lowerBound: 0.5655,
			// 13 billing decisions (#3 once); at or above 0.91: #1 2 3 4 5 10 11 13 = 8
			items: 13,
			autoItems: 8,
			autoRate: 0.6154,
			// reviewed and not sampled at or above 0.91: #1 3 4 5 13 (#2 was an audit sample)
			reviewsSaved: 5,
			// reviewed: #1-9
			reviewedTotal: 9,
		});
	});

	it('tech: 0 of 1 at 0.9, 1 of 2 at 0.8 (lower bound 0.0945): no threshold, and the reason says so', () => {
		expect(report.recommendation!.byLabel.tech).toMatchObject({
			threshold: null,
			items: 2,
			reviewedTotal: 2,
			autoRate: null,
			reviewsSaved: 0,
			reason: 'no threshold meets 55 %: the best lower bound is 9.5 %',
		});
	});

	it('all labels together: 0.91 again (5 of 5), 8 of 15 items at or above; the machine-readable map holds billing only', () => {
		expect(report.recommendation).toMatchObject({
			targetPrecision: 0.55,
			criterion: 'wilson-lower-bound',
			thresholds: { billing: 0.91 },
			overall: { threshold: 0.91, reviewed: 5, items: 15, autoItems: 8, autoRate: 0.5333 },
		});
		expect(Object.keys(report.recommendation!.thresholds)).toEqual(['billing']);
	});

	it('calibration per method: logprobs over #1-9, k-sample over #14-15', () => {
		expect(report.calibrationByMethod).toEqual({
			// k-sample: 0.9 wrong, 0.8 right. ECE (0.9 + 0.2) / 2; Brier (0.81 + 0.04) / 2; the one wrong is above the one right: AUROC 0
			'k-sample': { reviewed: 2, correct: 1, accuracy: 0.5, meanConfidence: 0.85, ece: 0.55, brier: 0.425, auroc: 0 },
			// logprobs: bins 0.9 (6 items, Σconf 5.65, 5 right) .65, 0.8 (Σ1.65, 1 right) .65, 0.7 (.7 wrong) .7 → 2 / 9;
			// Brier 1.979 / 9; wrong 0.9 below 5 of 6 right, 0.8 and 0.7 below all 6 → 17 / 18
			logprobs: { reviewed: 9, correct: 6, accuracy: 0.6667, meanConfidence: 0.8889, ece: 0.2222, brier: 0.2199, auroc: 0.9444 },
		});
	});

	it('savings: 2 auto-routed (#10, #11) at $3 = $6; the recommendation saves 5 reviews = $15', () => {
		expect(report.savings).toEqual({
			reviewCostUsd: 3,
			autoRouted: 2,
			costSavedUsd: 6,
			reviewsSavedByRecommendation: 5,
			costSavedByRecommendationUsd: 15,
		});
	});

	it('the HTML shows the thresholds, the calibration figures, the savings, and no stages (version 3 adds them)', () => {
		const html = renderReportHtml(report);
		expect(html).toContain('<h2>Recommended thresholds</h2>');
		expect(html).toMatch(/<td>billing<\/td><td>9<\/td><td>0\.910<\/td><td>5 \/ 5<\/td><td>100\.0%<\/td><td>56\.5%<\/td><td>61\.5%<\/td><td>5<\/td>/);
		expect(html).toContain('<td>tech</td><td>2</td><td>–</td>');
		expect(html).toContain('<td>logprobs</td><td>9</td><td>66.7%</td><td>0.889</td><td>0.222</td><td>0.220</td><td>0.944</td>');
		expect(html).toContain('<h2>Cost saved by auto-routing</h2>');
		expect(html).toContain('<td>Auto-routed by the gate</td><td>2</td><td>$6.00</td>');
		expect(html).not.toContain('<h2>Stages</h2>'); // version 3's stages: audit-report-stages.test.ts
	});

	it('without the version 2 options the report has none of it (version 1 shape)', () => {
		const v1 = buildReport('default', records(), undefined, new Date('2026-11-25T00:00:00Z'));
		expect(v1).not.toHaveProperty('recommendation');
		expect(v1).not.toHaveProperty('calibrationByMethod');
		expect(v1).not.toHaveProperty('savings');
		expect(v1).not.toHaveProperty('stages');
		const { recommendation: _r, calibrationByMethod: _c, savings: _s, stages: _t, ...rest } = report;
		expect(rest).toEqual(v1);
		const html = renderReportHtml(v1);
		expect(html).not.toContain('Recommended thresholds');
		expect(html).not.toMatch(/Stages|Trust changes/);
	});
});
