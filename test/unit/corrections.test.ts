/**
 * Learning from corrections (AI Classify and AI Extract, version 3). The selection is tested as a pure function;
 * the nodes run inside n8n's execution engine, read a real audit store (the file sink, and PostgreSQL), and send
 * their requests through the official SDK to the local provider server, which records them: what the model saw
 * is read from the requests themselves.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { buildDraft, type AuditDraft } from '../../nodes/AuditLog/record';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { PgSink } from '../../nodes/AuditLog/sinks/pgSink';
import { correctedAnswer, estimateTokens, examplesBlock, selectCorrections, type CorrectionMatch, type CorrectionSettings } from '../../shared/corrections';
import { jsonWithLogprobs, type ProviderServer, startProviderServer } from '../provider-server';
import { aiItem, review } from './audit-helpers';
import { providerCredentials, runNode } from './helpers/engine';

const WORKFLOW = 'wf-learn';
const categories = { category: ['billing', 'outage', 'access'].map((name) => ({ name, description: `${name} tickets` })) };

/** A record of ticket n: the AI said `from`, a person corrected it to `to`; the logged text has an e-mail and a phone number. */
function correction(n: number, from: string, to: string, extra: Partial<{ step: string; aiKey: string; workflowId: string; decision: 'approved' | 'edited' }> = {}): AuditDraft {
	const json = aiItem(`ticket ${n}`, { answer: from, confidence: 0.6 });
	json.review = { ...review(extra.decision ?? 'edited'), edits: extra.decision === 'approved' ? null : { 'ai.classify.answer': { from, to } } };
	const draft = buildDraft(json, { workflowId: extra.workflowId ?? WORKFLOW, executionId: String(n), nodeName: 'Audit Log', itemIndex: 0, now: new Date(Date.UTC(2026, 10, 1, 0, n)) });
	// written as an older or another writer would: the input not masked (the Audit Log masks it), so the node's own redaction is what is tested
	return { ...draft, input: { text: `Ticket ${n}: customer ana${n}@example.com, phone +49 30 1234 56${String(n).padStart(2, '0')}, writes about ${to}` }, ...(extra.step ? { step: extra.step as AuditDraft['step'] } : {}), ...(extra.aiKey ? { aiKey: extra.aiKey } : {}) };
}

const settings = (over: Partial<CorrectionSettings> = {}): CorrectionSettings => ({
	sink: 'file',
	filePath: '',
	tableName: '',
	stream: 'default',
	textField: 'text',
	maxExamples: 20,
	maxTokens: 2000,
	...over,
});

const names = ['billing', 'outage', 'access'];
const classifyMatch: CorrectionMatch = {
	step: 'classify',
	aiKey: 'classify',
	workflowId: WORKFLOW,
	accept: (answer) => (typeof answer === 'string' && names.includes(answer) ? { label: answer } : undefined),
};

const sealed = (drafts: AuditDraft[]) => drafts.map((d, i) => ({ ...d, stream: 'default', sequence: i + 1 }));

describe('choosing the corrections (pure)', () => {
	it("keeps this step's corrections to today's labels, one per decision, the most recent within the caps, masked", () => {
		const drafts = [
			correction(1, 'outage', 'billing'),
			correction(2, 'outage', 'shipping'), // a label no longer offered
			correction(3, 'billing', 'access', { aiKey: 'classify2' }), // another step's key
			correction(4, 'billing', 'access', { workflowId: 'other' }), // another workflow
			correction(5, 'billing', 'billing', { decision: 'approved' }), // not a correction
			correction(6, 'access', 'outage'),
			correction(7, 'outage', 'access'),
		];
		const examples = selectCorrections(sealed(drafts), classifyMatch, settings());
		expect(examples.map((e) => e.sequence)).toEqual([1, 6, 7]);
		expect(examples.map((e) => e.answer)).toEqual([{ label: 'billing' }, { label: 'outage' }, { label: 'access' }]);
		for (const e of examples) {
			expect(e.text).not.toMatch(/@example\.com|1234/);
			expect(e.text).toMatch(/\[EMAIL\].*\[PHONE\]/);
		}
		// two at most: the two most recent, oldest first
		expect(selectCorrections(sealed(drafts), classifyMatch, settings({ maxExamples: 2 })).map((e) => e.sequence)).toEqual([6, 7]);
		// a token cap that holds the heading and one example
		const one = selectCorrections(sealed(drafts), classifyMatch, settings({ maxTokens: 24 + examples[2].tokens }));
		expect(one.map((e) => e.sequence)).toEqual([7]);
		expect(estimateTokens(examplesBlock(one))).toBeLessThanOrEqual(24 + examples[2].tokens);
	});

	it('reads the corrected answer from the edits under ai.<key>.answer (a whole answer, or fields of a record)', () => {
		expect(correctedAnswer({ answer: 'outage', review: { edits: { 'ai.classify.answer': { from: 'outage', to: 'billing' } } } }, 'classify')).toBe('billing');
		expect(
			correctedAnswer(
				{ answer: { total: 10, customer: { name: 'A' } }, review: { edits: { 'ai.extract.answer.total': { from: 10, to: 12.5 }, 'ai.extract.answer.customer.name': { from: 'A', to: 'Ada' } } } },
				'extract',
			),
		).toEqual({ total: 12.5, customer: { name: 'Ada' } });
	});
});

