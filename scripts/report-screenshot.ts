/**
 * Renders the Audit Log's HTML report (version 2) for a synthetic week of decisions and screenshots it in
 * headless Chromium (Debian's `chromium` package, driven by playwright-core), for the README: docs/report.html,
 * docs/report.png (desktop) and docs/report-phone.png (390 px). The week has a Confidence Gate in Earned mode
 * that records trust changes (billing and access step forward; outage steps forward, then back after a drift)
 * and one label in Shadow mode, so the Stages section has something to show.
 * Run: node -r ./scripts/register-ts.js scripts/report-screenshot.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { buildReport } from '../nodes/AuditLog/report/report';
import { renderReportHtml } from '../nodes/AuditLog/report/reportHtml';
import { GENESIS_HEAD, sealRecords } from '../nodes/AuditLog/chain';
import { buildDraft, buildTrustChangeDraft, type AuditDraft } from '../nodes/AuditLog/record';
import { wilsonInterval } from '../nodes/ConfidenceGate/wilson';
import { launchBrowser, PHONE } from '../test/e2e/browser';
import { aiItem, gate, review } from '../test/unit/audit-helpers';

const labels = ['billing', 'outage', 'access', 'feature', 'other'];
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const now = new Date('2026-11-25T12:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
const TARGET = 0.9;

/** The gate's trust changes of the week (as nodes/ConfidenceGate/trust.ts words them). */
const changes = [
	{ label: 'billing', to: 'auto' as const, at: daysAgo(5.6), judged: 214, agreed: 206 },
	{ label: 'outage', to: 'auto' as const, at: daysAgo(6.3), judged: 203, agreed: 195 },
	{ label: 'outage', to: 'review' as const, at: daysAgo(1.8), judged: 20, agreed: 13 },
	{ label: 'access', to: 'auto' as const, at: daysAgo(2.4), judged: 236, agreed: 226 },
];
const trustDrafts: AuditDraft[] = changes.map((c) => {
	const { lower, upper } = wilsonInterval(c.agreed, c.judged);
	const forward = c.to === 'auto';
	return buildTrustChangeDraft(
		{
			label: c.label,
			from: forward ? 'review' : 'auto',
			to: c.to,
			reason: forward
				? `${c.agreed} of ${c.judged} reviewed items agreed in the last 30 days: lower bound ${round4(lower)} ≥ target ${TARGET}`
				: `${c.agreed} of the last ${c.judged} sampled audits agreed: upper bound ${round4(upper)} < target ${TARGET}`,
			reviewed: c.judged,
			agreed: c.agreed,
			...(forward ? { lowerBound: round4(lower) } : { upperBound: round4(upper) }),
			target: TARGET,
			minReviewed: 200,
			windowDays: 30,
			auditWindow: 20,
			gateNode: 'Confidence Gate',
		},
		{ workflowId: 'triage', executionId: null, nodeName: 'Confidence Gate', now: c.at },
	);
});

/** The label's stage at a moment: feature runs in Shadow mode, the rest in Earned mode. */
function stageAt(label: string, at: Date): 'shadow' | 'review' | 'auto' {
	if (label === 'feature') return 'shadow';
	let stage: 'review' | 'auto' = 'review';
	for (const c of changes) if (c.label === label && c.at <= at) stage = c.to;
	return stage;
}

const drafts: AuditDraft[] = [...trustDrafts];
for (let i = 0; i < 1200; i++) {
	const day = Math.floor(random() * 7);
	const at = new Date(now.getTime() - day * 86_400_000 - random() * 36_000_000);
	const confidence = Math.round((0.35 + random() * 0.65) * 1000) / 1000;
	const label = labels[Math.floor(random() * labels.length)];
	const stage = stageAt(label, at);
	// the bands alone; a label at review (or in shadow) sends its confident items to a person as well
	const wouldBe = confidence >= 0.85 ? 'auto' : confidence < 0.45 ? 'reject' : 'review';
	const band = wouldBe === 'auto' && stage !== 'auto' ? 'review' : wouldBe;
	const sampled = band === 'auto' && random() < 0.3;
	const reviewed = band !== 'auto' || sampled;
	// agreement falls with confidence; the model is a little under-confident (right more often than it says)
	const decision = !reviewed ? undefined : random() < Math.min(0.99, confidence + 0.12) ? 'approved' : random() < 0.6 ? 'edited' : 'rejected';
	const item = aiItem(`ticket ${i}`, {
		answer: label,
		confidence,
		model: random() < 0.7 ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
		inputTokens: 120 + Math.floor(random() * 200),
		outputTokens: 20 + Math.floor(random() * 30),
		costUsd: 0.0001 + random() * 0.0003,
		needsReview: band !== 'auto',
	}, {
		gate: {
			...gate(sampled ? 'review' : band, confidence, label, sampled),
			mode: stage === 'shadow' ? 'shadow' : 'earned',
			wouldBe,
			...(stage === 'shadow' ? {} : { trust: { label, stage, reviewed: 0, agreed: 0, audits: 0, auditsAgreed: 0, changed: null } }),
		},
		...(decision ? { review: review(decision as 'approved' | 'edited' | 'rejected') } : {}),
	});
	// a third of the decisions measured by agreement across samples, the rest by log-probabilities
	if (i % 3 === 0) ((item.ai as Record<string, { confidenceMethod: string }>).classify).confidenceMethod = 'k-sample';
	drafts.push(buildDraft(item, { workflowId: 'triage', executionId: String(i), nodeName: 'Audit Log', itemIndex: 0, now: at }));
}
drafts.sort((a, b) => String(a.at).localeCompare(String(b.at)));
const records = sealRecords('default', GENESIS_HEAD, drafts);
// Audit Log version 2's report: recommended thresholds at 85 % precision, a review valued at $4
const report = buildReport('default', records, undefined, now, { targetPrecision: 0.85, reviewCostUsd: 4, stages: true });
const out = path.join(__dirname, '..', 'docs');
fs.mkdirSync(out, { recursive: true });
const htmlFile = path.join(out, 'report.html');
const title = 'Support triage: weekly AI audit';
fs.writeFileSync(htmlFile, renderReportHtml(report, title));

async function main(): Promise<void> {
	const browser = await launchBrowser();
	try {
		for (const [name, viewport] of [['report', { width: 1100, height: 900 }], ['report-phone', PHONE]] as const) {
			const page = await browser.page({ viewport });
			await page.goto(`file://${htmlFile}`);
			await page.getByText(title).first().waitFor();
			// the page itself must not scroll sideways at 390 px: wide tables scroll inside their box
			const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
			if (overflow > 0) throw new Error(`${name}: the page is ${overflow} px wider than the screen`);
			await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
		}
	} finally {
		await browser.close();
	}
	const stages = Object.entries(report.stages ?? {}).length ? Object.entries(report.stages!.byLabel).map(([l, s]) => `${l} ${s.stage}`).join(', ') : '';
	console.log(`wrote ${htmlFile}, report.png and report-phone.png: ${records.length} records; stages ${stages}; ${report.stages?.changes.length ?? 0} trust changes`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
