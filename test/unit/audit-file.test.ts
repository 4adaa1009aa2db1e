/**
 * The file sink under real concurrency: two OS processes, each with two concurrent writers (as two n8n
 * processes running two executions each), append 1,000 records apiece to one JSONL file.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';

import { verifyStream } from '../../nodes/AuditLog/chain';
import { FileSink, auditFilePath, defaultAuditFolder } from '../../nodes/AuditLog/sinks/fileSink';
import type { AuditRecord } from '../../nodes/AuditLog/record';
import { drafts } from './audit-helpers';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Transpiles the audit core to CommonJS under .cache/ so plain `node` child processes can load it. */
async function buildForChildren(): Promise<string> {
	const out = await fs.mkdtemp(join(root, '.cache', 'audit-test-'));
	// all of shared/ and the Audit Log's folder: the audit core's imports change, a hand-kept list of them does not
	const sources: string[] = [];
	for (const folder of ['shared', join('nodes', 'AuditLog')]) {
		const files = (await fs.readdir(join(root, folder), { recursive: true })) as string[];
		sources.push(...files.map((f) => join(folder, f)).filter((f) => f.endsWith('.ts')));
	}
	for (const file of sources) {
		const code = await fs.readFile(join(root, file), 'utf8');
		const { outputText } = ts.transpileModule(code, {
			compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
		});
		const target = join(out, file.replace(/\.ts$/, '.js'));
		await fs.mkdir(dirname(target), { recursive: true });
		await fs.writeFile(target, outputText);
	}
	await fs.writeFile(
		join(out, 'writer.js'),
		`const { FileSink } = require('./nodes/AuditLog/sinks/fileSink');
const { buildDraft } = require('./nodes/AuditLog/record');
const [path, tag, perWriter, writers] = process.argv.slice(2);
async function writer(w) {
	const sink = new FileSink(path);
	const stamps = [];
	let i = 0;
	let x = w + tag.length * 7;
	while (i < Number(perWriter)) {
		x = (x * 1103515245 + 12345) % 2147483648;
		const size = Math.min(Number(perWriter) - i, 1 + (x % 20));
		const batch = [];
		for (let k = 0; k < size; k++, i++) {
			batch.push(buildDraft({ text: tag + '-' + w + '-' + i }, { workflowId: 'wf', executionId: tag + '-' + w, nodeName: 'Audit Log', itemIndex: k }));
		}
		for (const r of await sink.append('default', batch)) stamps.push([r.recordId, r.sequence, r.hash]);
	}
	return stamps;
}
Promise.all(Array.from({ length: Number(writers) }, (_, w) => writer(w)))
	.then((all) => process.stdout.write(JSON.stringify(all.flat())))
	.catch((e) => { console.error(e); process.exit(1); });
`,
	);
	return out;
}

async function readAll(sink: FileSink, stream = 'default'): Promise<unknown[]> {
	const out: unknown[] = [];
	for await (const page of sink.read(stream)) out.push(...page);
	return out;
}

