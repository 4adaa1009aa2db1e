/**
 * Trust earned and withdrawn by the numbers (issue 16): the Wilson bound (pure), the trust summary the sinks
 * keep beside the log (file) and in a table (PostgreSQL) against a fold of every record and a hand count,
 * trust-change records in a valid chain, and Confidence Gate version 2's Shadow and Earned modes inside n8n's
 * engine, up to the full drift scenario at audit sample rates of 5 % and 20 %.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { Pool } from 'pg';

import { verifyStream } from '../../nodes/AuditLog/chain';
import { auditRecordSchema, buildDraft, buildTrustChangeDraft, type AuditRecord } from '../../nodes/AuditLog/record';
import { buildReport } from '../../nodes/AuditLog/report/report';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { PgSink, poolConfig, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { summaryPathOf } from '../../nodes/AuditLog/trust/fileSummary';
import { emptySummary, MAX_AUDITS_KEPT, summarize, type TrustSummary } from '../../nodes/AuditLog/trust/summary';
import { ConfidenceGate } from '../../nodes/ConfidenceGate/ConfidenceGate.node';
import { labelState, trustChanges } from '../../nodes/ConfidenceGate/trust';
import { wilsonInterval, wilsonLower, wilsonUpper } from '../../nodes/ConfidenceGate/wilson';
import { withAiResult, withAnswer } from '../../shared/contract';
import { aiResult } from './audit-helpers';
import { LABELS, PHASE1_PER_LABEL, reviewOf, scenarioItem, type ScenarioItem } from './helpers/drift';
import { runNode } from './helpers/engine';

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};

let folder: string;
beforeAll(async () => {
	folder = await fs.mkdtemp(join(tmpdir(), 'governed-ai-trust-'));
});
afterAll(async () => {
	await fs.rm(folder, { recursive: true, force: true });
});

describe('Wilson score interval', () => {
	it('matches published values and brackets the share', () => {
		// 10 of 10: the textbook 0.7225 lower bound; 0 of 10 mirrors it
		expect(wilsonLower(10, 10)).toBeCloseTo(0.7225, 4);
		expect(wilsonUpper(0, 10)).toBeCloseTo(0.2775, 4);
		expect(wilsonInterval(10, 10).upper).toBe(1);
		expect(wilsonInterval(0, 10).lower).toBe(0);
		// 81 of 263 (Wilson 1927's worked example as quoted by Newcombe 1998): 0.2553 .. 0.3662
		const { lower, upper } = wilsonInterval(81, 263);
		expect(lower).toBeCloseTo(0.2553, 3);
		expect(upper).toBeCloseTo(0.3662, 3);
		for (const [k, n] of [[1, 3], [194, 200], [1455, 1500], [14, 20]]) {
			const i = wilsonInterval(k, n);
			expect(i.lower).toBeLessThan(k / n);
			expect(i.upper).toBeGreaterThan(k / n);
		}
		// more evidence, a narrower interval
		expect(wilsonLower(970, 1000)).toBeGreaterThan(wilsonLower(97, 100));
	});

	it('knows nothing from no trials, and refuses impossible counts', () => {
		expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1 });
		expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
		expect(() => wilsonInterval(-1, 2)).toThrow(RangeError);
		expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
	});
});

/** An item as AI Classify leaves it, after a gate and (optionally) a person. */
function decided(label: string, options: { sampled?: boolean; review?: 'approved' | 'edited' | 'rejected' | 'no-response'; at?: string } = {}) {
	const json = withAiResult({ text: `about ${label}` }, 'classify', { ...aiResult({ answer: label, confidence: 0.95 }), at: options.at ?? new Date().toISOString() }) as IDataObject;
	json.gate = { band: 'review', confidence: 0.95, high: 0.85, low: 0.4, sampled: options.sampled ?? false, mode: 'earned', source: 'ai.classify', label, reason: 'r' };
	if (options.review) {
		json.review = { decision: options.review, reviewer: 'r', comment: null, edits: null, decidedAt: null, waitedMs: null };
	}
	return json;
}

const draftsOf = (items: IDataObject[]) => items.map((json, itemIndex) => buildDraft(json, { workflowId: 'w', executionId: 'e', nodeName: 'Audit Log', itemIndex }));