describe('AI Classify and AI Extract read the corrections once per run and show them to the model', () => {
	let server: ProviderServer;
	let folder: string;
	let filePath: string;
	beforeAll(async () => {
		server = await startProviderServer({ latencyMs: 0 });
		folder = await fs.mkdtemp(join(tmpdir(), 'corrections-'));
		filePath = join(folder, '{stream}.jsonl');
		// 20 corrections of this step, plus noise the node must leave out
		const drafts: AuditDraft[] = [];
		for (let n = 1; n <= 20; n++) drafts.push(correction(n, 'outage', names[n % 3] === 'outage' ? 'billing' : names[n % 3]));
		drafts.push(correction(21, 'outage', 'shipping'), correction(22, 'billing', 'access', { workflowId: 'other' }));
		await new FileSink(filePath).append('learn', drafts);
	});
	afterAll(async () => {
		await server.close();
		await fs.rm(folder, { recursive: true, force: true });
	});
	beforeEach(() => {
		server.reset();
		server.setResponder(() => jsonWithLogprobs({ label: 'billing', reason: 'r', evidence: [] }, { billing: -0.01 }));
	});

	const classify = (typeVersion: number, learn: INodeParameters = {}, texts = ['Ticket 100: I was charged twice', 'Ticket 101: the site is down']) =>
		runNode({
			node: new AiClassify(),
			typeVersion,
			workflowId: WORKFLOW,
			items: texts.map((text) => ({ text })),
			parameters: {
				provider: 'openai',
				[typeVersion >= 2 ? 'openaiModel' : 'model']: 'gpt-4.1-mini',
				text: '={{ $json.text }}',
				categories,
				confidenceMethod: 'logprobs',
				routing: 'single',
				learnFromCorrections: true,
				correctionsFilePath: filePath,
				correctionsStream: 'learn',
				...learn,
			},
			credentials: providerCredentials(server),
		});
	const result = (outputs: INodeExecutionData[][]) => (outputs[0][0].json.ai as IDataObject).classify as IDataObject;

	it('with 20 corrections in the store, every request of the next run carries them: masked, within the token cap, listed, and the prompt hash changes', async () => {
		const without = result(await classify(3, { learnFromCorrections: false }));
		const withoutSystem = server.requests[0].systemText;
		server.reset();

		const reads = jest.spyOn(FileSink.prototype, 'read');
		const outputs = await classify(3, { maxCorrectionTokens: 2000 }, ['Ticket 100: I was charged twice', 'Ticket 101: the site is down', 'Ticket 102: no login']);
		// once per run, however many items
		expect(reads).toHaveBeenCalledTimes(1);
		reads.mockRestore();
		const r = result(outputs);
		expect(server.requests).toHaveLength(3);
		for (const request of server.requests) {
			const system = request.systemText;
			for (let n = 1; n <= 20; n++) expect(system).toContain(`Ticket ${n}: customer [EMAIL], phone [PHONE]`);
			expect(system).not.toMatch(/@example\.com|\+49 30/);
			// noise left out: a label no longer offered, another workflow
			expect(system).not.toMatch(/Ticket 2[12]:/);
			expect(system.startsWith(withoutSystem)).toBe(true);
			// the static part: the item's own text is not in it
			expect(system).not.toContain('Ticket 100');
			const block = system.slice(withoutSystem.length + 1);
			expect(estimateTokens(block)).toBeLessThanOrEqual(2000);
		}
		const used = r.corrections as { count: number; tokens: number; examples: Array<{ sequence: number }> };
		expect(used).toMatchObject({ stream: 'learn', count: 20, maxExamples: 20, maxTokens: 2000 });
		expect(used.examples.map((e) => e.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
		expect(used.tokens).toBe(estimateTokens(server.requests[0].systemText.slice(withoutSystem.length + 1)));
		console.log(`20 corrections: ${used.tokens} estimated tokens in the examples block (cap 2000)`);
		expect(r.promptHash).not.toBe(without.promptHash);
		expect(without.corrections).toBeUndefined();
	});

	it('keeps to a smaller cap: the most recent corrections that fit', async () => {
		const r = result(await classify(3, { maxCorrections: 5, maxCorrectionTokens: 300 }));
		const used = r.corrections as { count: number; tokens: number; examples: Array<{ sequence: number }> };
		expect(used.count).toBeLessThanOrEqual(5);
		expect(used.count).toBeGreaterThan(0);
		expect(used.tokens).toBeLessThanOrEqual(300);
		expect(used.examples.map((e) => e.sequence)).toEqual(Array.from({ length: used.count }, (_, i) => 20 - used.count + 1 + i));
		expect(server.requests[0].systemText).not.toContain('Ticket 1: ');
	});

	it('versions 1 and 2 are unchanged: the same parameters read no store, send the prompt of before, and list nothing', async () => {
		const v3off = result(await classify(3, { learnFromCorrections: false }));
		const system = server.requests[0].systemText;
		for (const version of [1, 2]) {
			server.reset();
			const r = result(await classify(version));
			expect(server.requests[0].systemText).toBe(system);
			expect(r.corrections).toBeUndefined();
			expect(r.promptHash).toBe(v3off.promptHash);
		}
	});

	it('a store that cannot be read fails the item, naming the parameters to check', async () => {
		await expect(classify(3, { correctionsStream: '../x' })).rejects.toMatchObject({
			message: expect.stringMatching(/Could not read the corrections: Stream name "..\/x"/),
			description: expect.stringMatching(/Corrections Stream/),
		});
	});

	it('AI Extract: corrections that fit the record schema become examples; one that does not is left out', async () => {
		const fields = { field: [{ name: 'invoice_number', type: 'string', required: true }, { name: 'total', type: 'number', required: true }] };
		const drafts: AuditDraft[] = [];
		const add = (n: number, to: unknown) => {
			const json = aiItem(`invoice ${n}`, { step: 'extract', answer: { invoice_number: `INV-${n}`, total: 1 } });
			json.review = { ...review('edited'), edits: { 'ai.extract.answer.total': { from: 1, to } } };
			const draft = buildDraft(json, { workflowId: WORKFLOW, executionId: String(n), nodeName: 'Audit Log', itemIndex: 0, now: new Date(Date.UTC(2026, 10, 2, 0, n)) });
			drafts.push({ ...draft, input: { text: `Invoice INV-${n} from bob${n}@example.com, total ${String(to)}` } });
		};
		add(1, 12.5);
		add(2, 'twelve'); // not a number: does not fit the schema
		add(3, 40);
		await new FileSink(filePath).append('extract-learn', drafts);
		server.setResponder(() => ({ json: { invoice_number: { value: 'INV-9', quote: 'INV-9', confidence: 0.9 }, total: { value: 5, quote: '5', confidence: 0.9 } } }));
		const run = (typeVersion: number) =>
			runNode({
				node: new AiExtract(),
				typeVersion,
				workflowId: WORKFLOW,
				items: [{ text: 'Invoice INV-9, total 5' }],
				parameters: {
					provider: 'openai',
					openaiModel: 'gpt-4.1-mini',
					text: '={{ $json.text }}',
					schemaSource: 'fields',
					fields,
					learnFromCorrections: true,
					correctionsFilePath: filePath,
					correctionsStream: 'extract-learn',
				},
				credentials: providerCredentials(server),
			});
		const outputs = await run(3);
		const system = server.requests[0].systemText;
		expect(system).toContain('Text: "Invoice INV-1 from [EMAIL], total 12.5"\nAnswer: {"invoice_number":"INV-1","total":12.5}');
		expect(system).toContain('Answer: {"invoice_number":"INV-3","total":40}');
		expect(system).not.toContain('INV-2');
		const r = (outputs.flat()[0].json.ai as IDataObject).extract as IDataObject;
		expect(r.corrections).toMatchObject({ count: 2, stream: 'extract-learn' });
		server.reset();
		const old = (((await run(2)).flat()[0].json.ai as IDataObject).extract as IDataObject);
		expect(server.requests[0].systemText).not.toContain('INV-1');
		expect(old.corrections).toBeUndefined();
		expect(old.promptHash).not.toBe(r.promptHash);
	});

	it('reads the corrections from PostgreSQL too', async () => {
		const table = `corrections_${randomBytes(4).toString('hex')}`;
		const credentials = { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER || 'postgres', password: '', ssl: 'disable' as const };
		const sink = new PgSink(credentials, table);
		try {
			await sink.append('learn', [correction(1, 'outage', 'billing'), correction(2, 'billing', 'access')]);
			const outputs = await runNode({
				node: new AiClassify(),
				workflowId: WORKFLOW,
				items: [{ text: 'Ticket 100: I was charged twice' }],
				parameters: {
					provider: 'openai',
					openaiModel: 'gpt-4.1-mini',
					text: '={{ $json.text }}',
					categories,
					confidenceMethod: 'logprobs',
					routing: 'single',
					learnFromCorrections: true,
					correctionsSink: 'postgres',
					correctionsTable: table,
					correctionsStream: 'learn',
				},
				credentials: { ...providerCredentials(server), governedAiPostgres: credentials as unknown as Record<string, string> },
			});
			expect(result(outputs).corrections).toMatchObject({ count: 2 });
			expect(server.requests[0].systemText).toContain('Ticket 2: customer [EMAIL], phone [PHONE], writes about access"\nAnswer: {"label":"access"}');
		} finally {
			await sink.close();
			const admin = new Pool({ host: '127.0.0.1', port: 5432, database: 'test', user: credentials.user, max: 1 });
			await admin.query(`DROP TABLE IF EXISTS ${table}`);
			await admin.end();
		}
	});
});
