/**
 * The report's stages (Audit Log version 3) against a hand count. The stream below is written out by hand with
 * the real record and chain code (decision records of gates in Earned, Shadow, Autopilot and Assist mode, and
 * trust-change records); every expected number is counted by hand from this table, none with the report's code.
 *
 * | #  | at (2026-) | record       | label     | gate mode | stage at gate | trust change                                |
 * | 1  | 11-20 09:00 | decision     | billing   | earned    | review        |                                             |
 * | 2  | 11-21 10:00 | trust-change | billing   |           |               | review → auto, 212 of 215, lower 0.9597     | before the window
 * | 3  | 11-21 11:00 | decision     | billing   | earned    | auto          |                                             | before the window
 * | 4  | 11-22 08:00 | trust-change | account   |           |               | review → auto, 230 of 236, lower 0.9528     | before the window
 * | 5  | 11-23 10:00 | decision     | shipping  | shadow    |               |                                             |
 * | 6  | 11-23 12:00 | decision     | technical | earned    | review        |                                             |
 * | 7  | 11-24 09:00 | trust-change | technical |           |               | review → auto, 240 of 245, lower 0.9530     |
 * | 8  | 11-24 09:00 | trust-change | technical |           |               | review → auto again (a second gate run): no change |
 * | 9  | 11-25 14:00 | decision     | technical | earned    | auto          |                                             |
 * | 10 | 11-26 08:30 | trust-change | technical |           |               | auto → review, 14 of 20 audits, upper 0.8534 |
 * | 11 | 11-26 09:00 | decision     | technical | earned    | review        |                                             |
 * | 12 | 11-27 10:00 | decision     | billing   | earned    | auto          |                                             |
 * | 13 | 11-28 10:00 | decision     | shipping  | shadow    |               |                                             |
 * | 14 | 11-28 11:00 | decision     | account   | earned    | auto          |                                             |
 * | 15 | 11-29 10:00 | decision     | refund    | autopilot |               |                                             |
 * | 16 | 11-29 11:00 | decision     | returns   | assist    |               |                                             |
 * | 17 | 12-01 10:00 | trust-change | billing   |           |               | auto → review, 12 of 20 audits, upper 0.7812 | after the window
 *
 * The weekly window is 11-23 00:00 .. 11-30 00:00 (records 5-16); the open window from 11-23 also has #17.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { Pool } from 'pg';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { GENESIS_HEAD, sealRecords } from '../../nodes/AuditLog/chain';
import { buildDraft, buildTrustChangeDraft, type AuditDraft, type TrustChange } from '../../nodes/AuditLog/record';
import { buildReport, reportStream, type AuditReport } from '../../nodes/AuditLog/report/report';
import { renderReportHtml } from '../../nodes/AuditLog/report/reportHtml';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { PgSink, poolConfig, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import type { AuditSink } from '../../nodes/AuditLog/sinks/sink';
import { aiItem } from './audit-helpers';
import { runNode } from './helpers/engine';

type Mode = 'earned' | 'shadow' | 'autopilot' | 'assist';

function decision(at: string, label: string, mode: Mode, stage?: 'review' | 'auto'): AuditDraft {
	const gate: Record<string, unknown> = { band: 'review', confidence: 0.9, high: 0.8, low: 0.3, sampled: false, mode, source: 'ai.classify', label, reason: 'r' };
	if (mode === 'shadow' || mode === 'earned') gate.wouldBe = 'auto';
	if (stage) gate.trust = { label, stage, reviewed: 0, agreed: 0, audits: 0, auditsAgreed: 0, changed: null };
	return buildDraft(aiItem('ticket', { answer: label, confidence: 0.9 }, { gate }), {
		workflowId: 'wf',
		executionId: '1',
		nodeName: 'Audit Log',
		itemIndex: 0,
		now: new Date(`2026-${at}:00Z`),
	});
}

function change(at: string, c: Omit<TrustChange, 'target'>): AuditDraft {
	return buildTrustChangeDraft({ ...c, target: 0.95, gateNode: 'Gate' }, { workflowId: 'wf', executionId: '1', nodeName: 'Gate', now: new Date(`2026-${at}:00Z`) });
}

const WHY = {
	billing: '212 of 215 reviewed items agreed in the last 30 days: lower bound 0.9597 ≥ target 0.95',
	account: '230 of 236 reviewed items agreed in the last 30 days: lower bound 0.9528 ≥ target 0.95',
	technicalUp: '240 of 245 reviewed items agreed in the last 30 days: lower bound 0.953 ≥ target 0.95',
	technicalDown: '14 of the last 20 sampled audits agreed: upper bound 0.8534 < target 0.95',
	billingDown: '12 of the last 20 sampled audits agreed: upper bound 0.7812 < target 0.95',
};

const drafts: AuditDraft[] = [
	decision('11-20T09:00', 'billing', 'earned', 'review'),
	change('11-21T10:00', { label: 'billing', from: 'review', to: 'auto', reason: WHY.billing, reviewed: 215, agreed: 212, lowerBound: 0.9597 }),
	decision('11-21T11:00', 'billing', 'earned', 'auto'),
	change('11-22T08:00', { label: 'account', from: 'review', to: 'auto', reason: WHY.account, reviewed: 236, agreed: 230, lowerBound: 0.9528 }),
	decision('11-23T10:00', 'shipping', 'shadow'),
	decision('11-23T12:00', 'technical', 'earned', 'review'),
	change('11-24T09:00', { label: 'technical', from: 'review', to: 'auto', reason: WHY.technicalUp, reviewed: 245, agreed: 240, lowerBound: 0.953 }),
	change('11-24T09:00', { label: 'technical', from: 'review', to: 'auto', reason: WHY.technicalUp, reviewed: 245, agreed: 240, lowerBound: 0.953 }),
	decision('11-25T14:00', 'technical', 'earned', 'auto'),
	change('11-26T08:30', { label: 'technical', from: 'auto', to: 'review', reason: WHY.technicalDown, reviewed: 20, agreed: 14, upperBound: 0.8534 }),
	decision('11-26T09:00', 'technical', 'earned', 'review'),
	decision('11-27T10:00', 'billing', 'earned', 'auto'),
	decision('11-28T10:00', 'shipping', 'shadow'),
	decision('11-28T11:00', 'account', 'earned', 'auto'),
	decision('11-29T10:00', 'refund', 'autopilot'),
	decision('11-29T11:00', 'returns', 'assist'),
	change('12-01T10:00', { label: 'billing', from: 'auto', to: 'review', reason: WHY.billingDown, reviewed: 20, agreed: 12, upperBound: 0.7812 }),
];

const WEEK = { from: '2026-11-23T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z' };
const OPEN = { from: '2026-11-23T00:00:00.000Z' };
const NOW = new Date('2026-12-02T00:00:00Z');
const TRUST = { targetPrecision: 0.95, reviewCostUsd: 0, stages: true };

/** The hand count of the weekly window (see the table). */
function expectWeek(report: AuditReport): void {
	expect(report.records).toBe(9); // decisions 5, 6, 9, 11-16 (3 + 6); trust changes are no decisions
	const stages = report.stages!;
	expect(Object.keys(stages.byLabel)).toEqual(['account', 'billing', 'refund', 'returns', 'shipping', 'technical']);
	expect(Object.fromEntries(Object.entries(stages.byLabel).map(([label, s]) => [label, s.stage]))).toEqual({
		account: 'auto', // #4, before the window
		billing: 'auto', // #2, before the window; #17 is after it
		refund: 'auto', // #15, Autopilot
		returns: 'review', // #16, Assist
		shipping: 'shadow', // #5, #13
		technical: 'review', // #10
	});
	expect(stages.byLabel.billing).toMatchObject({
		setBy: 'trust-change',
		since: '2026-11-21T10:00:00.000Z',
		why: WHY.billing,
		lastChange: { from: 'review', to: 'auto', reviewed: 215, agreed: 212, lowerBound: 0.9597, upperBound: null, target: 0.95, gateNode: 'Gate' },
		changesInWindow: 0,
	});
	expect(stages.byLabel.account).toMatchObject({ setBy: 'trust-change', since: '2026-11-22T08:00:00.000Z', why: WHY.account, changesInWindow: 0 });
	expect(stages.byLabel.technical).toMatchObject({
		setBy: 'trust-change',
		since: '2026-11-26T08:30:00.000Z',
		why: WHY.technicalDown,
		lastChange: { from: 'auto', to: 'review', reviewed: 20, agreed: 14, upperBound: 0.8534, lowerBound: null },
		changesInWindow: 2, // #7 and #10; #8 changed nothing
	});
	expect(stages.byLabel.shipping).toMatchObject({ setBy: 'shadow mode', since: '2026-11-23T10:00:00.000Z', lastChange: null, changesInWindow: 0 });
	expect(stages.byLabel.refund).toMatchObject({ setBy: 'autopilot mode', since: null, lastChange: null });
	expect(stages.byLabel.returns).toMatchObject({ setBy: 'assist mode', since: null, lastChange: null });
	expect(stages.changes.map((c) => [c.at, c.label, c.from, c.to, c.reviewed, c.agreed])).toEqual([
		['2026-11-24T09:00:00.000Z', 'technical', 'review', 'auto', 245, 240], // #7
		['2026-11-26T08:30:00.000Z', 'technical', 'auto', 'review', 20, 14], // #10
	]);
	expect(stages.changes.map((c) => c.sequence)).toEqual([7, 10]);
}