async function allRecords(sink: FileSink | PgSink, stream: string): Promise<AuditRecord[]> {
	const out: AuditRecord[] = [];
	for await (const page of sink.read(stream)) out.push(...(page as AuditRecord[]));
	return out;
}

/** The hand count: per label, reviewed and approved decision records after the label's last trust change. */
function handCount(records: AuditRecord[]) {
	const out: Record<string, { reviewed: number; agreed: number; audits: string }> = {};
	const lastChange: Record<string, number> = {};
	for (const r of records) if (r.kind === 'trust-change') lastChange[r.label!] = r.sequence;
	for (const r of records) {
		if (r.kind === 'trust-change' || !r.review || r.review.decision === 'no-response') continue;
		if (r.sequence < (lastChange[r.label!] ?? 0)) continue;
		const entry = (out[r.label!] ??= { reviewed: 0, agreed: 0, audits: '' });
		entry.reviewed++;
		if (r.review.decision === 'approved') entry.agreed++;
		if (r.gate?.sampled) entry.audits = (entry.audits + (r.review.decision === 'approved' ? '1' : '0')).slice(-MAX_AUDITS_KEPT);
	}
	return out;
}

const countsOf = (summary: TrustSummary) =>
	Object.fromEntries(Object.entries(summary.labels).map(([label, l]) => [label, { reviewed: l.reviewed, agreed: l.agreed, audits: l.audits }]));

/** A mixed history: reviewed, sampled, unreviewed, no-response, several appends. */
function history(): IDataObject[][] {
	const batch = (n: number, offset: number) =>
		Array.from({ length: n }, (_, i) => {
			const k = i + offset;
			const label = ['billing', 'shipping', 'other'][k % 3];
			const review = k % 7 === 0 ? undefined : k % 11 === 0 ? 'no-response' : k % 5 === 0 ? 'edited' : k % 13 === 0 ? 'rejected' : 'approved';
			return decided(label, { sampled: k % 4 === 0, review: review as 'approved' | undefined });
		});
	return [batch(40, 0), batch(1, 40), batch(77, 41)];
}

describe('the trust summary kept beside the file log', () => {
	it('equals a fold of every record and a hand count, through appends, a trust change, a lost and a stale summary', async () => {
		const sink = new FileSink(join(folder, 'kept-{stream}.jsonl'));
		for (const items of history()) await sink.append('s1', draftsOf(items));
		await sink.append('s1', [buildTrustChangeDraft({ label: 'billing', from: 'review', to: 'auto', reason: 'test', reviewed: 1, agreed: 1, target: 0.9 }, { workflowId: 'w', executionId: 'e', nodeName: 'Gate' })]);
		for (const items of history()) await sink.append('s1', draftsOf(items));
		const records = await allRecords(sink, 's1');
		expect(records).toHaveLength(2 * 118 + 1);
		expect(await verifyStream(sink, 's1')).toMatchObject({ valid: true, records: 237 });
		// every record valid against the published schema, the trust change included
		for (const record of records) expect(auditRecordSchema.safeParse(record).success).toBe(true);

		const folded = summarize('s1', records);
		const kept = JSON.parse(await fs.readFile(summaryPathOf(sink.pathOf('s1')), 'utf8')) as { summary: TrustSummary };
		expect(kept.summary).toEqual(folded);
		expect(await sink.trustSummary('s1')).toEqual(folded);
		expect(countsOf(folded)).toEqual(handCount(records));
		expect(folded.labels.billing).toMatchObject({ stage: 'auto', epoch: 1, changedSequence: 119 });
		expect(folded.labels.shipping).toMatchObject({ stage: 'review', epoch: 0 });

		// lost: rebuilt from the log
		await fs.rm(summaryPathOf(sink.pathOf('s1')));
		expect(await sink.trustSummary('s1')).toEqual(folded);
		// stale (an append that did not update it): caught up from its offset
		const stale = await fs.readFile(summaryPathOf(sink.pathOf('s1')), 'utf8');
		await sink.append('s1', draftsOf([decided('other', { review: 'edited' })]));
		await fs.writeFile(summaryPathOf(sink.pathOf('s1')), stale);
		const after = summarize('s1', await allRecords(sink, 's1'));
		expect(after.labels.other.reviewed).toBe(folded.labels.other.reviewed + 1);
		expect(await sink.trustSummary('s1')).toEqual(after);
		// a log replaced under it (another stream's content): the check fails and it is rebuilt
		const other = new FileSink(join(folder, 'other-{stream}.jsonl'));
		await other.append('s1', draftsOf([decided('billing', { review: 'approved' })]));
		await fs.copyFile(summaryPathOf(sink.pathOf('s1')), summaryPathOf(other.pathOf('s1')));
		expect(await other.trustSummary('s1')).toEqual(summarize('s1', await allRecords(other, 's1')));
	});

	it('starts empty for a stream without a log, and a repeated change of stage starts nothing', async () => {
		const sink = new FileSink(join(folder, 'empty-{stream}.jsonl'));
		expect(await sink.trustSummary('none')).toEqual(emptySummary('none'));
		const change = (to: 'auto' | 'review') =>
			buildTrustChangeDraft({ label: 'billing', from: to === 'auto' ? 'review' : 'auto', to, reason: 'x', reviewed: 0, agreed: 0, target: 0.9 }, { workflowId: null, executionId: null, nodeName: 'Gate' });
		await sink.append('twice', [change('auto')]);
		await sink.append('twice', draftsOf([decided('billing', { review: 'approved', sampled: true })]));
		// a second gate run noticing the same thing: no new epoch, the audit since the first change still counts
		await sink.append('twice', [change('auto')]);
		const summary = await sink.trustSummary('twice');
		expect(summary.labels.billing).toMatchObject({ stage: 'auto', epoch: 1, changedSequence: 1, reviewed: 1, audits: '1' });
	});
});

