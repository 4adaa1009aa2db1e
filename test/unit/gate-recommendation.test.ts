/**
 * Confidence Gate version 3, Thresholds From: Latest Recommendation. The pure choice (recommended.ts), the
 * gate's band and result with it, the recommendation record folded into the kept trust summary (and left out
 * of the report's counts), and the whole path through n8n's engine: Audit Log version 3 Report records the
 * recommendation in a file stream and in a PostgreSQL table (database `test`), a version 3 gate routes by it.
 *
 * The stream (hand-computed; the Wilson 95 % lower bound of n of n agreeing is n / (n + z²), z² = 3.8415):
 * - billing: 40 reviewed at confidence 0.95, all approved; 10 at 0.80, 5 approved and 5 rejected.
 *   At 0.95: 40 of 40, lower bound 40 / 43.8415 = 0.9124 ≥ 0.9. At 0.80: 45 of 50, share 0.9, bound below it.
 *   Recommended threshold at target precision 0.9: 0.95.
 * - tech: 5 reviewed at 0.99, all approved: bound 5 / 8.8415 = 0.5655 < 0.9: no threshold (too few reviews).
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { Pool } from 'pg';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { buildDraft, buildRecommendationDraft, type AuditDraft, type AuditRecord } from '../../nodes/AuditLog/record';
import { buildReport } from '../../nodes/AuditLog/report/report';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { PgSink, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { NO_LABEL, summarize, type LatestRecommendation } from '../../nodes/AuditLog/trust/summary';
import { ConfidenceGate } from '../../nodes/ConfidenceGate/ConfidenceGate.node';
import { gateItem, type GateSettings } from '../../nodes/ConfidenceGate/gateItem';
import { chooseThresholds } from '../../nodes/ConfidenceGate/recommended';
import { aiItem, gate as gateOfRecord, review } from './audit-helpers';
import { runNode } from './helpers/engine';

jest.setTimeout(300_000);

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};

const recommendation = (thresholds: Record<string, number>): LatestRecommendation => ({
	recordId: 'rec-1',
	sequence: 56,
	at: '2026-12-01T09:00:00.000Z',
	targetPrecision: 0.9,
	window: { from: '2026-11-24T09:00:00.000Z', to: '2026-12-01T09:00:00.000Z' },
	thresholds,
});

describe('chooseThresholds (the pure choice)', () => {
	const typed = { high: 0.85, low: 0.4 };
	it('Typed Numbers: the typed thresholds, whatever a recommendation says', () => {
		expect(chooseThresholds('billing', typed, 'typed', recommendation({ billing: 0.6 }))).toEqual({ high: 0.85, low: 0.4, source: 'typed' });
	});
	it('Latest Recommendation: the label\'s recommended auto threshold, the typed reject threshold', () => {
		expect(chooseThresholds('billing', typed, 'recommendation', recommendation({ billing: 0.95 }))).toEqual({ high: 0.95, low: 0.4, source: 'recommendation' });
	});
	it('a recommended threshold below Reject Below lowers it to the threshold (no empty Review band turned upside down)', () => {
		expect(chooseThresholds('billing', typed, 'recommendation', recommendation({ billing: 0.3 }))).toEqual({ high: 0.3, low: 0.3, source: 'recommendation' });
	});
	it('a label without a recommended threshold, or no recommendation at all: the typed numbers, marked no-recommendation', () => {
		expect(chooseThresholds('tech', typed, 'recommendation', recommendation({ billing: 0.95 }))).toEqual({ ...typed, source: 'no-recommendation' });
		expect(chooseThresholds('billing', typed, 'recommendation', null)).toEqual({ ...typed, source: 'no-recommendation' });
	});
	it('an item without a label takes the report\'s "(no label)" threshold', () => {
		expect(chooseThresholds(null, typed, 'recommendation', recommendation({ [NO_LABEL]: 0.7 }))).toEqual({ high: 0.7, low: 0.4, source: 'recommendation' });
	});
});

describe('gateItem with Thresholds From', () => {
	const settings = (over: Partial<GateSettings> = {}): GateSettings => ({
		mode: 'autopilot',
		thresholds: { high: 0.85, low: 0.4 },
		perLabel: {},
		sampleRate: 0,
		thresholdsFrom: 'recommendation',
		recommendation: recommendation({ billing: 0.95 }),
		...over,
	});
	const input = (confidence: number, label: string) => ({ confidence, label, source: 'expression', sampleKey: `${label}-${confidence}` });

	it('routes a label by its recommended threshold and records the source and the recommendation', () => {
		const above = gateItem(input(0.96, 'billing'), settings());
		expect(above).toMatchObject({ band: 'auto', high: 0.95, low: 0.4, thresholdSource: 'recommendation' });
		expect(above.recommendation).toEqual({
			recordId: 'rec-1',
			at: '2026-12-01T09:00:00.000Z',
			targetPrecision: 0.9,
			window: { from: '2026-11-24T09:00:00.000Z', to: '2026-12-01T09:00:00.000Z' },
		});
		// 0.9 would pass the typed 0.85; the recommendation holds it back
		expect(gateItem(input(0.9, 'billing'), settings())).toMatchObject({ band: 'review', high: 0.95, thresholdSource: 'recommendation' });
		expect(gateItem(input(0.3, 'billing'), settings())).toMatchObject({ band: 'reject', thresholdSource: 'recommendation' });
	});

	it('a label without a recommended threshold goes to Review, however confident; Reject Below still applies', () => {
		const tech = gateItem(input(0.99, 'tech'), settings());
		expect(tech).toMatchObject({ band: 'review', high: 0.85, thresholdSource: 'no-recommendation' });
		expect(tech.reason).toMatch(/the latest recommendation \(2026-12-01T09:00:00.000Z\) has no threshold for "tech" at target precision 0.9/);
		expect(gateItem(input(0.2, 'tech'), settings())).toMatchObject({ band: 'reject', thresholdSource: 'no-recommendation' });
		const none = gateItem(input(0.99, 'billing'), settings({ recommendation: null }));
		expect(none).toMatchObject({ band: 'review', thresholdSource: 'no-recommendation', recommendation: null });
		expect(none.reason).toMatch(/no recommendation recorded in the audit stream yet/);
	});

	it('several labels: each held to its own source; the item takes the most cautious band', () => {
		const result = gateItem(
			{ confidence: 0.97, label: null, labels: [{ label: 'billing', score: 0.97 }, { label: 'tech', score: 0.98 }], source: 'ai.classify', sampleKey: 'k' },
			settings(),
		);
		expect(result.band).toBe('review');
		expect(result.labels).toEqual([
			{ label: 'billing', confidence: 0.97, high: 0.95, low: 0.4, band: 'auto', thresholdSource: 'recommendation' },
			{ label: 'tech', confidence: 0.98, high: 0.85, low: 0.4, band: 'review', thresholdSource: 'no-recommendation' },
		]);
		expect(result.thresholdSource).toBe('no-recommendation');
	});

	it('Typed Numbers (version 3) says so; versions 1 and 2 (no Thresholds From) add nothing to the result', () => {
		expect(gateItem(input(0.9, 'billing'), settings({ thresholdsFrom: 'typed', recommendation: undefined }))).toMatchObject({
			band: 'auto',
			thresholdSource: 'typed',
			recommendation: null,
		});
		const v2 = gateItem(input(0.9, 'billing'), settings({ thresholdsFrom: undefined, recommendation: undefined }));
		expect(v2.band).toBe('auto');
		expect(Object.keys(v2).sort()).toEqual(['band', 'confidence', 'high', 'label', 'low', 'mode', 'reason', 'sampled', 'source']);
	});
});

/** The stream of the header: 55 reviewed decisions. */
function decisionDrafts(): AuditDraft[] {
	const rows: Array<[string, number, 'approved' | 'rejected']> = [
		...Array.from({ length: 40 }, (): [string, number, 'approved'] => ['billing', 0.95, 'approved']),
		...Array.from({ length: 10 }, (_, i): [string, number, 'approved' | 'rejected'] => ['billing', 0.8, i < 5 ? 'approved' : 'rejected']),
		...Array.from({ length: 5 }, (): [string, number, 'approved'] => ['tech', 0.99, 'approved']),
	];
	return rows.map(([label, confidence, decision], i) =>
		buildDraft(aiItem(`ticket ${i}`, { answer: label, confidence }, { gate: gateOfRecord('review', confidence, label), review: review(decision) }), {
			workflowId: 'wf',
			executionId: String(i),
			nodeName: 'Audit Log',
			itemIndex: 0,
		}),
	);
}

