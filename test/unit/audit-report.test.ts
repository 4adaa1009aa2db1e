/**
 * The report against a hand count. The fixture below is written out by hand and every expected number
 * is counted by hand from this table (the counts are in the comments next to the expectations); none is
 * computed with the report's own code.
 *
 * | #  | day   | node  | step     | label     | conf | needsRev | band   | sampled | review      | model                  | in  | out | cost  | error            |
 * | 1  | 03-01 | Log A | classify | billing   | 0.95 | no       | auto   | no      | -           | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 2  | 03-01 | Log A | classify | billing   | 0.92 | no       | review | yes     | approved    | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 3  | 03-01 | Log A | classify | billing   | 0.55 | yes      | review | no      | edited      | openai/gpt-4o-mini     | 120 | 12  | 0.002 | -                |
 * | 4  | 03-01 | Log A | classify | technical | 0.85 | no       | auto   | no      | -           | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 5  | 03-01 | Log A | classify | technical | 0.45 | yes      | review | no      | rejected    | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 6  | 03-02 | Log A | classify | technical | 0.65 | no       | review | no      | approved    | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 7  | 03-02 | Log A | classify | other     | 0.15 | yes      | reject | no      | -           | openai/gpt-4o-mini     | 100 | 10  | 0.001 | -                |
 * | 8  | 03-02 | Log B | extract  | -         | 0.75 | no       | auto   | no      | approved    | anthropic/claude-haiku | 200 | 50  | 0.003 | -                |
 * | 9  | 03-02 | Log B | extract  | -         | 0.35 | yes      | review | no      | no-response | anthropic/claude-haiku | 200 | 50  | 0.003 | -                |
 * | 10 | 03-02 | Log B | decide   | refund    | 0.97 | no       | auto   | no      | approved    | anthropic/claude-haiku | 150 | 20  | 0.002 | -                |
 * | 11 | 03-02 | Log A | classify | -         | null | yes      | -      | -       | -           | openai/gpt-4o-mini     | 0   | 0   | 0     | 429 rate limited |
 * | 12 | 03-03 | Log B | (none)   | -         | null | -        | -      | -       | approved    | -                      | -   | -   | -     | -                |
 * | 13 | 02-27 | Log A | classify | billing   | 0.90 | no       | auto   | no      | rejected    | openai/gpt-4o-mini     | 999 | 99  | 0.5   | -                | <- outside the window
 *
 * Every AI record made 1 request. The report window is 2025-03-01 .. 2025-03-04 (records 1-12).
 */
import { GENESIS_HEAD, sealRecords } from '../../nodes/AuditLog/chain';
import { buildDraft, type AuditDraft } from '../../nodes/AuditLog/record';
import { buildReport, confidenceBin } from '../../nodes/AuditLog/report/report';
import { escapeHtml, renderReportHtml } from '../../nodes/AuditLog/report/reportHtml';
import { aiItem, gate, review, type AiSpec } from './audit-helpers';

type Band = 'auto' | 'review' | 'reject';
type Decision = 'approved' | 'edited' | 'rejected' | 'no-response';

function row(
	day: string,
	node: string,
	ai: AiSpec | null,
	g: [Band, boolean] | null,
	r: Decision | null,
	label: string | null,
): AuditDraft {
	const json: Record<string, unknown> = ai ? aiItem('ticket', ai) : { text: 'manual' };
	if (g) json.gate = gate(g[0], ai?.confidence ?? null, label, g[1]);
	if (r) json.review = review(r);
	return buildDraft(json, { workflowId: 'wf', executionId: '1', nodeName: node, itemIndex: 0, now: new Date(`2025-${day}T12:00:00Z`) });
}

const gpt = { provider: 'openai', model: 'gpt-4o-mini' };
const haiku = { provider: 'anthropic', model: 'claude-haiku' };
const extractAnswer = { invoiceNo: 'A-1', total: 12.5 };