describe('the trust summary kept in PostgreSQL', () => {
	const table = `trust_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	afterAll(async () => {
		await admin.query(`DROP TABLE IF EXISTS "${table}"`);
		await admin.query(`DROP TABLE IF EXISTS "${table}_trust"`);
		await admin.end();
	});

	it('equals a fold of every record and a hand count, and is rebuilt when its row no longer matches', async () => {
		const sink = new PgSink(connection, table);
		try {
			for (const items of history()) await sink.append('p1', draftsOf(items));
			await sink.append('p1', [buildTrustChangeDraft({ label: 'other', from: 'review', to: 'auto', reason: 'test', reviewed: 1, agreed: 1, target: 0.9 }, { workflowId: 'w', executionId: 'e', nodeName: 'Gate' })]);
			for (const items of history()) await sink.append('p1', draftsOf(items));
			const records = await allRecords(sink, 'p1');
			const folded = summarize('p1', records);
			const row = await admin.query(`SELECT through_sequence, summary FROM "${table}_trust" WHERE stream = 'p1'`);
			expect(Number(row.rows[0].through_sequence)).toBe(237);
			expect(row.rows[0].summary).toEqual(folded);
			expect(await sink.trustSummary('p1')).toEqual(folded);
			expect(countsOf(folded)).toEqual(handCount(records));
			expect(await verifyStream(sink, 'p1')).toMatchObject({ valid: true });
			// a table made before the summary existed (no row): built on the first read
			await admin.query(`DELETE FROM "${table}_trust"`);
			expect(await sink.trustSummary('p1')).toEqual(folded);
			// a row whose last record is not in the table any more: rebuilt
			await admin.query(`UPDATE "${table}_trust" SET summary = jsonb_set(summary, '{throughHash}', '"0000"')`);
			expect(await sink.trustSummary('p1')).toEqual(folded);
		} finally {
			await sink.close();
		}
	});
});

describe('the trust rule', () => {
	const settings = { target: 0.9, minReviewed: 200, windowDays: 30, auditWindow: 20 };
	const summaryWith = (label: string, patch: Partial<TrustSummary['labels'][string]>, days: Record<string, [number, number]>): TrustSummary => ({
		...emptySummary('x'),
		labels: { [label]: { stage: 'review', epoch: 0, changedSequence: null, changedAt: null, reviewed: 0, agreed: 0, days, audits: '', ...patch } },
	});
	const now = new Date('2026-06-30T12:00:00Z');

	it('steps forward only with enough reviewed items in the window and a lower bound at the target', () => {
		// 194 of 200: lower bound 0.936
		expect(trustChanges(summaryWith('a', {}, { '2026-06-30': [200, 194] }), settings, now)).toEqual([
			expect.objectContaining({ label: 'a', from: 'review', to: 'auto', reviewed: 200, agreed: 194, lowerBound: 0.9361 }),
		]);
		// 199 reviewed: not yet
		expect(trustChanges(summaryWith('a', {}, { '2026-06-30': [199, 199] }), settings, now)).toEqual([]);
		// 185 of 200: lower bound 0.88 < 0.9
		expect(trustChanges(summaryWith('a', {}, { '2026-06-30': [200, 185] }), settings, now)).toEqual([]);
		// the same 200 but half of them older than the window (30 days ending 2026-06-30 start on 2026-06-01)
		expect(trustChanges(summaryWith('a', {}, { '2026-06-01': [100, 97], '2026-05-31': [100, 97] }), settings, now)).toEqual([]);
		expect(labelState(summaryWith('a', {}, { '2026-06-01': [100, 97], '2026-05-31': [100, 97] }), 'a', settings, now)).toMatchObject({ reviewed: 100, agreed: 97 });
	});

	it('steps back when the upper bound of the latest sampled audits falls below the target, and not before', () => {
		const auto = (audits: string) => summaryWith('a', { stage: 'auto', epoch: 1, audits }, {});
		// 14 of the last 20 (the older failures no longer judged): upper bound 0.855
		expect(trustChanges(auto('0000' + '11011101101101101011'), settings, now)).toEqual([
			expect.objectContaining({ from: 'auto', to: 'review', reviewed: 20, agreed: 14, upperBound: 0.8545 }),
		]);
		// 18 of 20: upper bound 0.97
		expect(trustChanges(auto('11111111110111111110'), settings, now)).toEqual([]);
		// no audits yet: nothing to judge
		expect(trustChanges(auto(''), settings, now)).toEqual([]);
	});
});

describe('the step-back rule over many runs (the rule alone, 2,000 seeded runs)', () => {
	const settings = { target: 0.9, minReviewed: 200, windowDays: 30, auditWindow: 20 };
	/** A seeded generator (an LCG), so the runs are the same every time. */
	const random = (seed: number) => {
		let state = seed >>> 0;
		return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
	};
	const stepsBack = (audits: string) =>
		trustChanges({ ...emptySummary('x'), labels: { a: { stage: 'auto', epoch: 1, changedSequence: 1, changedAt: null, reviewed: 0, agreed: 0, days: {}, audits } } }, settings).length > 0;

	it('catches a drop from 97 % to 70 % within 60 sampled audits in 99 % of runs, and steps back by mistake in under 10 % of 300 audits at 97 %', () => {
		const after: number[] = [];
		let falseAlarms = 0;
		const runs = 2000;
		for (let seed = 1; seed <= runs; seed++) {
			const draw = random(seed * 7 + 3);
			let audits = '';
			let alarm = false;
			for (let i = 0; i < 300 && !alarm; i++) {
				audits = (audits + (draw() < 0.97 ? '1' : '0')).slice(-200);
				alarm = stepsBack(audits);
			}
			if (alarm) {
				falseAlarms++;
				continue;
			}
			let n = 0;
			do {
				n++;
				audits = (audits + (draw() < 0.7 ? '1' : '0')).slice(-200);
			} while (!stepsBack(audits) && n < 500);
			after.push(n);
		}
		after.sort((a, b) => a - b);
		const at = (q: number) => after[Math.floor(after.length * q)];
		console.log(`step back after a drop to 70 %: median ${at(0.5)}, 95th percentile ${at(0.95)}, 99th ${at(0.99)}, worst ${after[after.length - 1]} sampled audits; false step backs at 97 %: ${falseAlarms} of ${runs} runs of 300 audits`);
		expect(at(0.99)).toBeLessThanOrEqual(60);
		expect(falseAlarms / runs).toBeLessThan(0.1);
	});
});

// ---------------------------------------------------------------------------------------------------------
// Confidence Gate version 2 inside n8n's engine

const aiItem = (id: string, label: string, confidence = 0.95): IDataObject => ({
	id,
	...(withAiResult({ text: `ticket ${id}` }, 'classify', { ...aiResult({ answer: label, confidence }), decisionId: `d-${id}`, at: new Date().toISOString() }) as IDataObject),
});

function runGate(items: IDataObject[], parameters: IDataObject, typeVersion = 2) {
	return runNode({ node: new ConfidenceGate(), items, typeVersion, parameters: { high: 0.85, low: 0.4, ...parameters } });
}

describe('Confidence Gate version 2: Shadow mode', () => {
	it('sends every item to Review, keeps what the AI alone would have done, and the record carries both', async () => {
		const items = [aiItem('a', 'billing', 0.95), aiItem('b', 'shipping', 0.6), aiItem('c', 'other', 0.1)];
		const [auto, review, reject] = await runGate(items, { mode: 'shadow' });
		expect(auto).toEqual([]);
		expect(reject).toEqual([]);
		expect(review.map((i) => (i.json.gate as IDataObject).wouldBe)).toEqual(['auto', 'review', 'reject']);
		expect(review.map((i) => (i.json.gate as IDataObject).mode)).toEqual(['shadow', 'shadow', 'shadow']);
		expect(String((review[0].json.gate as IDataObject).reason)).toMatch(/^shadow mode: a person decides every item \(the AI alone: auto/);
		// the AI result rides along untouched
		expect((review[0].json.ai as IDataObject).classify).toEqual((items[0].ai as IDataObject).classify);
		const draft = buildDraft({ ...review[0].json, review: reviewOf('billing', 'billing') }, { workflowId: 'w', executionId: 'e', nodeName: 'Audit Log', itemIndex: 0 });
		expect(draft).toMatchObject({ v: 3, label: 'billing', answer: 'billing', gate: { band: 'review', mode: 'shadow', wouldBe: 'auto', sampled: false }, review: { decision: 'approved' } });
	});

	it('leaves version 1 as it was: no Shadow, no Earned, the same routing', async () => {
		const items = [aiItem('a', 'billing', 0.95), aiItem('b', 'shipping', 0.6)];
		const [auto, review] = await runGate(items, {}, 1);
		expect(auto.map((i) => i.json.id)).toEqual(['a']);
		expect(review.map((i) => i.json.id)).toEqual(['b']);
		expect(auto[0].json.gate).not.toHaveProperty('wouldBe');
		expect(auto[0].json.gate).not.toHaveProperty('trust');
		const v1Modes = new ConfidenceGate().description.properties.filter((p) => p.name === 'mode').map((p) => (p.options ?? []).map((o) => ('value' in o ? o.value : '')));
		expect(v1Modes).toEqual([['autopilot', 'assist'], ['autopilot', 'assist', 'shadow', 'earned']]);
	});
});

interface DriftOutcome {
	records: AuditRecord[];
	/** sequence of the last record before the first phase-2 item was gated */
	dropSequence: number;
	changes: AuditRecord[];
	runs: number;
	autoRouted: number;
}

/**
 * The drift scenario at full size: batches of items through the gate (n8n's engine), the reviewer deciding
 * every item the gate sends to Review, every item recorded as an Audit Log append would record it.
 */
async function drift(samplePercent: number, stream: string, batch = 150): Promise<DriftOutcome> {
	const filePath = join(folder, 'drift-{stream}.jsonl');
	const sink = new FileSink(filePath);
	const parameters = { mode: 'earned', sink: 'file', stream, filePath, target: 0.9, minReviewed: 200, windowDays: 30, auditWindow: 20, auditPercent: samplePercent };
	const phase1 = PHASE1_PER_LABEL * LABELS.length;
	let index = 0;
	let dropSequence = -1;
	let runs = 0;
	let autoRouted = 0;
	const steppedBack = async () => (await sink.trustSummary(stream)).labels.billing?.stage === 'review' && (await sink.trustSummary(stream)).labels.billing.epoch >= 2;
	// phase 2 ends at the step back, or after 80 billing audits at the latest
	for (;;) {
		if (index >= phase1) {
			if (dropSequence < 0) dropSequence = (await sink.trustSummary(stream)).throughSequence;
			if (await steppedBack()) break;
			const audits = (await allRecords(sink, stream)).filter((r) => r.sequence > dropSequence && r.label === 'billing' && r.gate?.sampled && r.review).length;
			if (audits > 80) break;
		}
		const scenario: ScenarioItem[] = [];
		const end = index < phase1 ? Math.min(phase1, index + batch) : index + batch;
		for (; index < end; index++) scenario.push(scenarioItem(stream, index));
		const truth = new Map(scenario.map((s) => [s.id, s.truth]));
		const [auto, review, reject] = await runGate(scenario.map((s) => aiItem(s.id, s.label)), parameters);
		runs++;
		autoRouted += auto.length;
		const reviewed = review.map((item: INodeExecutionData) => {
			const json = item.json;
			const answer = String(((json.ai as IDataObject).classify as IDataObject).answer);
			const t = truth.get(String(json.id))!;
			const ai = json.ai as IDataObject;
			// as Human Checkpoint leaves it: the review, and a corrected answer in place of the AI's
			return { ...json, ai: { ...ai, classify: withAnswer(ai.classify as IDataObject, t) }, review: reviewOf(answer, t) } as IDataObject;
		});
		await sink.append(stream, draftsOf([...auto.map((i) => i.json), ...reviewed, ...reject.map((i) => i.json)]));
	}
	const records = await allRecords(sink, stream);
	return { records, dropSequence, changes: records.filter((r) => r.kind === 'trust-change'), runs, autoRouted };
}

describe.each([5, 20])('the drift scenario at an audit sample rate of %i %% (full size, n8n engine)', (samplePercent) => {
	let outcome: DriftOutcome;
	beforeAll(async () => {
		outcome = await drift(samplePercent, `drift${samplePercent}`);
	}, 600_000);

	it('billing earns auto-routing on 97 % and steps back within 60 sampled audits of the drop to 70 %; no other label changes stage after the drop', () => {
		const { records, dropSequence, changes } = outcome;
		const of = (label: string) => changes.filter((c) => c.label === label).map((c) => `${c.trust!.from}->${c.trust!.to}@${c.sequence < dropSequence ? 'before' : 'after'}`);
		expect(of('billing')).toEqual(['review->auto@before', 'auto->review@after']);
		expect(of('shipping')).toEqual(['review->auto@before']);
		expect(of('other')).toEqual([]);
		const stepBack = changes.find((c) => c.label === 'billing' && c.trust!.to === 'review')!;
		const auditsAfterDrop = records.filter((r) => r.sequence > dropSequence && r.sequence < stepBack.sequence && r.label === 'billing' && r.gate?.sampled && r.review);
		expect(auditsAfterDrop.length).toBeGreaterThan(0);
		expect(auditsAfterDrop.length).toBeLessThanOrEqual(60);
		// the figure for the README and the report
		console.log(`drift at ${samplePercent} %: billing stepped back after ${auditsAfterDrop.length} sampled audits after the drop (${outcome.runs} gate runs, ${outcome.autoRouted} items auto-routed); step back: ${stepBack.trust!.reason}`);
		expect(stepBack.trust).toMatchObject({ label: 'billing', from: 'auto', to: 'review', target: 0.9, auditWindow: 20 });
	});

	it('routes by stage: nothing of a review-stage label is auto-routed, and the stream stays a valid chain', async () => {
		const { records } = outcome;
		const decisions = records.filter((r) => r.kind !== 'trust-change');
		// other never earned: every item of it went to a person
		expect(decisions.filter((r) => r.label === 'other' && r.gate?.band === 'auto')).toEqual([]);
		expect(decisions.filter((r) => r.label === 'other').every((r) => r.gate?.stage === 'review' && r.review)).toBe(true);
		// after its step back, billing goes to a person again
		const stepBack = records.find((r) => r.kind === 'trust-change' && r.label === 'billing' && r.trust!.to === 'review')!;
		expect(decisions.filter((r) => r.label === 'billing' && r.sequence > stepBack.sequence && r.gate?.band === 'auto')).toEqual([]);
		// sampled items: about the audit sample rate of the auto-stage items
		const autoStage = decisions.filter((r) => r.gate?.stage === 'auto');
		const sampled = autoStage.filter((r) => r.gate?.sampled).length / autoStage.length;
		expect(sampled).toBeGreaterThan(samplePercent / 100 / 2);
		expect(sampled).toBeLessThan((samplePercent / 100) * 2);
		const sink = new FileSink(join(folder, 'drift-{stream}.jsonl'));
		expect(await verifyStream(sink, `drift${samplePercent}`)).toMatchObject({ valid: true, records: records.length });
		// the kept summary equals the hand count; the report still counts decisions only
		expect(countsOf(await sink.trustSummary(`drift${samplePercent}`))).toEqual(handCount(records));
		expect(buildReport('x', records).records).toBe(decisions.length);
	});
});
