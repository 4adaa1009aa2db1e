/**
 * The published wire formats (the JSON Schemas the build ships in dist/schemas) checked with an independent
 * validator (Ajv, draft 2020-12) against real artefacts: audit records built by the record builder and read
 * back from a real file sink (and the v1 fixture), decisions as the JSON call posts them, notifications as
 * notify.ts builds them. The files are written by the build's own script, and the runtime's verdict (the same
 * schema through jsonSchemaToZod) is compared with Ajv's, so published and enforced cannot drift apart.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

import { verifyStream } from '../../nodes/AuditLog/chain';
import { auditRecordSchema, buildDraft, buildTrustChangeDraft } from '../../nodes/AuditLog/record';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { parseJsonSubmission, resolveSubmission, ReviewInputError } from '../../nodes/HumanCheckpoint/decisions';
import { buildNotification } from '../../nodes/HumanCheckpoint/notify';
import { buildOutputs } from '../../nodes/HumanCheckpoint/outputs';
import { toGateReviewItem, toReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import { withAiResult } from '../../shared/contract';
import { aiItem, gate, review } from './audit-helpers';
import { aiResult, classifiedItem, extractedItem } from './checkpoint-fixtures';

interface WireFormat {
	file: string;
	module: string;
	name: string;
}
// the build's own writer (plain JS, run by `npm run build`), so the test checks the files it writes
// eslint-disable-next-line @typescript-eslint/no-require-imports
const writer = require('../../scripts/write-schemas.js') as {
	WIRE_FORMATS: WireFormat[];
	schemaText: (schema: unknown) => string;
	writeSchemas: (root: string, outDir: string) => string[];
};

const root = join(__dirname, '..', '..');
const RECORD = 'audit-record.schema.json';
const DECISION = 'review-decision.schema.json';
const NOTIFICATION = 'review-notification.schema.json';

let outDir: string;
const validators: Record<string, ValidateFunction> = {};

function problems(file: string, value: unknown): string[] {
	const validate = validators[file];
	return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

beforeAll(async () => {
	outDir = await fs.mkdtemp(join(tmpdir(), 'wire-formats-'));
	const written = writer.writeSchemas(root, outDir);
	expect(written.map((f) => f.slice(outDir.length + 1)).sort()).toEqual([RECORD, DECISION, NOTIFICATION]);
	// strict: an unknown keyword or format in a shipped schema fails here
	const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
	addFormats(ajv);
	for (const file of [RECORD, DECISION, NOTIFICATION]) {
		validators[file] = ajv.compile(JSON.parse(await fs.readFile(join(outDir, file), 'utf8')));
	}
});

afterAll(async () => {
	await fs.rm(outDir, { recursive: true, force: true });
});

describe('the shipped files', () => {
	it('are the TypeScript constants, written by the build script; a built dist/schemas holds the same text', () => {
		for (const { file, module, name } of writer.WIRE_FORMATS) {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			const constant = (require(join(root, module)) as Record<string, unknown>)[name];
			const text = writer.schemaText(constant);
			expect(readFileSync(join(outDir, file), 'utf8')).toBe(text);
			expect(JSON.parse(text)).toEqual(constant);
			expect(constant).toMatchObject({ $id: expect.stringContaining(`/dist/schemas/${file}`), title: expect.any(String), description: expect.any(String) });
			// a stale build would ship a stale schema (npm pack skips prepack here): rebuild after changing one
			const built = join(root, 'dist', 'schemas', file);
			if (existsSync(built)) expect({ file, text: readFileSync(built, 'utf8') }).toEqual({ file, text });
		}
		const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string }; files: string[] };
		expect(pkg.scripts.build).toContain('node scripts/write-schemas.js');
		expect(pkg.files).toContain('dist');
	});
});

describe('audit record', () => {
	let dir: string;
	beforeAll(async () => {
		dir = await fs.mkdtemp(join(tmpdir(), 'wire-audit-'));
	});
	afterAll(async () => {
		await fs.rm(dir, { recursive: true, force: true });
	});

	/** Items as they reach an Audit Log in real flows. */
	function items(): Array<Record<string, unknown>> {
		const reviewed = classifiedItem('Please refund invoice 42', 'billing');
		// a real checkpoint decision with an edit: the review as Human Checkpoint writes it
		const [, approved] = buildOutputs(
			[{ json: reviewed }],
			{ reviewer: 'ada@example.com', decisions: [{ index: 0, action: 'approve', newAnswer: 'refund', changed: true, comment: 'a refund' }] },
			{ keys: ['classify'], decidedAt: new Date('2026-01-01T10:00:00.000Z'), pausedAt: new Date('2026-01-01T09:50:00.000Z') },
		);
		const decided = withAiResult({ ticket: 'Replace my lamp', apiKey: 'sk-secret' }, 'decide', {
			...aiResult('decide', 'send_replacement'),
			requiresApproval: true,
		});
		return [
			aiItem('a plain classification'),
			aiItem('past a gate and a person', {}, { gate: gate('review', 0.55, 'billing', true), review: review('rejected') }),
			approved[0].json,
			extractedItem({ invoice_number: 'INV-1', total: 12.5, customer: { name: 'ACME' } }),
			withAiResult(classifiedItem('two steps', 'billing'), 'decide', aiResult('decide', 'refund')),
			aiItem('multi-label', { answer: ['refund', 'billing'], confidence: null }),
			aiItem('failed', { error: 'The model refused', confidence: null }),
			decided,
			{ text: 'no AI result at all', error: { message: 'an earlier node failed' } },
		];
	}

	it('records built by the record builder and read back from a file sink validate, with and without the input copy', async () => {
		const sink = new FileSink(join(dir, 'records.jsonl'));
		const drafts = items().map((json, itemIndex) =>
			buildDraft(json, { workflowId: 'wf1', executionId: '7', nodeName: 'Audit Log', itemIndex, includeInput: itemIndex % 3 !== 1 }),
		);
		await sink.append('default', drafts);
		const stored: unknown[] = [];
		for await (const page of sink.read('default')) stored.push(...page);
		expect(stored).toHaveLength(drafts.length);
		// the items above really cover what the schema describes
		expect(stored).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ review: expect.objectContaining({ decision: 'edited', edits: { 'ai.classify.answer': { from: 'billing', to: 'refund' } } }) }),
				expect.objectContaining({ gate: expect.objectContaining({ band: 'review', sampled: true }) }),
				expect.objectContaining({ input: expect.objectContaining({ doc: 'invoice.pdf' }) }),
				expect.objectContaining({ steps: [expect.objectContaining({ key: 'classify' }), expect.objectContaining({ key: 'decide' })] }),
				expect.objectContaining({ aiKey: null, answer: null, error: 'an earlier node failed' }),
			]),
		);
		for (const record of stored) {
			expect(problems(RECORD, record)).toEqual([]);
			expect(auditRecordSchema.safeParse(record).success).toBe(true);
		}
	});

	it('v3 records validate: a trust change, and a decision a Shadow or Earned gate routed, chained with the rest', async () => {
		const sink = new FileSink(join(dir, 'records-v3.jsonl'));
		const earnedGate = { band: 'review', confidence: 0.95, high: 0.85, low: 0.4, sampled: true, mode: 'earned', source: 'ai.classify', label: 'billing', reason: 'audit sample', wouldBe: 'auto', trust: { label: 'billing', stage: 'auto', reviewed: 0, agreed: 0, audits: 3, auditsAgreed: 3, changed: null } };
		const shadowGate = { ...earnedGate, sampled: false, mode: 'shadow', wouldBe: 'reject', trust: undefined };
		const drafts = [
			buildTrustChangeDraft(
				{ label: 'billing', from: 'review', to: 'auto', reason: '194 of 200 agreed', reviewed: 200, agreed: 194, lowerBound: 0.936, target: 0.9, minReviewed: 200, windowDays: 30, auditWindow: 20, gateNode: 'Gate' },
				{ workflowId: 'wf1', executionId: '7', nodeName: 'Gate' },
			),
			buildDraft({ ...aiItem('x'), gate: earnedGate, review: review('approved') }, { workflowId: 'wf1', executionId: '7', nodeName: 'Audit Log', itemIndex: 0 }),
			buildDraft({ ...aiItem('y'), gate: shadowGate, review: review('approved') }, { workflowId: 'wf1', executionId: '7', nodeName: 'Audit Log', itemIndex: 1 }),
		];
		await sink.append('default', drafts);
		const stored: unknown[] = [];
		for await (const page of sink.read('default')) stored.push(...page);
		expect(stored).toEqual([
			expect.objectContaining({ v: 3, kind: 'trust-change', trust: expect.objectContaining({ label: 'billing', to: 'auto' }), step: null, label: 'billing' }),
			expect.objectContaining({ v: 3, gate: expect.objectContaining({ stage: 'auto', wouldBe: 'auto', sampled: true }) }),
			expect.objectContaining({ v: 3, gate: expect.objectContaining({ mode: 'shadow', wouldBe: 'reject' }) }),
		]);
		for (const record of stored) {
			expect(problems(RECORD, record)).toEqual([]);
			expect(auditRecordSchema.safeParse(record).success).toBe(true);
		}
		expect(await verifyStream(sink, 'default')).toMatchObject({ valid: true, records: 3 });
	});

	it('the v1 records of the fixture validate', () => {
		const lines = readFileSync(join(__dirname, 'fixtures', 'audit-v1.jsonl'), 'utf8').split('\n').filter(Boolean);
		expect(lines.length).toBeGreaterThan(0);
		for (const line of lines) {
			const record = JSON.parse(line) as Record<string, unknown>;
			expect(record.v).toBe(1);
			expect(problems(RECORD, record)).toEqual([]);
			expect(auditRecordSchema.safeParse(record).success).toBe(true);
		}
	});

	it('a broken record fails both the shipped schema and the report\'s reading of it', () => {
		const record = buildDraft(aiItem('x'), { workflowId: null, executionId: null, nodeName: null, itemIndex: 0 });
		const sealed = { ...record, stream: 'default', sequence: 1, prevHash: '0'.repeat(64), prevRecordId: null, hash: 'h' };
		expect(problems(RECORD, sealed)).toEqual([]);
		const broken: Array<[string, Record<string, unknown>]> = [
			['/v', { ...sealed, v: 4 }],
			['/kind', { ...sealed, kind: 'opinion' }],
			['/trust', { ...sealed, kind: 'trust-change', trust: { label: 'billing', from: 'review', to: 'sideways', reason: 'r', reviewed: 1, agreed: 1, target: 0.9 } }],
			['/gate/wouldBe', { ...sealed, gate: { ...sealed.gate!, wouldBe: 'maybe' } }],
			['/sequence', { ...sealed, sequence: 0 }],
			['/confidenceMethod', { ...sealed, confidenceMethod: 'guess' }],
			['/review/decision', { ...sealed, review: { ...review('approved'), decision: 'maybe' } }],
			['/steps/0/usage', { ...sealed, steps: [{ ...sealed.steps![0], usage: null }] }],
			['/', { ...sealed, hash: undefined }],
		];
		for (const [where, value] of broken) {
			expect(problems(RECORD, JSON.parse(JSON.stringify(value))).join('; ')).toContain(where);
			expect(auditRecordSchema.safeParse(value).success).toBe(false);
		}
	});
});