/** The open window from 11-23: #17 is in it, so billing stepped back in the window. */
function expectOpen(report: AuditReport): void {
	const stages = report.stages!;
	expect(stages.byLabel.billing).toMatchObject({ stage: 'review', since: '2026-12-01T10:00:00.000Z', why: WHY.billingDown, changesInWindow: 1 });
	expect(stages.byLabel.account).toMatchObject({ stage: 'auto', since: '2026-11-22T08:00:00.000Z', why: WHY.account, changesInWindow: 0 });
	expect(stages.changes.map((c) => c.sequence)).toEqual([7, 10, 17]);
}

const records = sealRecords('stages', GENESIS_HEAD, drafts);

describe('the stages in the report, by hand count', () => {
	it('from records given in any order (the input source)', () => {
		const shuffled = [...records].reverse();
		expectWeek(buildReport('stages', shuffled, WEEK, NOW, TRUST));
		expectOpen(buildReport('stages', shuffled, OPEN, NOW, TRUST));
	});

	it('a version 1 report (no trust options) has no stages and no Stages section', () => {
		const v1 = buildReport('stages', records, WEEK, NOW);
		expect(v1).not.toHaveProperty('stages');
		expect(renderReportHtml(v1)).not.toMatch(/Stages|Trust changes/);
	});

	it('the HTML shows each stage, since when and why, and the changes of the window', () => {
		const html = renderReportHtml(buildReport('stages', records, WEEK, NOW, TRUST));
		const section = html.slice(html.indexOf('<h2>Stages</h2>'), html.indexOf('<h2>Cost saved'));
		const rows = [...section.matchAll(/<tr><td( colspan="\d+"[^>]*)?>(.*?)<\/tr>/g)].map((m) => m[2].replace(/<\/td><td>/g, ' | ').replace(/<\/td>/, ''));
		expect(rows).toEqual([
			'account | auto | 22 Nov 2026 08:00 UTC | 230 / 236 | lower 95.3% ≥ 95.0% | 0',
			WHY.account,
			'billing | auto | 21 Nov 2026 10:00 UTC | 212 / 215 | lower 96.0% ≥ 95.0% | 0',
			WHY.billing,
			'refund | auto | – | – | – | 0',
			'Confidence Gate in Autopilot mode: confident items are auto-routed by the thresholds',
			'returns | review | – | – | – | 0',
			'Confidence Gate in Assist mode: every item goes to a person',
			'shipping | shadow | 23 Nov 2026 10:00 UTC | – | – | 0',
			'Confidence Gate in Shadow mode: every item goes to a person; the AI&#39;s answer is recorded beside their decision',
			'technical | review | 26 Nov 2026 08:30 UTC | 14 / 20 | upper 85.3% &lt; 95.0% | 2',
			'14 of the last 20 sampled audits agreed: upper bound 0.8534 &lt; target 0.95',
			'24 Nov 2026 09:00 UTC | technical | review → auto | 240 / 245 | lower 95.3% ≥ 95.0%',
			`${WHY.technicalUp} (Gate)`,
			'26 Nov 2026 08:30 UTC | technical | auto → review | 14 / 20 | upper 85.3% &lt; 95.0%',
			'14 of the last 20 sampled audits agreed: upper bound 0.8534 &lt; target 0.95 (Gate)',
		]);
	});

	it("in n8n's engine: Report version 3 outputs the stages, versions 1 and 2 do not", async () => {
		const run = (typeVersion: number) =>
			runNode({
				node: new AuditLog(),
				typeVersion,
				items: [{ json: { stream: 'stages', records } as unknown as IDataObject }],
				parameters: { operation: 'report', source: 'input', window: 'range', from: WEEK.from, to: WEEK.to },
			});
		const [[v3]] = await run(3);
		expectWeek(v3.json as unknown as AuditReport);
		expect(String(v3.json.html)).toContain('<h2>Stages</h2>');
		const [[v2]] = await run(2);
		expect(v2.json).toHaveProperty('recommendation');
		expect(v2.json).not.toHaveProperty('stages');
		expect(String(v2.json.html)).not.toMatch(/Stages|Trust changes/);
		const [[v1]] = await run(1);
		expect(v1.json).not.toHaveProperty('stages');
	});
});