describe('the recommendation record in the stream', () => {
	it('the kept summary holds the latest one; the report counts none of them', () => {
		const decisions = decisionDrafts().map((d, i) => ({ ...d, stream: 's', sequence: i + 1, prevHash: '', prevRecordId: null, hash: `h${i}` }));
		const rec = (threshold: number, sequence: number) => ({
			...buildRecommendationDraft(
				{ targetPrecision: 0.9, criterion: 'wilson-lower-bound', window: { from: null, to: null }, thresholds: { billing: threshold }, labels: {} },
				{ workflowId: 'wf', executionId: 'r', nodeName: 'Report' },
			),
			stream: 's',
			sequence,
			prevHash: '',
			prevRecordId: null,
			hash: `r${sequence}`,
		});
		const first = rec(0.97, 56);
		const second = rec(0.95, 57);
		const summary = summarize('s', [...decisions, first, second]);
		expect(summary.recommendation).toMatchObject({ recordId: second.recordId, sequence: 57, targetPrecision: 0.9, thresholds: { billing: 0.95 } });
		// the labels' trust evidence is the decisions' alone: 50 billing reviews, 45 agreed
		expect(summary.labels.billing).toMatchObject({ reviewed: 50, agreed: 45 });
		const now = new Date('2026-12-02T00:00:00Z');
		const without = buildReport('s', decisions, {}, now, { targetPrecision: 0.9 });
		const withRecs = buildReport('s', [...decisions, first, second], {}, now, { targetPrecision: 0.9 });
		expect(withRecs).toEqual(without);
		expect(without.records).toBe(55);
		expect(without.skipped).toBe(0);
	});
});

