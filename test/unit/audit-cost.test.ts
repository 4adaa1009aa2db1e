/**
 * A record accounts for every AI step on its item, and the report sums them (issue 12, point 6); a failed
 * decision is recorded with its step, decision id, provider, model and error (point 1); records written
 * in format v1, before either, still verify and report (the frozen fixture test/unit/fixtures/audit-v1.jsonl
 * was written by the v1 code). Expected numbers are counted by hand in the comments.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { verifyStream } from '../../nodes/AuditLog/chain';
import { GENESIS_HEAD, headOf, sealRecords, verifyChain } from '../../nodes/AuditLog/chain';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { AUDIT_RECORD_VERSION, auditRecordSchema, buildDraft, type AuditRecord } from '../../nodes/AuditLog/record';
import { buildReport } from '../../nodes/AuditLog/report/report';
import { withAiResult } from '../../shared/contract';
import { aiItem, aiResult, review } from './audit-helpers';

const ctx = { workflowId: 'wf', executionId: '9', nodeName: 'Log', itemIndex: 0, now: new Date('2025-06-03T10:00:00.000Z') };

/** A ticket that went through AI Classify (gpt-4.1-mini, 2 requests) and then AI Decide (claude, 1 request). */
function classifiedThenDecided(text = 'Charged twice') {
	const classify = aiResult({ step: 'classify', answer: 'billing', model: 'gpt-4.1-mini', inputTokens: 120, outputTokens: 8, costUsd: 0.0000608 });
	classify.usage.requests = 2;
	const decide = aiResult({ step: 'decide', answer: 'refund', provider: 'anthropic', model: 'claude-haiku', inputTokens: 300, outputTokens: 40, costUsd: 0.00046 });
	const json = withAiResult(withAiResult({ text, amount: 49 }, 'classify', classify), 'decide', decide);
	return { json, classify, decide };
}

const fixturePath = join(__dirname, 'fixtures', 'audit-v1.jsonl');
const v1Records = (): AuditRecord[] =>
	readFileSync(fixturePath, 'utf8')
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as AuditRecord);

describe('cost of every AI step on the item', () => {
	it('records each step with its usage and cost, and the item total; the decision keeps its own usage', () => {
		const { json, classify, decide } = classifiedThenDecided();
		const draft = buildDraft(json, ctx);
		expect(draft.v).toBe(2);
		expect(AUDIT_RECORD_VERSION).toBe(2);
		expect(draft).toMatchObject({ step: 'decide', decisionId: decide.decisionId, usage: decide.usage, costUsd: 0.00046 });
		expect(draft.steps).toEqual([
			{ key: 'classify', step: 'classify', decisionId: classify.decisionId, provider: 'openai', model: 'gpt-4.1-mini', usage: classify.usage, costUsd: 0.0000608 },
			{ key: 'decide', step: 'decide', decisionId: decide.decisionId, provider: 'anthropic', model: 'claude-haiku', usage: decide.usage, costUsd: 0.00046 },
		]);
		// 120+300 in, 8+40 out, 2+1 requests, 0.0000608+0.00046
		expect(draft.total).toEqual({
			usage: { inputTokens: 420, outputTokens: 48, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 3 },
			costUsd: 0.0005208,
		});
		const [sealed] = sealRecords('s', GENESIS_HEAD, [draft]);
		expect(auditRecordSchema.safeParse(sealed).success).toBe(true);
		expect(verifyChain([sealed]).valid).toBe(true);
	});

	it('an item without AI results has no steps and a zero total', () => {
		const draft = buildDraft({ text: 'manual' }, ctx);
		expect(draft.steps).toEqual([]);
		expect(draft.total).toEqual({ usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 0 }, costUsd: 0 });
	});

	it('the report sums every step, by model, and counts a decision logged twice once', () => {
		const a = classifiedThenDecided('a');
		const b = classifiedThenDecided('b');
		// b is logged before and after a person: two records, the same two decisions
		const records = sealRecords('s', GENESIS_HEAD, [
			buildDraft(a.json, ctx),
			buildDraft(b.json, ctx),
			buildDraft({ ...b.json, review: review('approved') }, { ...ctx, itemIndex: 1 }),
		]);
		const report = buildReport('s', records, {});
		// 2 items × (classify 2 requests + decide 1 request); cost 2 × (0.0000608 + 0.00046)
		expect(report.usage.total).toMatchObject({ records: 2, steps: 4, requests: 6, inputTokens: 840, outputTokens: 96, costUsd: 0.001042 });
		expect(report.usage.byModel['openai/gpt-4.1-mini']).toMatchObject({ records: 2, steps: 2, requests: 4, costUsd: 0.000122 });
		expect(report.usage.byModel['anthropic/claude-haiku']).toMatchObject({ records: 2, steps: 2, requests: 2, costUsd: 0.00092 });
		expect(report.daily).toEqual([{ date: '2025-06-03', records: 3, costUsd: 0.001042, errors: 0 }]);
		expect(report.records).toBe(3);
	});
});