/** Read from a store: the changes before the window come from the trust summary (or a read of the earlier records). */
async function expectFromSink(sink: AuditSink): Promise<void> {
	await sink.append('stages', drafts);
	expectWeek(await reportStream(sink, 'stages', WEEK, NOW, TRUST));
	expectOpen(await reportStream(sink, 'stages', OPEN, NOW, TRUST));
	// everything: no earlier records at all
	const all = await reportStream(sink, 'stages', {}, NOW, TRUST);
	expect(all.stages!.changes.map((c) => c.sequence)).toEqual([2, 4, 7, 10, 17]);
	expect(all.stages!.byLabel.billing).toMatchObject({ stage: 'review', changesInWindow: 2 });
}

describe('the stages of a stored stream, by hand count', () => {
	let folder: string;
	beforeAll(async () => {
		folder = await fs.mkdtemp(join(tmpdir(), 'governed-ai-stages-'));
	});
	afterAll(async () => {
		await fs.rm(folder, { recursive: true, force: true });
	});

	it('file store', async () => {
		const sink = new FileSink(join(folder, '{stream}.jsonl'));
		try {
			await expectFromSink(sink);
		} finally {
			await sink.close();
		}
	});

	const connection: PgConnection = {
		host: '127.0.0.1',
		port: 5432,
		database: 'test',
		user: process.env.PGUSER || 'postgres',
		password: process.env.PGPASSWORD,
		ssl: 'disable',
	};
	const table = `stages_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

	it('PostgreSQL', async () => {
		const sink = new PgSink(connection, table);
		const admin = new Pool({ ...poolConfig(connection), max: 1 });
		try {
			await expectFromSink(sink);
		} finally {
			await sink.close();
			await admin.query(`DROP TABLE IF EXISTS "${table}"`);
			await admin.query(`DROP TABLE IF EXISTS "${table}_trust"`);
			await admin.end();
		}
	});
});
