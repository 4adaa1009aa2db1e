/**
 * The report as one self-contained HTML page: inline SVG charts and tables, no scripts, no external
 * fonts, images or styles, so an Email node can send it as is and a browser can open it offline.
 * Every text that comes from records (labels, node names, errors, models) is escaped.
 */
import type { LabelRecommendation } from './recommend';
import type { AuditReport, ReviewCounts, UsageTotals } from './report';
import type { StageChange } from './stages';
import { escapeHtml } from '../../../shared/html';

export { escapeHtml };

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const usd = (v: number): string => `$${v.toFixed(v < 1 ? 4 : 2)}`;
const int = (v: number): string => v.toLocaleString('en-US');

/** A bin with fewer reviews than this says little: drawn hollow and left out of the line. */
export const MIN_REVIEWS_PER_BIN = 5;
const TICKS = [0, 0.25, 0.5, 0.75, 1];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 Dec 2026" (UTC), or the text as it is when it is not a date. */
export function formatDay(iso: string): string {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "1 Dec 2026 14:05 UTC" */
function formatMoment(iso: string): string {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return `${formatDay(iso)} ${d.toISOString().slice(11, 16)} UTC`;
}

/** The report's window in words: "1 Dec 2026 – 4 Dec 2026 (UTC)"; the exact times are in the tooltip. */
export function formatWindow(window: { from: string | null; to: string | null }): string {
	const exact = `${window.from ?? 'the beginning'} – ${window.to ?? 'now'}`;
	const words = `${window.from ? formatDay(window.from) : 'the beginning'} – ${window.to ? formatDay(window.to) : 'now'}${window.from || window.to ? ' (UTC)' : ''}`;
	return `<span title="${escapeHtml(exact)}">${escapeHtml(words)}</span>`;
}

/** An SVG that scales down to the width of its box (a phone) but not up beyond its drawn size. */
function svg(width: number, height: number, label: string, parts: string[]): string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${width} ${height}" style="max-width:${width}px" role="img" aria-label="${escapeHtml(label)}">${parts.join('')}</svg>`;
}

const COLORS = { bar: '#4f6bed', accent: '#e07b39', grid: '#d9dce3', text: '#3c4257', ok: '#2e9d5b' };

function table(headers: string[], rows: Array<Array<string | number>>, empty = 'No data in this window.'): string {
	if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
	const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
	const body = rows
		.map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? int(c) : escapeHtml(c)}</td>`).join('')}</tr>`)
		.join('');
	// its own horizontal scroll box, so a wide table never widens the page on a phone
	return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function countTable(title: string, counts: Record<string, number>): string {
	const rows = Object.entries(counts)
		.sort((a, b) => b[1] - a[1])
		.map(([k, v]) => [k, v]);
	return table([title, 'Records'], rows);
}

interface Bar {
	label: string;
	value: number;
}

