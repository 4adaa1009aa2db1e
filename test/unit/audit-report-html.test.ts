/**
 * The HTML report read as a person on a phone would: nothing wider than a 390 px screen, the
 * reliability diagram with axis ticks and sparse bins drawn hollow and unjoined, the window in words,
 * and edited items showing the AI's label next to the person's.
 */
import { GENESIS_HEAD, sealRecords } from '../../nodes/AuditLog/chain';
import { buildDraft, type AuditDraft } from '../../nodes/AuditLog/record';
import { buildReport } from '../../nodes/AuditLog/report/report';
import { MIN_REVIEWS_PER_BIN, renderReportHtml } from '../../nodes/AuditLog/report/reportHtml';
import { aiItem, gate, review } from './audit-helpers';

type Decision = 'approved' | 'edited' | 'rejected';

function draft(label: string, confidence: number, decision: Decision | null, edits?: Record<string, { from: unknown; to: unknown }>): AuditDraft {
	const json = aiItem('ticket', { answer: decision === 'edited' && edits ? (edits['ai.classify.answer']?.to as string) : label, confidence });
	json.gate = gate(confidence >= 0.8 ? 'auto' : 'review', confidence, label);
	if (decision) json.review = { ...review(decision), ...(edits ? { edits } : {}) };
	return buildDraft(json, { workflowId: 'wf', executionId: '1', nodeName: 'Log', itemIndex: 0, now: new Date('2026-12-02T09:30:00Z') });
}

// bin 0.9: 6 reviews (solid), bin 0.8: 5 reviews (solid), bin 0.6: 2 reviews (sparse), bin 0.4: 1 review (sparse)
const drafts: AuditDraft[] = [
	...Array.from({ length: 6 }, () => draft('billing', 0.95, 'approved')),
	...Array.from({ length: 4 }, () => draft('outage', 0.85, 'approved')),
	draft('outage', 0.85, 'rejected'),
	draft('billing', 0.65, 'edited', { 'ai.classify.answer': { from: 'billing', to: 'access' } }),
	draft('feature', 0.62, 'approved'),
	draft('other', 0.45, 'edited', { 'ai.classify.answer': { from: 'other', to: 'billing' } }),
];
const window = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-04T23:59:00.000Z' };
const report = buildReport('support-triage', sealRecords('support-triage', GENESIS_HEAD, drafts), window, new Date('2026-12-04T10:00:00Z'));
const html = renderReportHtml(report);
const diagram = /<svg[^>]*aria-label="Reliability diagram"[\s\S]*?<\/svg>/.exec(html)![0];

describe('the HTML report at a phone\'s width', () => {
	it('has no fixed width above 390 px: SVGs scale to their box, tables scroll inside their own', () => {
		// widths inside an SVG are in its viewBox's units; the <svg> itself is 100 % of its box
		for (const tag of html.match(/<svg [^>]*>/g)!) {
			expect(tag).toContain('width="100%"');
			expect(tag).toMatch(/viewBox="0 0 \d+ \d+"/);
			expect(tag).not.toMatch(/\sheight="/);
		}
		const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
		const fixed = [...css.matchAll(/(?<![-\w])(?:min-width|width)\s*:\s*(\d+)px/g)].map((m) => Number(m[1]));
		for (const px of fixed) expect(px).toBeLessThanOrEqual(390);
		expect(css).toMatch(/\.scroll\{[^}]*overflow-x:auto/);
		// cells keep their words: a narrow table scrolls in its box rather than breaking headers letter by letter
		expect(css).toContain('th,td{overflow-wrap:normal}');
		const tables = html.match(/<table>/g)!.length;
		expect(html.match(/<div class="scroll"><table>/g)).toHaveLength(tables);
		expect(html).toContain('name="viewport" content="width=device-width, initial-scale=1"');
	});

	it('gives the reliability diagram axis ticks at 0, 0.25, 0.5, 0.75 and 1 on both axes', () => {
		const ticks = (axis: string) => [...diagram.matchAll(new RegExp(`class="s tick-${axis}"[^>]*>([^<]+)<`, 'g'))].map((m) => m[1]);
		expect(ticks('x')).toEqual(['0', '0.25', '0.5', '0.75', '1']);
		expect(ticks('y')).toEqual(['0', '0.25', '0.5', '0.75', '1']);
	});

	it(`draws bins with fewer than ${MIN_REVIEWS_PER_BIN} reviews hollow and leaves them out of the line`, () => {
		const bins = [...diagram.matchAll(/<circle class="([^"]+)" cx="([\d.]+)" cy="([\d.]+)"[^>]*>/g)].map((m) => ({ cls: m[1], cx: m[2], cy: m[3], tag: m[0] }));
		expect(bins.map((b) => b.cls)).toEqual(['bin sparse', 'bin sparse', 'bin', 'bin']); // 0.4, 0.6, 0.8, 0.9
		for (const b of bins.filter((b) => b.cls === 'bin sparse')) expect(b.tag).toContain('fill="#fff"');
		const line = /class="calibration-line" d="([^"]+)"/.exec(diagram)![1];
		const joined = [...line.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => `${m[1]},${m[2]}`);
		expect(joined).toEqual(bins.filter((b) => b.cls === 'bin').map((b) => `${b.cx},${b.cy}`));
		expect(diagram).toContain(`fewer than ${MIN_REVIEWS_PER_BIN} reviews`);
	});

	it('joins nothing when no bin has enough reviews', () => {
		const few = buildReport('s', sealRecords('s', GENESIS_HEAD, [draft('billing', 0.95, 'approved'), draft('billing', 0.55, 'approved')]), window);
		const d = /aria-label="Reliability diagram"[\s\S]*?<\/svg>/.exec(renderReportHtml(few))![0];
		expect(d).not.toContain('calibration-line');
		expect(d.match(/class="bin sparse"/g)).toHaveLength(2);
	});

	it('shows the window as dates in words, with the exact times in the tooltip', () => {
		expect(html).toContain('1 Dec 2026 – 4 Dec 2026 (UTC)');
		expect(html).toContain('title="2026-12-01T00:00:00.000Z – 2026-12-04T23:59:00.000Z"');
		expect(html).toContain('generated <span title="2026-12-04T10:00:00.000Z">4 Dec 2026 10:00 UTC</span>');
		expect(html.replace(/title="[^"]*"/g, '')).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
	});

	it("shows edited items under the AI's label and the person's label", () => {
		expect(report.agreement.corrections).toEqual([
			{ aiLabel: 'billing', personLabel: 'access', items: 1 },
			{ aiLabel: 'other', personLabel: 'billing', items: 1 },
		]);
		expect(html).toContain('<th>AI&#39;s label</th><th>Person&#39;s label</th><th>Items</th>');
		expect(html).toContain('<tr><td>billing</td><td>access</td><td>1</td></tr>');
		// the agreement table: the billing row says what the person changed it to
		expect(html).toMatch(/<tr><td>billing<\/td><td>7<\/td><td>6<\/td><td>1<\/td><td>access \(1\)<\/td>/);
	});
});