describe('file sink', () => {
	jest.setTimeout(120_000);
	let dir: string;
	let built: string;

	beforeAll(async () => {
		dir = await fs.mkdtemp(join(tmpdir(), 'audit-file-'));
		await fs.mkdir(join(root, '.cache'), { recursive: true });
		built = await buildForChildren();
	});

	afterAll(async () => {
		await fs.rm(dir, { recursive: true, force: true });
		await fs.rm(built, { recursive: true, force: true });
	});

	it('defaults to <N8N_USER_FOLDER>/.n8n/governed-ai-audit/<stream>.jsonl and fills {stream} in a configured path', () => {
		expect(defaultAuditFolder({ N8N_USER_FOLDER: '/srv/n8n' })).toBe('/srv/n8n/.n8n/governed-ai-audit');
		expect(auditFilePath('x', '/data/{stream}.jsonl')).toBe('/data/x.jsonl');
		expect(() => auditFilePath('../etc/passwd')).toThrow(/not allowed/);
	});

	it('2 processes × 2 concurrent writers × 1,000 records: gap-free, valid; an edited line and a deleted line are named', async () => {
		const path = join(dir, 'concurrent.jsonl');
		const children = ['p1', 'p2'].map((tag) =>
			run(process.execPath, [join(built, 'writer.js'), path, tag, '1000', '2'], { cwd: built, maxBuffer: 64 * 1024 * 1024 }),
		);
		const stamps = (await Promise.all(children)).flatMap((c) => JSON.parse(c.stdout) as Array<[string, number, string]>);
		expect(stamps).toHaveLength(4000);
		expect(new Set(stamps.map((s) => s[1])).size).toBe(4000);

		const sink = new FileSink(path);
		const stored = (await readAll(sink)) as AuditRecord[];
		expect(stored.map((r) => r.sequence)).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
		const byId = new Map(stored.map((r) => [r.recordId, r]));
		for (const [id, sequence, hash] of stamps) expect(byId.get(id)).toMatchObject({ sequence, hash });
		// the four writers really interleaved
		const switches = stored.filter((r, i) => i > 0 && r.executionId !== stored[i - 1].executionId).length;
		expect(switches).toBeGreaterThan(3);
		expect(await verifyStream(sink, 'default')).toMatchObject({ valid: true, records: 4000, lastSequence: 4000 });
		await expect(fs.access(`${path}.lock`)).rejects.toThrow();

		const original = await fs.readFile(path, 'utf8');
		const lines = original.split('\n');
		lines[2499] = lines[2499].replace(/"label":null/, '"label":"refund"');
		expect(lines.join('\n')).not.toBe(original);
		await fs.writeFile(path, lines.join('\n'));
		expect((await verifyStream(sink, 'default')).firstBad).toMatchObject({
			problem: 'edited',
			sequence: 2500,
			recordId: stored[2499].recordId,
		});

		const withoutLine = original.split('\n');
		withoutLine.splice(99, 1);
		await fs.writeFile(path, withoutLine.join('\n'));
		expect((await verifyStream(sink, 'default')).firstBad).toMatchObject({
			problem: 'deleted',
			sequence: 100,
			recordId: stored[99].recordId,
		});
	});

	it('continues the sequence from the last line, one file per stream', async () => {
		const path = join(dir, '{stream}.jsonl');
		const first = await new FileSink(path).append('s1', drafts(3, 'a'));
		const second = await new FileSink(path).append('s1', drafts(2, 'b'));
		expect(second.map((r) => r.sequence)).toEqual([4, 5]);
		expect(second[0].prevHash).toBe(first[2].hash);
		await fs.copyFile(join(dir, 's1.jsonl'), join(dir, 'fixed.jsonl'));
		await expect(new FileSink(join(dir, 'fixed.jsonl')).append('s2', drafts(1, 'c'))).rejects.toThrow(/holds the stream "s1"/);
	});

	it('refuses to append after a torn last line, and Verify names it', async () => {
		const path = join(dir, 'torn.jsonl');
		const sink = new FileSink(path);
		await sink.append('default', drafts(3, 't'));
		await fs.appendFile(path, '{"v":1,"recordId":"half');
		await expect(sink.append('default', drafts(1, 'u'))).rejects.toThrow(/incomplete line/);
		expect((await verifyStream(sink, 'default')).firstBad).toMatchObject({ problem: 'malformed', position: 4 });
	});

	it('takes over a lock left by a dead process, and waits for a live one', async () => {
		const path = join(dir, 'locked.jsonl');
		// a pid that cannot be running: above the kernel's pid_max
		await fs.writeFile(`${path}.lock`, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), at: Date.now() }));
		expect(await new FileSink(path).append('default', drafts(1, 'l'))).toHaveLength(1);

		await fs.writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
		await expect(new FileSink(path, { timeoutMs: 300 }).append('default', drafts(1, 'm'))).rejects.toThrow(/Timed out/);
		await fs.unlink(`${path}.lock`);
		const records = await new FileSink(path).append('default', drafts(1, 'n'));
		expect(records[0].sequence).toBe(2);
	});

	it('reads only the records inside a time window', async () => {
		const path = join(dir, 'window.jsonl');
		const sink = new FileSink(path);
		await sink.append('default', drafts(4, 'w'));
		const pages: unknown[] = [];
		for await (const page of sink.read('default', { from: '2000-01-01T00:00:00Z', to: '2000-02-01T00:00:00Z' })) pages.push(...page);
		expect(pages).toHaveLength(0);
		expect(await readAll(sink)).toHaveLength(4);
		expect(relative(dir, sink.pathOf('default'))).toBe('window.jsonl');
	});
});
