/**
 * The Audit Log node inside n8n's execution engine (n8n-core's WorkflowExecute), writing to a real file sink
 * (and the real PostgreSQL). The proof inside a real n8n is in the e2e suite.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { auditStampSchema } from '../../shared/contract';
import { aiItem, gate, review } from './audit-helpers';
import { type EngineRunOptions, runNode } from './helpers/engine';

const node = new AuditLog();

interface RunOptions {
	params?: INodeParameters;
	continueOnFail?: boolean;
	credentials?: Record<string, unknown>;
}

/** The node as workflow "Triage" (id wf-1) runs it in execution 42. */
function stub(items: INodeExecutionData[], options: RunOptions = {}): EngineRunOptions {
	return {
		node,
		items,
		parameters: options.params ?? {},
		nodeName: 'Audit Log',
		workflowId: 'wf-1',
		workflowName: 'Triage',
		executionId: '42',
		onError: options.continueOnFail ? 'continueRegularOutput' : undefined,
		credentials: options.credentials ? { governedAiPostgres: options.credentials as Record<string, string> } : undefined,
	};
}

const run = (options: EngineRunOptions) => runNode(options);

describe('Audit Log node', () => {
	let userFolder: string;
	const previous = process.env.N8N_USER_FOLDER;

	beforeAll(async () => {
		userFolder = await fs.mkdtemp(join(tmpdir(), 'audit-node-'));
		process.env.N8N_USER_FOLDER = userFolder;
	});
	afterAll(async () => {
		if (previous === undefined) delete process.env.N8N_USER_FOLDER;
		else process.env.N8N_USER_FOLDER = previous;
		await fs.rm(userFolder, { recursive: true, force: true });
	});

	const input = (): INodeExecutionData[] =>
		[
			{ json: aiItem('invoice missing', { answer: 'billing', confidence: 0.93 }, { gate: gate('auto', 0.93, 'billing') }) },
			{ json: { ...aiItem('printer broken', { answer: 'technical', confidence: 0.5, needsReview: true }), review: review('approved') } },
			{ json: aiItem('??', { answer: 'other', confidence: 0.2 }), binary: { data: { data: 'eA==', mimeType: 'text/plain' } } },
		] as INodeExecutionData[];

	it('with zero configuration after an AI node: appends to the default file, keeps the items and stamps them', async () => {
		const items = input();
		const [out] = await run(stub(items));
		expect(out).toHaveLength(3);
		out.forEach((item, i) => {
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.json.text).toBe(items[i].json.text);
			expect(item.json.ai).toEqual(items[i].json.ai);
			expect(auditStampSchema.parse(item.json.audit)).toMatchObject({ stream: 'default', sequence: i + 1 });
		});
		expect(out[2].binary).toEqual(items[2].binary);
		const lines = (await fs.readFile(join(userFolder, '.n8n', 'governed-ai-audit', 'default.jsonl'), 'utf8')).trim().split('\n');
		expect(lines).toHaveLength(3);
		expect(JSON.parse(lines[1])).toMatchObject({
			workflowId: 'wf-1',
			executionId: '42',
			nodeName: 'Audit Log',
			itemIndex: 1,
			label: 'technical',
			review: { decision: 'approved' },
			hash: (out[1].json.audit as { hash: string }).hash,
		});
	});

	it('verifies the stream, and names an edit', async () => {
		const [[ok]] = await run(stub(input(), { params: { operation: 'verify' } }));
		expect(ok.json).toMatchObject({ valid: true, records: 3, firstBad: null, stream: 'default' });
		expect(ok.pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);

		const path = join(userFolder, '.n8n', 'governed-ai-audit', 'default.jsonl');
		const text = await fs.readFile(path, 'utf8');
		await fs.writeFile(path, text.replace('"label":"technical"', '"label":"billing"'));
		const [[bad]] = await run(stub(input(), { params: { operation: 'verify' } }));
		expect(bad.json).toMatchObject({ valid: false, firstBad: { problem: 'edited', sequence: 2 } });
		await fs.writeFile(path, text);
	});

	it('reports as JSON and HTML, optionally as a binary report.html', async () => {
		const [[item]] = await run(
			stub(input(), { params: { operation: 'report', window: 'all', options: { htmlAsBinary: true, binaryPropertyName: 'page' } } }),
		);
		expect(item.json).toMatchObject({ stream: 'default', records: 3, gate: { gated: 1, auto: 1 } });
		expect(String(item.json.html)).toMatch(/^<!DOCTYPE html>/);
		expect(item.binary?.page).toMatchObject({ fileName: 'report.html', mimeType: 'text/html' });
	});

	it('verifies and reports records given as input items', async () => {
		const path = join(userFolder, '.n8n', 'governed-ai-audit', 'default.jsonl');
		const records = (await fs.readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
		const [[ok]] = await run(stub([{ json: { stream: 'default', records } }], { params: { operation: 'verify', source: 'input' } }));
		expect(ok.json).toMatchObject({ valid: true, records: 3 });
		const [[gap]] = await run(
			stub([{ json: records[0] }, { json: records[2] }], { params: { operation: 'verify', source: 'input' } }),
		);
		expect(gap.json).toMatchObject({ valid: false, firstBad: { problem: 'deleted', sequence: 2, recordId: records[1].recordId } });
	});

	it('names the item and the field of a bad stream name; with Continue On Fail only that item fails', async () => {
		const params = { stream: "={{ $json.text === 'printer broken' ? '../x' : 'default' }}" };
		await expect(run(stub(input(), { params }))).rejects.toMatchObject({
			name: 'NodeOperationError',
			context: { itemIndex: 1 },
			message: expect.stringMatching(/Stream name "..\/x"/),
		});
		const [out] = await run(stub(input(), { params, continueOnFail: true }));
		expect(out).toHaveLength(3);
		expect(out[1].json).toMatchObject({ text: 'printer broken', error: expect.stringMatching(/Stream name/) });
		expect(out[1].pairedItem).toEqual({ item: 1 });
		expect(out[0].json.audit).toBeDefined();
		expect(out[2].json.audit).toBeDefined();
	});

	it('when the sink fails, every item of the batch fails (or errors with Continue On Fail)', async () => {
		const params = { filePath: '/dev/null/cannot/{stream}.jsonl' };
		await expect(run(stub(input(), { params }))).rejects.toMatchObject({ context: { itemIndex: 0 } });
		const [out] = await run(stub(input(), { params, continueOnFail: true }));
		expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		for (const item of out) {
			expect(item.json.error).toMatch(/ENOTDIR|directory/i);
			expect(item.json.audit).toBeUndefined();
		}
	});

	it('checks the report window', async () => {
		await expect(
			run(stub(input(), { params: { operation: 'report', window: 'range', from: 'yesterday-ish' } })),
		).rejects.toThrow(/"From" is not a date/);
	});

	it('appends to PostgreSQL with the governedAiPostgres credential, and the credential test connects', async () => {
		const table = `audit_node_${randomBytes(4).toString('hex')}`;
		const credentials = { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER || 'postgres', password: '', ssl: 'disable' };
		const admin = new Pool({ host: '127.0.0.1', port: 5432, database: 'test', user: credentials.user, max: 1 });
		try {
			const [out] = await run(stub(input(), { params: { sink: 'postgres', tableName: table, stream: 'pg' }, credentials }));
			expect(out.map((o) => (o.json.audit as { sequence: number }).sequence)).toEqual([1, 2, 3]);
			const [[verified]] = await run(stub(input(), { params: { operation: 'verify', sink: 'postgres', tableName: table, stream: 'pg' }, credentials }));
			expect(verified.json).toMatchObject({ valid: true, records: 3 });
			const rows = await admin.query(`SELECT count(*)::int AS n FROM ${table}`);
			expect(rows.rows[0].n).toBe(3);

			const test = node.methods.credentialTest.governedAiPostgresConnectionTest;
			const ok = await test.call({} as never, { id: '1', name: 'pg', type: 'governedAiPostgres', data: credentials });
			expect(ok.status).toBe('OK');
			const bad = await test.call({} as never, { id: '1', name: 'pg', type: 'governedAiPostgres', data: { ...credentials, port: 1 } });
			expect(bad.status).toBe('Error');
		} finally {
			await admin.query(`DROP TABLE IF EXISTS ${table}`);
			await admin.end();
		}
	});
});