/** The gate items: expression confidence and label. */
const gateItems: IDataObject[] = [
	{ id: 'b97', label: 'billing', confidence: 0.97 },
	{ id: 'b95', label: 'billing', confidence: 0.95 },
	{ id: 'b90', label: 'billing', confidence: 0.9 },
	{ id: 'b30', label: 'billing', confidence: 0.3 },
	{ id: 't99', label: 'tech', confidence: 0.99 },
];
const ids = (items: INodeExecutionData[]) => items.map((i) => i.json.id);

async function reportThenGate(store: IDataObject, credentials?: Record<string, string>) {
	const report = await runNode({
		node: new AuditLog(),
		typeVersion: 3,
		parameters: { operation: 'report', stream: 'reco', window: 'all', targetPrecision: 0.9, recordRecommendation: true, ...store },
		items: [{}],
		credentials: credentials ? { governedAiPostgres: credentials } : undefined,
	});
	const gateParameters = {
		source: 'expression',
		confidence: '={{ $json.confidence }}',
		label: '={{ $json.label }}',
		mode: 'autopilot',
		high: 0.85,
		low: 0.4,
		stream: 'reco',
		...store,
	};
	const v3 = await runNode({
		node: new ConfidenceGate(),
		typeVersion: 3,
		parameters: { ...gateParameters, thresholdsFrom: 'recommendation' },
		items: gateItems,
		credentials: credentials ? { governedAiPostgres: credentials } : undefined,
	});
	const v2 = await runNode({ node: new ConfidenceGate(), typeVersion: 2, parameters: gateParameters, items: gateItems });
	return { report: report[0][0].json, v3, v2 };
}

function expectRouted({ report, v3, v2 }: Awaited<ReturnType<typeof reportThenGate>>) {
	expect((report.recommendation as IDataObject).thresholds).toEqual({ billing: 0.95 });
	const recorded = report.recordedRecommendation as IDataObject;
	expect(recorded).toMatchObject({ sequence: 56 });
	expect(ids(v3[0])).toEqual(['b97', 'b95']);
	expect(ids(v3[1])).toEqual(['b90', 't99']);
	expect(ids(v3[2])).toEqual(['b30']);
	for (const item of [...v3[0], v3[1][0], ...v3[2]]) {
		expect(item.json.gate).toMatchObject({ thresholdSource: 'recommendation', high: 0.95, recommendation: { recordId: recorded.recordId, targetPrecision: 0.9 } });
	}
	expect(v3[1][1].json.gate).toMatchObject({ thresholdSource: 'no-recommendation', high: 0.85 });
	// version 2 in the same store: the typed 0.85, and no word of thresholds' sources
	expect(ids(v2[0])).toEqual(['b97', 'b95', 'b90', 't99']);
	expect(ids(v2[2])).toEqual(['b30']);
	for (const item of v2.flat()) expect(item.json.gate).not.toHaveProperty('thresholdSource');
}