const fixture: AuditDraft[] = [
	row('03-01', 'Log A', { ...gpt, answer: 'billing', confidence: 0.95, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['auto', false], null, 'billing'),
	row('03-01', 'Log A', { ...gpt, answer: 'billing', confidence: 0.92, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['review', true], 'approved', 'billing'),
	row('03-01', 'Log A', { ...gpt, answer: 'billing', confidence: 0.55, needsReview: true, inputTokens: 120, outputTokens: 12, costUsd: 0.002 }, ['review', false], 'edited', 'billing'),
	row('03-01', 'Log A', { ...gpt, answer: 'technical', confidence: 0.85, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['auto', false], null, 'technical'),
	row('03-01', 'Log A', { ...gpt, answer: 'technical', confidence: 0.45, needsReview: true, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['review', false], 'rejected', 'technical'),
	row('03-02', 'Log A', { ...gpt, answer: 'technical', confidence: 0.65, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['review', false], 'approved', 'technical'),
	row('03-02', 'Log A', { ...gpt, answer: 'other', confidence: 0.15, needsReview: true, inputTokens: 100, outputTokens: 10, costUsd: 0.001 }, ['reject', false], null, 'other'),
	row('03-02', 'Log B', { ...haiku, step: 'extract', answer: extractAnswer, confidence: 0.75, inputTokens: 200, outputTokens: 50, costUsd: 0.003 }, ['auto', false], 'approved', null),
	row('03-02', 'Log B', { ...haiku, step: 'extract', answer: extractAnswer, confidence: 0.35, needsReview: true, inputTokens: 200, outputTokens: 50, costUsd: 0.003 }, ['review', false], 'no-response', null),
	row('03-02', 'Log B', { ...haiku, step: 'decide', answer: 'refund', confidence: 0.97, inputTokens: 150, outputTokens: 20, costUsd: 0.002 }, ['auto', false], 'approved', 'refund'),
	row('03-02', 'Log A', { ...gpt, answer: null, confidence: null, needsReview: true, inputTokens: 0, outputTokens: 0, costUsd: 0, error: '429 rate limited' }, null, null, null),
	row('03-03', 'Log B', null, null, 'approved', null),
	row('02-27', 'Log A', { ...gpt, answer: 'billing', confidence: 0.9, inputTokens: 999, outputTokens: 99, costUsd: 0.5 }, ['auto', false], 'rejected', 'billing'),
];

const records = sealRecords('fixture', GENESIS_HEAD, fixture);
const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-04T00:00:00.000Z' };
const report = buildReport('fixture', records, window, new Date('2025-03-04T00:00:00Z'));

describe('report on a hand-counted fixture', () => {
	it('counts the records in the window and their volume by step, node and label', () => {
		expect(report.records).toBe(12); // #13 is outside
		expect(report.skipped).toBe(0);
		expect(report.volume.byStep).toEqual({ classify: 8, extract: 2, decide: 1, none: 1 }); // 1-7,11 | 8,9 | 10 | 12
		expect(report.volume.byNode).toEqual({ 'Log A': 8, 'Log B': 4 }); // 1-7,11 | 8,9,10,12
		expect(report.volume.byLabel).toEqual({ billing: 3, technical: 3, other: 1, refund: 1, '(no label)': 4 }); // 1-3 | 4-6 | 7 | 10 | 8,9,11,12
	});

	it('counts the gate bands and their rates', () => {
		// gated: 1-10; auto 1,4,8,10; review 2,3,5,6,9; reject 7; sampled 2
		expect(report.gate).toEqual({
			gated: 10,
			auto: 4,
			review: 5,
			reject: 1,
			sampled: 1,
			autoRate: 0.4,
			reviewRate: 0.5,
			rejectRate: 0.1,
		});
	});

	it('counts human agreement overall and per label', () => {
		// approved 2,6,8,10,12; edited 3; rejected 5; no response 9 → 5 of 7 decided
		expect(report.agreement.overall).toEqual({
			approved: 5,
			edited: 1,
			rejected: 1,
			noResponse: 1,
			reviewed: 7,
			agreementRate: 0.7143,
		});
		expect(report.agreement.byLabel).toEqual({
			billing: { approved: 1, edited: 1, rejected: 0, noResponse: 0, reviewed: 2, agreementRate: 0.5 }, // 2 | 3
			technical: { approved: 1, edited: 0, rejected: 1, noResponse: 0, reviewed: 2, agreementRate: 0.5 }, // 6 | 5
			refund: { approved: 1, edited: 0, rejected: 0, noResponse: 0, reviewed: 1, agreementRate: 1 }, // 10
			'(no label)': { approved: 2, edited: 0, rejected: 0, noResponse: 1, reviewed: 2, agreementRate: 1 }, // 8,12 | 9
		});
	});

	it('fills the calibration table by confidence bins of 0.1', () => {
		const bins = Object.fromEntries(report.calibration.map((b) => [b.from.toFixed(1), b]));
		expect(report.calibration).toHaveLength(10);
		expect(bins['0.9']).toEqual({ from: 0.9, to: 1, records: 3, meanConfidence: 0.9467, reviewed: 2, approved: 2, agreementRate: 1 }); // 1,2,10: (0.95+0.92+0.97)/3
		expect(bins['0.8']).toMatchObject({ records: 1, meanConfidence: 0.85, reviewed: 0, agreementRate: null }); // 4
		expect(bins['0.7']).toMatchObject({ records: 1, reviewed: 1, approved: 1, agreementRate: 1 }); // 8
		expect(bins['0.6']).toMatchObject({ records: 1, reviewed: 1, approved: 1, agreementRate: 1 }); // 6
		expect(bins['0.5']).toMatchObject({ records: 1, reviewed: 1, approved: 0, agreementRate: 0 }); // 3 edited
		expect(bins['0.4']).toMatchObject({ records: 1, reviewed: 1, approved: 0, agreementRate: 0 }); // 5 rejected
		expect(bins['0.3']).toMatchObject({ records: 1, reviewed: 0, agreementRate: null }); // 9 no response
		expect(bins['0.2']).toMatchObject({ records: 0, meanConfidence: null });
		expect(bins['0.1']).toMatchObject({ records: 1, reviewed: 0 }); // 7
		expect(bins['0.0']).toMatchObject({ records: 0 });
	});

	it('counts escalations and errors', () => {
		// needsReview 3,5,7,9,11; review band 2,3,5,6,9; union 2,3,5,6,7,9,11; sampled in review 2
		expect(report.escalations).toEqual({ total: 7, needsReview: 5, reviewBand: 5, sampled: 1 });
		expect(report.errors.total).toBe(1);
		expect(report.errors.byMessage).toEqual({ '429 rate limited': 1 });
		expect(report.errors.recent).toEqual([expect.objectContaining({ sequence: 11, error: '429 rate limited' })]);
	});

	it('sums tokens and cost by model and by day', () => {
		expect(report.usage.byModel).toEqual({
			// 1-7, 11: in 100+100+120+100+100+100+100+0, out 10+10+12+10+10+10+10+0, cost 6×0.001+0.002+0
			'openai/gpt-4o-mini': { records: 8, steps: 8, requests: 8, inputTokens: 720, outputTokens: 72, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0.008 },
			// 8-10: in 200+200+150, out 50+50+20, cost 0.003+0.003+0.002
			'anthropic/claude-haiku': { records: 3, steps: 3, requests: 3, inputTokens: 550, outputTokens: 120, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0.008 },
		});
		expect(report.usage.total).toMatchObject({ records: 11, inputTokens: 1270, outputTokens: 192, costUsd: 0.016 });
		expect(report.daily).toEqual([
			{ date: '2025-03-01', records: 5, costUsd: 0.006, errors: 0 }, // 1-5
			{ date: '2025-03-02', records: 6, costUsd: 0.01, errors: 1 }, // 6-11
			{ date: '2025-03-03', records: 1, costUsd: 0, errors: 0 }, // 12
		]);
	});

	it('counts broken entries instead of dropping them silently', () => {
		const withJunk = buildReport('fixture', [...records.slice(0, 2), { nonsense: true }, 'x'], {});
		expect(withJunk.records).toBe(2);
		expect(withJunk.skipped).toBe(2);
	});

	it('puts 0.3, 0.7 and 1.0 in the right bins despite binary floating point', () => {
		expect([0, 0.1, 0.3, 0.7, 0.9999, 1].map(confidenceBin)).toEqual([0, 1, 3, 7, 9, 9]);
		expect(confidenceBin(0.1 + 0.2)).toBe(3);
	});
});

describe('HTML report', () => {
	it('is one self-contained page with the charts and tables, and escapes text from records', () => {
		const nasty = sealRecords('x', GENESIS_HEAD, [
			row('03-01', '<script>alert(1)</script>', { answer: '<img src=x onerror=alert(1)>', confidence: 0.5 }, ['review', false], 'approved', null),
		]);
		const html = renderReportHtml(buildReport('x"><b>', nasty), 'Weekly <audit>');
		expect(html).not.toMatch(/<script/i);
		expect(html).not.toContain('<img');
		expect(html).toContain(escapeHtml('<img src=x onerror=alert(1)>'));
		expect(html).toContain('Weekly &lt;audit&gt;');
		expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
		expect(html).not.toMatch(/<link|@import|url\(/i);
		for (const title of ['Confidence histogram', 'Reliability diagram', 'Daily volume', 'Daily cost', 'Calibration', 'Human agreement', 'Tokens and cost by model']) {
			expect(html).toContain(title);
		}
		expect(html.match(/<svg /g)).toHaveLength(4);
	});

	it('shows the fixture numbers', () => {
		const html = renderReportHtml(report);
		expect(html).toContain('71.4%'); // agreement 5/7
		expect(html).toContain('$0.0160'); // total cost
		expect(html).toContain('openai/gpt-4o-mini');
	});
});
