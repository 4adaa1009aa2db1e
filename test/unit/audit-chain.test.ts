import { createHash } from 'node:crypto';

import {
	GENESIS_HASH,
	GENESIS_HEAD,
	computeHash,
	sealRecords,
	verifyChain,
} from '../../nodes/AuditLog/chain';
import { auditRecordSchema, buildDraft, type AuditRecord } from '../../nodes/AuditLog/record';
import { canonicalJson } from '../../shared/hash';
import { aiItem, drafts, gate, review } from './audit-helpers';

function chain(n: number): AuditRecord[] {
	return sealRecords('s1', GENESIS_HEAD, drafts(n, 'c'));
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('canonical JSON and the hash', () => {
	it('sorts keys at every level, leaves out undefined and has no whitespace', () => {
		expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
			'{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
		);
	});

	it('is sha256(prevHash + canonical(record without hash)), genesis = 64 zeros', () => {
		const [first, second] = chain(2);
		expect(first.prevHash).toBe(GENESIS_HASH);
		expect(GENESIS_HASH).toMatch(/^0{64}$/);
		const { hash, ...rest } = first;
		const expected = createHash('sha256').update(GENESIS_HASH + canonicalJson(rest)).digest('hex');
		expect(hash).toBe(expected);
		expect(second.prevHash).toBe(first.hash);
		expect(second.prevRecordId).toBe(first.recordId);
		expect(computeHash(second as unknown as Record<string, unknown>)).toBe(second.hash);
	});

	it('does not depend on key order (a JSONB round trip reorders keys)', () => {
		const [record] = chain(1);
		const reversed = Object.fromEntries(Object.entries(record).reverse());
		expect(computeHash(reversed)).toBe(record.hash);
	});
});

describe('verify', () => {
	it('accepts an intact chain', () => {
		const records = chain(50);
		expect(verifyChain(records)).toMatchObject({ valid: true, records: 50, firstBad: null, lastSequence: 50 });
		expect(verifyChain([])).toMatchObject({ valid: true, records: 0, lastSequence: 0 });
	});

	it('names an edited record', () => {
		const records = chain(10).map(clone);
		(records[6] as Record<string, unknown>).answer = 'refund';
		const result = verifyChain(records);
		expect(result.valid).toBe(false);
		expect(result.firstBad).toMatchObject({ problem: 'edited', sequence: 7, recordId: records[6].recordId });
	});

	it('names an edit that adds a field the schema does not know', () => {
		const records = chain(5).map(clone);
		(records[2] as Record<string, unknown>).note = 'added later';
		expect(verifyChain(records).firstBad).toMatchObject({ problem: 'edited', sequence: 3 });
	});

	it('names a deleted record by sequence and id', () => {
		const records = chain(10);
		const deleted = records[4];
		const result = verifyChain(records.filter((r) => r !== deleted));
		expect(result.firstBad).toMatchObject({ problem: 'deleted', sequence: 5, recordId: deleted.recordId });
	});

	it('names the first of several deleted records by sequence', () => {
		const records = chain(10);
		const result = verifyChain([...records.slice(0, 3), ...records.slice(6)]);
		expect(result.firstBad).toMatchObject({ problem: 'deleted', sequence: 4, recordId: null });
		expect(result.firstBad?.detail).toContain('4..6');
	});

	it('names reordered records', () => {
		const records = chain(10);
		const swapped = [...records];
		[swapped[3], swapped[4]] = [swapped[4], swapped[3]];
		expect(verifyChain(swapped).firstBad).toMatchObject({ problem: 'reordered', sequence: 5, recordId: records[4].recordId });
	});

	it('names an inserted record even when its own hash is right', () => {
		const records = chain(10);
		// a forger builds a record for sequence 6 that chains from a made-up predecessor
		const [forged] = sealRecords('s1', { sequence: 5, hash: 'f'.repeat(64), recordId: 'x' }, drafts(1, 'forged'));
		const tampered = [...records.slice(0, 5), forged, ...records.slice(5)];
		expect(verifyChain(tampered).firstBad).toMatchObject({ problem: 'inserted', sequence: 6, recordId: forged.recordId });
	});

	it('names a duplicated record as inserted', () => {
		const records = chain(6);
		const tampered = [...records.slice(0, 4), records[2], ...records.slice(4)];
		expect(verifyChain(tampered).firstBad).toMatchObject({ problem: 'inserted', sequence: 3, position: 5 });
	});

	it('names a line that is not a record', () => {
		const records: unknown[] = chain(4);
		records.splice(2, 0, { unparsable: '{"seq', line: 3 });
		expect(verifyChain(records).firstBad).toMatchObject({ problem: 'malformed', position: 3 });
	});
});

