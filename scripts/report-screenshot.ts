/**
 * Renders the Audit Log's HTML report for a synthetic week of decisions and screenshots it in headless
 * Chromium (Debian's `chromium` package), for the README: docs/report.html and docs/report.png.
 * Run: npx tsc -p tsconfig.json --outDir .cache/build && node .cache/build/scripts/report-screenshot.js
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { buildReport } from '../nodes/AuditLog/report/report';
import { renderReportHtml } from '../nodes/AuditLog/report/reportHtml';
import { GENESIS_HEAD, sealRecords } from '../nodes/AuditLog/chain';
import { buildDraft } from '../nodes/AuditLog/record';
import { aiItem, gate, review } from '../test/unit/audit-helpers';

const labels = ['billing', 'outage', 'access', 'feature', 'other'];
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const now = new Date('2026-11-25T12:00:00Z');
const drafts = [];
for (let i = 0; i < 1200; i++) {
	const day = Math.floor(random() * 7);
	const at = new Date(now.getTime() - day * 86_400_000 - random() * 36_000_000);
	const confidence = Math.round((0.35 + random() * 0.65) * 1000) / 1000;
	const label = labels[Math.floor(random() * labels.length)];
	const band = confidence >= 0.85 ? 'auto' : confidence < 0.45 ? 'reject' : 'review';
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
		gate: gate(sampled ? 'review' : band, confidence, label, sampled),
		...(decision ? { review: review(decision as 'approved' | 'edited' | 'rejected') } : {}),
	});
	// a third of the decisions measured by agreement across samples, the rest by log-probabilities
	if (i % 3 === 0) ((item.ai as Record<string, { confidenceMethod: string }>).classify).confidenceMethod = 'k-sample';
	drafts.push(buildDraft(item, { workflowId: 'triage', executionId: String(i), nodeName: 'Audit Log', itemIndex: 0, now: at }));
}
drafts.sort((a, b) => String(a.at).localeCompare(String(b.at)));
const records = sealRecords('default', GENESIS_HEAD, drafts);
// Audit Log version 2's report: recommended thresholds at 85 % precision, a review valued at $4
const report = buildReport('default', records, undefined, now, { targetPrecision: 0.85, reviewCostUsd: 4 });
const out = path.resolve(__dirname.includes('.cache') ? path.join(__dirname, '..', '..', '..') : path.join(__dirname, '..'), 'docs');
fs.mkdirSync(out, { recursive: true });
const htmlFile = path.join(out, 'report.html');
fs.writeFileSync(htmlFile, renderReportHtml(report, 'Support triage: weekly AI audit'));
execFileSync('chromium', [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync', `--user-data-dir=${fs.mkdtempSync('/tmp/chromium-')}`,
	'--hide-scrollbars', '--window-size=1100,2900', `--screenshot=${path.join(out, 'report.png')}`, `file://${htmlFile}`,
], { stdio: 'inherit' });
console.log(`wrote ${htmlFile} and report.png: ${records.length} records, ${report ? 'report built' : ''}`);