describe('review decision (the JSON call)', () => {
	const paused = [
		{ index: 0, key: 'classify', answer: 'billing' },
		{ index: 1, key: 'extract', answer: { total: 12.5, customer: { name: 'ACME' } } },
		{ index: 2, key: 'decide', answer: 'refund' },
	];

	// the README's example and the shapes the e2e reviewers post
	const valid: unknown[] = [
		{
			reviewer: 'ada@example.com',
			comment: 'optional, for every item without its own',
			items: [
				{ index: 0, decision: 'approve', edits: 'refund', comment: 'A refund' },
				{ index: 1, decision: 'approve', edits: { total: 12.5, 'customer.vat': 'DE1' } },
				{ index: 2, decision: 'reject' },
			],
		},
		{ items: [{ index: 0, decision: 'approve' }, { index: 1, decision: 'approve', answer: { total: 1 } }, { index: 2, decision: 'reject' }] },
	];
	const invalid: Array<[string, unknown]> = [
		['an unknown action', { reviewer: 'x', items: [{ index: 0, decision: 'approve-all' }] }],
		['no items', { reviewer: 'x', items: [] }],
		['a negative index', { items: [{ index: -1, decision: 'reject' }] }],
		['a fractional index', { items: [{ index: 0.5, decision: 'reject' }] }],
		['no decision', { items: [{ index: 0 }] }],
		['a reviewer that is not text', { reviewer: 42, items: [{ index: 0, decision: 'reject' }] }],
		['a comment over 10,000 characters', { items: [{ index: 0, decision: 'reject', comment: 'x'.repeat(10_001) }] }],
		['not an object', 'approve all'],
	];

	it('valid calls pass the shipped schema and the node, which resolves them', () => {
		for (const body of valid) {
			expect(problems(DECISION, body)).toEqual([]);
			const resolved = resolveSubmission(parseJsonSubmission(body), paused, 'ada');
			expect(resolved.decisions).toHaveLength(3);
		}
	});

	it.each(invalid)('%s fails the shipped schema and the node alike', (_what, body) => {
		expect(problems(DECISION, body)).not.toEqual([]);
		expect(() => parseJsonSubmission(body)).toThrow(ReviewInputError);
	});

	it('fields the schema does not name: refused by the schema, ignored by the node (as before)', () => {
		const body = { reviewer: 'x', status: 'done', items: [{ index: 0, decision: 'reject', note: 'typo for comment' }] };
		expect(problems(DECISION, body)).toHaveLength(2);
		expect(parseJsonSubmission(body)).toEqual({ reviewer: 'x', items: [{ index: 0, decision: 'reject' }] });
	});
});