describe('building a record from an item', () => {
	const ctx = { workflowId: 'wf', executionId: '7', nodeName: 'Audit Log', itemIndex: 2 };

	it("keeps the AI's own review flag after a version 2 Human Checkpoint rewrote needsReview", () => {
		// approved by a person: the checkpoint says needsReview false, the AI had flagged it (below threshold)
		const settled = (item: Record<string, unknown>, fields: Record<string, unknown>) => {
			const ai = item.ai as Record<string, Record<string, unknown>>;
			return { ...item, ai: { ...ai, classify: { ...ai.classify, ...fields } } };
		};
		const flagged = settled(aiItem('my printer is on fire', { answer: 'technical', confidence: 0.42 }, { review: review('approved') }), {
			needsReview: false,
			reviewReason: 'below threshold',
			reviewedBy: 'ana',
		});
		expect(buildDraft(flagged, ctx).needsReview).toBe(true);
		// a confident item sampled for audit and rejected: the checkpoint says needsReview true, the AI had not flagged it
		const sampled = settled(aiItem('refund please', { answer: 'billing', confidence: 0.97 }, { review: review('rejected') }), { needsReview: true, reviewedBy: 'ana' });
		expect(buildDraft(sampled, ctx).needsReview).toBe(false);
		// version 1 checkpoints leave the AI's flag as it was
		expect(buildDraft(aiItem('x', { answer: 'billing', confidence: 0.97, needsReview: false }), ctx).needsReview).toBe(false);
	});

	it('reads the latest AI result, the gate and the review with zero configuration', () => {
		const item = aiItem('my printer is on fire', { answer: 'technical', confidence: 0.42, needsReview: true }, {
			gate: gate('review', 0.42, 'technical'),
			review: review('edited'),
		});
		const draft = buildDraft(item, ctx);
		expect(draft).toMatchObject({
			aiKey: 'classify',
			step: 'classify',
			answer: 'technical',
			label: 'technical',
			confidence: 0.42,
			confidenceMethod: 'logprobs',
			needsReview: true,
			provider: 'openai',
			model: 'gpt-4o-mini',
			responseId: 'resp_1',
			gate: { band: 'review', sampled: false },
			review: { decision: 'edited', reviewer: 'ana@example.com', edits: { label: { from: 'billing', to: 'technical' } } },
			usage: { inputTokens: 100, outputTokens: 10 },
			costUsd: 0.001,
			itemIndex: 2,
			workflowId: 'wf',
			executionId: '7',
		});
		expect(draft.input).toBeUndefined();
		const [sealed] = sealRecords('s', GENESIS_HEAD, [draft]);
		expect(auditRecordSchema.safeParse(sealed).success).toBe(true);
	});

	it('hashes only the input fields, not ai / gate / review / audit', () => {
		const plain = buildDraft({ text: 'hello', n: 1 }, ctx);
		const decorated = buildDraft(
			{ ...aiItem('hello', {}, { gate: gate('auto', 0.9, 'billing') }), n: 1, audit: { recordId: 'r' } },
			ctx,
		);
		const other = buildDraft({ text: 'hello!', n: 1 }, ctx);
		expect(decorated.inputHash).toBe(plain.inputHash);
		expect(other.inputHash).not.toBe(plain.inputHash);
		expect(plain.step).toBeNull();
		expect(plain.label).toBeNull();
	});

	it('copies the input only when asked, without secret-looking fields and with personal data masked', () => {
		const item = {
			...aiItem('write to bob@example.com'),
			apiKey: 'sk-live-123',
			nested: { clientSecret: 'shh', accessToken: 't', Password: 'p', keep: 'card 4111 1111 1111 1111' },
		};
		const draft = buildDraft(item, { ...ctx, includeInput: true });
		const text = JSON.stringify(draft);
		for (const secret of ['sk-live-123', 'shh', '"t"', 'bob@example.com', '4111 1111']) expect(text).not.toContain(secret);
		expect(draft.input).toEqual({ text: 'write to [EMAIL]', nested: { keep: 'card [CARD]' } });
		expect(JSON.stringify(buildDraft(item, ctx))).not.toContain('sk-live-123');
	});

	it('records the error of an item routed by Continue On Fail', () => {
		expect(buildDraft(aiItem('x', { error: 'model refused' }), ctx).error).toBe('model refused');
		expect(buildDraft({ text: 'x', error: 'upstream failed' }, ctx).error).toBe('upstream failed');
	});

	it('replaces NUL characters, which PostgreSQL jsonb refuses, before hashing', () => {
		const draft = buildDraft(aiItem('a\u0000b', { answer: 'x\u0000y' }), ctx);
		expect(draft.answer).toBe('x\uFFFDy');
	});
});