describe('Audit Log v3 records the recommendation, Confidence Gate v3 routes by it (n8n engine)', () => {
	let folder: string;
	beforeAll(async () => {
		folder = await fs.mkdtemp(join(tmpdir(), 'governed-ai-gate-reco-'));
	});
	afterAll(async () => {
		await fs.rm(folder, { recursive: true, force: true });
	});

	it('file store', async () => {
		const filePath = join(folder, '{stream}.jsonl');
		await new FileSink(filePath).append('reco', decisionDrafts());
		const run = await reportThenGate({ sink: 'file', filePath });
		expectRouted(run);
		const lines = (await fs.readFile(join(folder, 'reco.jsonl'), 'utf8')).trim().split('\n');
		const last = JSON.parse(lines[lines.length - 1]) as AuditRecord;
		expect(lines).toHaveLength(56);
		expect(last).toMatchObject({ kind: 'recommendation', v: 3, sequence: 56, recommendation: { thresholds: { billing: 0.95 }, targetPrecision: 0.9 } });
		expect(last.recommendation!.labels.tech).toMatchObject({ threshold: null, reviewed: 5 });
	});

	it('Earned mode: the same once-per-run read gives the stage and the recommendation', async () => {
		const filePath = join(folder, 'earned-{stream}.jsonl');
		await new FileSink(filePath).append('reco', decisionDrafts());
		await reportThenGate({ sink: 'file', filePath });
		// billing: 45 of 50 agreed, Wilson lower bound 0.786 ≥ target 0.75 with 10 reviews needed: it earns auto-routing
		const outputs = await runNode({
			node: new ConfidenceGate(),
			typeVersion: 3,
			parameters: {
				source: 'expression',
				confidence: '={{ $json.confidence }}',
				label: '={{ $json.label }}',
				mode: 'earned',
				target: 0.75,
				minReviewed: 10,
				auditPercent: 0.1,
				high: 0.85,
				low: 0.4,
				stream: 'reco',
				sink: 'file',
				filePath,
				thresholdsFrom: 'recommendation',
			},
			items: gateItems,
		});
		expect(ids(outputs[0])).toEqual(['b97', 'b95']);
		expect(ids(outputs[1])).toEqual(['b90', 't99']);
		expect(ids(outputs[2])).toEqual(['b30']);
		expect(outputs[0][0].json.gate).toMatchObject({ mode: 'earned', thresholdSource: 'recommendation', high: 0.95, trust: { label: 'billing', stage: 'auto' } });
		// tech earned nothing (5 reviews) and has no recommendation: Review on both counts
		expect(outputs[1][1].json.gate).toMatchObject({ thresholdSource: 'no-recommendation', trust: { label: 'tech', stage: 'review' } });
		const lines = (await fs.readFile(join(folder, 'earned-reco.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
		expect(lines.map((r) => r.kind ?? 'decision').slice(-2)).toEqual(['recommendation', 'trust-change']);
	});

	it('PostgreSQL store', async () => {
		const table = `gate_reco_${process.pid}_${Date.now()}`;
		const admin = new Pool({ ...connection, ssl: false });
		try {
			const sink = new PgSink(connection, table);
			try {
				await sink.append('reco', decisionDrafts());
			} finally {
				await sink.close();
			}
			expectRouted(await reportThenGate({ sink: 'postgres', tableName: table }, connection as unknown as Record<string, string>));
			const kept = await admin.query(`SELECT summary FROM "${table}_trust" WHERE stream = 'reco'`);
			expect(kept.rows[0].summary.recommendation).toMatchObject({ sequence: 56, thresholds: { billing: 0.95 } });
		} finally {
			await admin.query(`DROP TABLE IF EXISTS "${table}"`);
			await admin.query(`DROP TABLE IF EXISTS "${table}_trust"`);
			await admin.end();
		}
	});
});