describe('a decision that failed (Continue On Fail)', () => {
	// the item as the AI nodes route it: every input field, plus ai.<key> with the error
	const input = { ticketId: 'T-9', text: 'Please refund', customer: { plan: 'team' } };

	it('is recorded with its step, decision id, provider, model, error and usage so far', () => {
		const failed = {
			...aiResult({ step: 'decide', answer: null, confidence: null, needsReview: true, model: 'gpt-4.1-mini', costUsd: 0.00002 }),
			confidenceMethod: 'none' as const,
			reviewReason: 'failed',
			error: 'Item 0: Request timed out after 30000 ms',
			usage: { inputTokens: 50, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 3 },
			attempts: 3,
			promptHash: '',
		};
		const draft = buildDraft(withAiResult(input, 'decide', failed), { ...ctx, includeInput: true });
		expect(draft).toMatchObject({
			step: 'decide',
			decisionId: failed.decisionId,
			provider: 'openai',
			model: 'gpt-4.1-mini',
			answer: null,
			needsReview: true,
			reviewReason: 'failed',
			error: 'Item 0: Request timed out after 30000 ms',
			attempts: 3,
			usage: failed.usage,
			costUsd: 0.00002,
			input,
		});
		expect(draft.steps).toEqual([expect.objectContaining({ key: 'decide', decisionId: failed.decisionId, usage: failed.usage, costUsd: 0.00002 })]);
	});

	it('is identified even when the result carries only what a failure knows', () => {
		// no confidence, reason, evidence, prompt hash or time: not a full AI result, still a decision
		const failed = {
			decisionId: 'd-failed-1',
			step: 'classify',
			answer: null,
			needsReview: true,
			reviewReason: 'failed',
			error: 'Item 0: 401 invalid API key',
			provider: 'anthropic',
			model: 'claude-haiku',
			usage: { inputTokens: 0, outputTokens: 0, requests: 1 },
			attempts: 1,
		};
		const json = { ...input, ai: { latest: 'classify', classify: failed } };
		const draft = buildDraft(json, ctx);
		expect(draft).toMatchObject({
			aiKey: 'classify',
			step: 'classify',
			decisionId: 'd-failed-1',
			provider: 'anthropic',
			model: 'claude-haiku',
			error: 'Item 0: 401 invalid API key',
			needsReview: true,
			reviewReason: 'failed',
			attempts: 1,
			confidence: null,
			usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
		});
		const [sealed] = sealRecords('s', GENESIS_HEAD, [draft]);
		expect(auditRecordSchema.safeParse(sealed).success).toBe(true);
		const report = buildReport('s', [sealed], {});
		expect(report.errors).toMatchObject({ total: 1, byMessage: { 'Item 0: 401 invalid API key': 1 } });
		expect(report.usage.total).toMatchObject({ steps: 1, requests: 1 });
	});

	it('after a step that succeeded: the failed step is the decision, both steps are costed', () => {
		const classify = aiResult({ step: 'classify', answer: 'billing', costUsd: 0.0001 });
		const failed = { ...aiResult({ step: 'decide', answer: null, needsReview: true, costUsd: 0.00003 }), reviewReason: 'failed', error: 'Item 0: 503 after 5 retries' };
		const draft = buildDraft(withAiResult(withAiResult(input, 'classify', classify), 'decide', failed), ctx);
		expect(draft).toMatchObject({ step: 'decide', decisionId: failed.decisionId, error: 'Item 0: 503 after 5 retries' });
		expect(draft.steps?.map((s) => s.step)).toEqual(['classify', 'decide']);
		expect(draft.total?.costUsd).toBeCloseTo(0.00013, 12);
	});
});

describe('records written in format v1', () => {
	it('the frozen v1 records verify as they are, and the schema still reads them', () => {
		const records = v1Records();
		expect(records.map((r) => r.v)).toEqual([1, 1]);
		expect(records.every((r) => !('steps' in r) && !('total' in r))).toBe(true);
		const result = verifyChain(records);
		expect(result).toMatchObject({ valid: true, records: 2, lastSequence: 2, lastHash: records[1].hash });
		for (const r of records) expect(auditRecordSchema.safeParse(r).success).toBe(true);
	});

	it('the report reads v1 records: each counts its one decision', () => {
		// v1 fixture: 0.000321 (210 in, 30 out) + 0.000111 (100 in, 10 out), 1 request each
		const report = buildReport('legacy', v1Records(), {});
		expect(report.records).toBe(2);
		expect(report.skipped).toBe(0);
		expect(report.usage.total).toMatchObject({ records: 2, steps: 2, requests: 2, inputTokens: 310, outputTokens: 40, costUsd: 0.000432 });
	});

	it('a v1 file sink stream takes v2 records after it: one valid chain, and the report sums both versions', async () => {
		const folder = await fs.mkdtemp(join(tmpdir(), 'audit-v1-'));
		try {
			const file = join(folder, 'legacy.jsonl');
			await fs.copyFile(fixturePath, file);
			const sink = new FileSink(file);
			const { json } = classifiedThenDecided();
			const [appended] = await sink.append('legacy', [buildDraft(json, ctx)]);
			expect(appended).toMatchObject({ v: 2, sequence: 3, prevHash: v1Records()[1].hash });
			expect(await verifyStream(sink, 'legacy')).toMatchObject({ valid: true, records: 3, lastSequence: 3 });
			const stored: unknown[] = [];
			for await (const page of sink.read('legacy')) stored.push(...page);
			await sink.close();
			// 0.000432 (v1) + 0.0005208 (v2: classify + decide); requests 1 + 1 + 2 + 1
			const report = buildReport('legacy', stored, {});
			expect(report.usage.total).toMatchObject({ records: 3, steps: 4, requests: 5, costUsd: 0.000953 });
			// and the head the sink continues from is the v2 record's
			expect(headOf(appended).sequence).toBe(3);
		} finally {
			await fs.rm(folder, { recursive: true, force: true });
		}
	});
});

describe('a classic item with one AI result', () => {
	it('records one step, equal to the decision', () => {
		const draft = buildDraft(aiItem('x', { costUsd: 0.002 }), ctx);
		expect(draft.steps).toHaveLength(1);
		expect(draft.total).toEqual({ usage: draft.usage, costUsd: 0.002 });
	});
});