/** A vertical bar chart; `format` labels the values. */
function barChart(title: string, bars: Bar[], format: (v: number) => string, color = COLORS.bar): string {
	const width = 560;
	const height = 220;
	const pad = { left: 48, right: 12, top: 28, bottom: 40 };
	const plotW = width - pad.left - pad.right;
	const plotH = height - pad.top - pad.bottom;
	const max = Math.max(0, ...bars.map((b) => b.value));
	const slot = bars.length ? plotW / bars.length : plotW;
	const labelEvery = Math.max(1, Math.ceil(bars.length / 12));
	const parts: string[] = [
		`<text x="${pad.left}" y="16" class="t">${escapeHtml(title)}</text>`,
		`<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${pad.left + plotW}" y2="${pad.top + plotH}" stroke="${COLORS.grid}"/>`,
		`<text x="${pad.left - 6}" y="${pad.top + 4}" text-anchor="end" class="s">${escapeHtml(format(max))}</text>`,
	];
	bars.forEach((b, i) => {
		const h = max > 0 ? (b.value / max) * plotH : 0;
		const x = pad.left + i * slot + slot * 0.1;
		const y = pad.top + plotH - h;
		parts.push(
			`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${escapeHtml(`${b.label}: ${format(b.value)}`)}</title></rect>`,
		);
		if (i % labelEvery === 0) {
			parts.push(
				`<text x="${(x + slot * 0.4).toFixed(1)}" y="${pad.top + plotH + 16}" text-anchor="middle" class="s">${escapeHtml(b.label)}</text>`,
			);
		}
	});
	if (bars.length === 0) {
		parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="s">no data</text>`);
	}
	return svg(width, height, title, parts);
}

/**
 * Reliability diagram: mean confidence (x) against human agreement (y); the diagonal is perfect
 * calibration. Bins with fewer than MIN_REVIEWS_PER_BIN reviews are hollow and not joined by the line:
 * one or two reviews make a rate of 0 % or 100 % that would read as a trend.
 */
function reliabilityDiagram(report: AuditReport): string {
	const size = 300;
	const pad = { left: 52, right: 16, top: 30, bottom: 52 };
	const plot = size - pad.left - pad.right;
	const height = pad.top + plot + pad.bottom;
	const px = (v: number): string => (pad.left + v * plot).toFixed(1);
	const py = (v: number): string => (pad.top + (1 - v) * plot).toFixed(1);
	const parts: string[] = [
		`<text x="${pad.left}" y="18" class="t">Reliability diagram</text>`,
		`<rect x="${pad.left}" y="${pad.top}" width="${plot}" height="${plot}" fill="none" stroke="${COLORS.grid}"/>`,
		`<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="${COLORS.grid}" stroke-dasharray="4 3"/>`,
		`<text x="${pad.left + plot / 2}" y="${pad.top + plot + 30}" text-anchor="middle" class="s">confidence</text>`,
		`<text x="12" y="${pad.top + plot / 2}" text-anchor="middle" class="s" transform="rotate(-90 12 ${pad.top + plot / 2})">human agreement</text>`,
		`<text x="${pad.left}" y="${height - 6}" class="s">hollow: fewer than ${MIN_REVIEWS_PER_BIN} reviews (not joined)</text>`,
	];
	for (const t of TICKS) {
		const label = String(t);
		parts.push(
			`<line class="tick" x1="${px(t)}" y1="${pad.top + plot}" x2="${px(t)}" y2="${pad.top + plot + 4}" stroke="${COLORS.text}"/>`,
			`<text class="s tick-x" x="${px(t)}" y="${pad.top + plot + 16}" text-anchor="middle">${label}</text>`,
			`<line class="tick" x1="${pad.left - 4}" y1="${py(t)}" x2="${pad.left}" y2="${py(t)}" stroke="${COLORS.text}"/>`,
			`<text class="s tick-y" x="${pad.left - 7}" y="${(Number(py(t)) + 3).toFixed(1)}" text-anchor="end">${label}</text>`,
		);
	}
	const points = report.calibration.filter((b) => b.agreementRate !== null && b.meanConfidence !== null);
	const solid = points.filter((b) => b.reviewed >= MIN_REVIEWS_PER_BIN);
	if (solid.length > 1) {
		const path = solid.map((b, i) => `${i ? 'L' : 'M'}${px(b.meanConfidence!)} ${py(b.agreementRate!)}`).join(' ');
		parts.push(`<path class="calibration-line" d="${path}" fill="none" stroke="${COLORS.accent}" stroke-width="2"/>`);
	}
	for (const b of points) {
		const sparse = b.reviewed < MIN_REVIEWS_PER_BIN;
		const r = Math.min(9, 3 + Math.sqrt(b.reviewed));
		const paint = sparse ? `fill="#fff" stroke="${COLORS.accent}" stroke-width="1.5"` : `fill="${COLORS.accent}"`;
		parts.push(
			`<circle class="${sparse ? 'bin sparse' : 'bin'}" cx="${px(b.meanConfidence!)}" cy="${py(b.agreementRate!)}" r="${r.toFixed(1)}" ${paint}><title>${escapeHtml(
				`${b.from}–${b.to}: confidence ${b.meanConfidence}, agreement ${pct(b.agreementRate)} of ${b.reviewed} reviewed${sparse ? ' (too few to judge)' : ''}`,
			)}</title></circle>`,
		);
	}
	if (points.length === 0) {
		parts.push(`<text x="${pad.left + plot / 2}" y="${pad.top + plot / 2}" text-anchor="middle" class="s">no reviewed items</text>`);
	}
	return svg(size, height, 'Reliability diagram', parts);
}

function reviewRow(label: string, c: ReviewCounts, editedTo: string): Array<string | number> {
	return [label, c.reviewed, c.approved, c.edited, editedTo, c.rejected, c.noResponse, pct(c.agreementRate)];
}

function usageRow(model: string, u: UsageTotals): Array<string | number> {
	return [model, u.records, u.steps, u.requests, u.inputTokens, u.cachedInputTokens, u.outputTokens, usd(u.costUsd)];
}

const num = (v: number | null, digits = 3): string => (v === null ? '–' : v.toFixed(digits));

/** Version 2: the thresholds the reviews support, per label and for all labels together. */
function recommendationSection(report: AuditReport): string {
	const rec = report.recommendation;
	if (!rec) return '';
	const row = (label: string, r: LabelRecommendation): Array<string | number> => [
		label,
		r.reviewedTotal,
		r.threshold === null ? '–' : r.threshold.toFixed(3),
		r.threshold === null ? '–' : `${r.correct} / ${r.reviewed}`,
		pct(r.precision),
		pct(r.lowerBound),
		pct(r.autoRate),
		r.threshold === null ? '–' : r.reviewsSaved,
		r.reason ?? '',
	];
	return `<h2>Recommended thresholds</h2>
<p class="note">Per label, the lowest confidence at which the reviewed items at or above it are right at least ${escapeHtml(
		pct(rec.targetPrecision),
	)} of the time, judged by the 95 % lower bound (Wilson) of that precision, so that a small or lucky sample does not earn a low threshold. Auto rate: the label's items at or above the threshold; reviews saved: those a person reviewed that were not an audit sample. Machine-readable under <code>recommendation.thresholds</code> in the report's JSON.</p>
${table(
	['Label', 'Reviewed', 'Threshold', 'Right at or above', 'Precision', 'Lower bound', 'Auto rate', 'Reviews saved', 'Note'],
	[...Object.entries(rec.byLabel).map(([label, r]) => row(label, r)), ...(Object.keys(rec.byLabel).length > 1 ? [row('All labels (one threshold)', rec.overall)] : [])],
	'No item with a confidence in this window.',
)}`;
}

/** Version 2: how much each confidence method's numbers mean. */
function methodCalibrationSection(report: AuditReport): string {
	const byMethod = report.calibrationByMethod;
	if (!byMethod) return '';
	return `<h2>Calibration by confidence method</h2>
<p class="note">Over the reviewed items (approved = right; edited or rejected = wrong). ECE: the item-weighted gap between confidence and the share right, in ten bins (0 is perfect). Brier: mean squared gap between confidence and right (1) or wrong (0); lower is better. AUROC: the chance a right answer has a higher confidence than a wrong one (1 ranks every error below every right answer, 0.5 is chance).</p>
${table(
	['Method', 'Reviewed', 'Right', 'Mean confidence', 'ECE', 'Brier', 'AUROC'],
	Object.entries(byMethod).map(([method, c]) => [method, c.reviewed, pct(c.accuracy), num(c.meanConfidence), num(c.ece), num(c.brier), num(c.auroc)]),
	'No reviewed item with a confidence in this window.',
)}`;
}

/** Version 2: reviews (and their cost) auto-routing saved, and what the recommendation would save. */
function savingsSection(report: AuditReport): string {
	const s = report.savings;
	if (!s) return '';
	const money = (v: number): string => (s.reviewCostUsd > 0 ? `$${v.toFixed(2)}` : '–');
	return `<h2>Cost saved by auto-routing</h2>
<p class="note">${
		s.reviewCostUsd > 0
			? `At ${escapeHtml(usd(s.reviewCostUsd))} per review.`
			: 'Set "Cost per Review" on the Report to see the saving in money.'
	} Auto-routed items went on without a person; the recommended thresholds would also auto-route the reviewed items at or above them.</p>
${table(
	['', 'Reviews saved', 'Cost saved'],
	[
		['Auto-routed by the gate', s.autoRouted, money(s.costSavedUsd)],
		['With the recommended thresholds (reviews in this window)', s.reviewsSavedByRecommendation, money(s.costSavedByRecommendationUsd)],
	],
)}`;
}

/** "lower 92.4% ≥ 90.0%": the bound the gate judged at a change, against its target. */
function boundAtChange(c: StageChange): string {
	const target = c.target === null ? '' : ` ${c.lowerBound !== null ? '≥' : '<'} ${pct(c.target)}`;
	if (c.lowerBound !== null) return `lower ${pct(c.lowerBound)}${target}`;
	if (c.upperBound !== null) return `upper ${pct(c.upperBound)}${target}`;
	return '–';
}

/**
 * A table whose rows each have a note (a sentence) on a full-width row below them: the numbers stay in narrow
 * columns that fit a phone, and the sentence gets the table's whole width instead of a squeezed column.
 */
function tableWithNotes(headers: string[], rows: Array<{ cells: Array<string | number>; note: string }>, empty: string): string {
	if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
	const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
	const body = rows
		.map(
			(r) =>
				`<tr>${r.cells.map((c) => `<td>${typeof c === 'number' ? int(c) : escapeHtml(c)}</td>`).join('')}</tr><tr><td colspan="${headers.length}" style="color:#6b7185;border-top:0">${escapeHtml(r.note)}</td></tr>`,
		)
		.join('');
	return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/**
 * Version 2: each label's stage (shadow / review / auto), since when and why, with the numbers the gate judged
 * at the change, and the trust changes of the window (see stages.ts).
 */
function trustChangesSection(report: AuditReport): string {
	const stages = report.stages;
	if (!stages) return '';
	const byChange = (s: { setBy: string; lastChange: StageChange | null }) => (s.setBy === 'trust-change' ? s.lastChange : null);
	return `<h2>Stages</h2>
<p class="note">Shadow: a Confidence Gate in Shadow mode sends every item to a person and records the AI's answer beside their decision. Review: every item goes to a person. Auto: confident items go on without one, a sample still audited. In Earned mode a label steps forward when the 95 % lower bound (Wilson) of its reviewed items' agreement meets the target, and back when the upper bound of its latest sampled audits falls below it. Since: the trust change that set the stage (also one before this window). Agreed: of the items the gate judged at it (reviewed items stepping forward, sampled audits stepping back); bound: its Wilson bound against the target. Changes: in this window. Below each label, why.</p>
${tableWithNotes(
	['Label', 'Stage', 'Since', 'Agreed', 'Bound', 'Changes'],
	Object.entries(stages.byLabel).map(([label, s]) => {
		const change = byChange(s);
		return {
			cells: [
				label,
				s.stage,
				s.since ? formatMoment(s.since) : '–',
				change ? `${int(change.agreed)} / ${int(change.reviewed)}` : '–',
				change ? boundAtChange(change) : '–',
				s.changesInWindow,
			],
			note: s.why,
		};
	}),
	'No label passed a Confidence Gate in this window.',
)}
<h2>Trust changes in this window</h2>
${tableWithNotes(
	['When', 'Label', 'Change', 'Agreed', 'Bound'],
	stages.changes.map((c) => ({
		cells: [formatMoment(c.at), c.label, `${c.from} → ${c.to}`, `${int(c.agreed)} / ${int(c.reviewed)}`, boundAtChange(c)],
		note: `${c.reason}${c.gateNode ? ` (${c.gateNode})` : ''}`,
	})),
	'No label changed stage in this window.',
)}`;
}

function tile(label: string, value: string): string {
	return `<div class="tile"><div class="v">${escapeHtml(value)}</div><div class="l">${escapeHtml(label)}</div></div>`;
}

/** Version 2: the savings at the top (each tile on its own line; nothing before version 2). */
function savingsTiles(report: AuditReport): string {
	const s = report.savings;
	if (!s) return '';
	return [tile('reviews saved by auto-routing', int(s.autoRouted)), ...(s.reviewCostUsd > 0 ? [tile('review cost saved', `$${s.costSavedUsd.toFixed(2)}`)] : [])]
		.map((t) => `${t}\n`)
		.join('');
}

export function renderReportHtml(report: AuditReport, title = 'AI decisions: audit report'): string {
	const corrected = (label: string): string =>
		report.agreement.corrections
			.filter((c) => c.aiLabel === label)
			.map((c) => `${c.personLabel} (${int(c.items)})`)
			.join(', ') || '–';
	const histogram = report.calibration.map((b) => ({ label: `${b.from.toFixed(1)}`, value: b.records }));
	const volume = report.daily.map((d) => ({ label: d.date.slice(5), value: d.records }));
	const cost = report.daily.map((d) => ({ label: d.date.slice(5), value: d.costUsd }));
	const reviewHeaders = ["AI's label", 'Reviewed', 'Approved', 'Edited', "Edited to (person's label)", 'Rejected', 'No response', 'Agreement'];

	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
*{box-sizing:border-box}
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:${COLORS.text};margin:24px;max-width:1180px;overflow-wrap:anywhere}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid ${COLORS.grid};padding-bottom:4px}
.sub{color:#6b7185;font-size:13px}.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{border:1px solid ${COLORS.grid};border-radius:6px;padding:10px 14px;min-width:120px}.tile .v{font-size:20px;font-weight:600}.tile .l{font-size:12px;color:#6b7185}
table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}th,td{border:1px solid ${COLORS.grid};padding:4px 8px;text-align:left}th{background:#f4f5f8}
.charts{display:flex;flex-wrap:wrap;gap:18px}svg .t{font-size:13px;font-weight:600;fill:${COLORS.text}}svg .s{font-size:10px;fill:#6b7185}
.empty{color:#6b7185;font-style:italic}.note{font-size:12px;color:#6b7185}.cols{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.scroll{max-width:100%;overflow-x:auto}.scroll table{margin:0}.scroll{margin:6px 0 14px}th,td{overflow-wrap:normal}th{white-space:nowrap}
.charts>svg{flex:1 1 280px;height:auto}.cols>.scroll{flex:0 1 auto}
@media (max-width:600px){body{margin:12px}.tile{min-width:0;flex:1 1 40%}}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="sub">Stream <b>${escapeHtml(report.stream)}</b> · ${formatWindow(report.window)} · generated <span title="${escapeHtml(report.generatedAt)}">${escapeHtml(formatMoment(report.generatedAt))}</span></div>
<div class="tiles">
${tile('records', int(report.records))}
${tile('human agreement', pct(report.agreement.overall.agreementRate))}
${tile('auto rate', pct(report.gate.autoRate))}
${tile('escalations', int(report.escalations.total))}
${tile('errors', int(report.errors.total))}
${tile('cost', usd(report.usage.total.costUsd))}
${savingsTiles(report)}</div>
${report.skipped ? `<p class="note">${int(report.skipped)} stored entries were not valid audit records and are not counted; run Verify.</p>` : ''}
<h2>Charts</h2>
<div class="charts">
${barChart('Confidence histogram', histogram, (v) => int(v))}
${reliabilityDiagram(report)}
${barChart('Daily volume (records)', volume, (v) => int(v))}
${barChart('Daily cost (USD)', cost, usd, COLORS.accent)}
</div>
<h2>Volume</h2>
<div class="cols">${countTable('Step', report.volume.byStep)}${countTable('Node', report.volume.byNode)}${countTable('Label', report.volume.byLabel)}</div>
<h2>Gate</h2>
${table(
	['Gated', 'Auto', 'Review', 'Reject', 'Sampled for audit', 'Auto rate', 'Review rate', 'Reject rate'],
	report.gate.gated
		? [
				[
					report.gate.gated,
					report.gate.auto,
					report.gate.review,
					report.gate.reject,
					report.gate.sampled,
					pct(report.gate.autoRate),
					pct(report.gate.reviewRate),
					pct(report.gate.rejectRate),
				],
			]
		: [],
	'No record passed a Confidence Gate in this window.',
)}
<h2>Human agreement</h2>
<p class="note">Agreement = approved unchanged ÷ (approved + edited + rejected). Timeouts are shown but not counted.</p>
${table(reviewHeaders, [
	reviewRow('All', report.agreement.overall, report.agreement.corrections.length ? 'see below' : '–'),
	...Object.entries(report.agreement.byLabel).map(([label, c]) => reviewRow(label, c, corrected(label))),
])}
${
	report.agreement.corrections.length
		? `<p class="note">Edited items: what the AI said and what the person chose instead.</p>${table(
				["AI's label", "Person's label", 'Items'],
				report.agreement.corrections.map((c) => [c.aiLabel, c.personLabel, c.items]),
			)}`
		: ''
}
<h2>Calibration</h2>
<p class="note">Well calibrated: in each bin the agreement rate is close to the mean confidence.</p>
${table(
	['Confidence', 'Records', 'Mean confidence', 'Reviewed', 'Approved', 'Agreement'],
	report.calibration.map((b) => [
		`${b.from.toFixed(1)}–${b.to.toFixed(1)}`,
		b.records,
		b.meanConfidence === null ? '–' : b.meanConfidence.toFixed(3),
		b.reviewed,
		b.approved,
		pct(b.agreementRate),
	]),
)}
${[methodCalibrationSection(report), recommendationSection(report), trustChangesSection(report), savingsSection(report)]
	.filter(Boolean)
	.map((section) => `${section}\n`)
	.join('')}<h2>Escalations</h2>
${table(
	['Total', 'Flagged by the AI node', 'Sent to Review by the gate', 'of which audit sample'],
	[[report.escalations.total, report.escalations.needsReview, report.escalations.reviewBand, report.escalations.sampled]],
)}
<h2>Errors</h2>
${table(
	['Error', 'Records'],
	Object.entries(report.errors.byMessage)
		.sort((a, b) => b[1] - a[1])
		.map(([message, n]) => [message, n]),
	'No errors in this window.',
)}
<h2>Tokens and cost by model</h2>
${table(
	['Model', 'Records', 'AI steps', 'Requests', 'Input tokens', 'Cached input', 'Output tokens', 'Cost'],
	[
		...Object.entries(report.usage.byModel).map(([model, u]) => usageRow(model, u)),
		...(Object.keys(report.usage.byModel).length > 1 ? [usageRow('All models', report.usage.total)] : []),
	],
)}
</body></html>
`;
}