describe('review notification', () => {
	it('what notify.ts sends for AI results, long answers and many items validates', () => {
		const long = 'x'.repeat(500);
		const json = [
			classifiedItem('Please refund invoice 42', 'billing'),
			extractedItem({ invoice_number: 'INV-1', notes: long }),
			withAiResult({ ticket: 'Replace my lamp' }, 'decide', aiResult('decide', 'send_replacement', { confidence: null })),
			{ ticket: 'no AI result' },
			...Array.from({ length: 60 }, (_, i) => classifiedItem(`ticket ${i}`, long)),
		];
		const note = buildNotification('Review AI results', 'https://n8n.example/webhook-waiting/42/node?signature=abc', json.map((j, i) => toReviewItem(j, i)), new Date('2026-01-01T12:00:00.000Z'));
		expect(note.items).toHaveLength(50);
		expect(note.items[1].answer).toEqual(expect.stringMatching(/…$/));
		expect(note.items[3]).toEqual({ index: 3, answer: null, confidence: null, reason: null });
		expect(problems(NOTIFICATION, JSON.parse(JSON.stringify(note)))).toEqual([]);
	});

	it('what it sends for an AI Agent\'s tool call validates', () => {
		const gateItem = { chatInput: 'Where is my order?', toolParameters: { orderId: 'A-1' }, tool: 'lookup_order', toolCallId: 'call_1' };
		const note = buildNotification('Approve the tool call', 'https://n8n.example/review', [
			toGateReviewItem(gateItem, 0, 'The agent wants to run this tool: lookup_order'),
			toGateReviewItem({ toolParameters: 'raw text' }, 1),
		]);
		expect(note.items[0]).toMatchObject({ tool: 'lookup_order', input: { orderId: 'A-1' } });
		expect(problems(NOTIFICATION, JSON.parse(JSON.stringify(note)))).toEqual([]);
	});

	it('a payload outside the format fails', () => {
		const note = buildNotification('t', 'https://n8n.example/review', [toReviewItem(classifiedItem('a', 'billing'), 0)]);
		expect(problems(NOTIFICATION, { ...note, reviewUrl: 'not a link' })).not.toEqual([]);
		expect(problems(NOTIFICATION, { ...note, items: [{ ...note.items[0], confidence: 1.5 }] })).not.toEqual([]);
		expect(problems(NOTIFICATION, { ...note, items: [{ ...note.items[0], apiKey: 'sk-1' }] })).not.toEqual([]);
		expect(problems(NOTIFICATION, { text: note.text, items: note.items })).not.toEqual([]);
	});
});
