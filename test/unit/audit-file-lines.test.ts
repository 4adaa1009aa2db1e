/**
 * The file sink reads its log in 1 MB chunks split on the newline byte: lines that cross a chunk boundary,
 * characters of several bytes cut by one, Windows line ends and a last line without a newline all read back whole.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { verifyStream } from '../../nodes/AuditLog/chain';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import { drafts } from './audit-helpers';

async function readAll(sink: FileSink, stream: string): Promise<unknown[]> {
	const out: unknown[] = [];
	for await (const page of sink.read(stream)) out.push(...page);
	return out;
}

describe('file sink: reading lines', () => {
	jest.setTimeout(120_000);
	let dir: string;
	beforeAll(async () => (dir = await fs.mkdtemp(join(tmpdir(), 'audit-lines-'))));
	afterAll(async () => await fs.rm(dir, { recursive: true, force: true }));

	it('lines across 1 MB chunks, multi-byte characters cut by a chunk, CRLF and no final newline', async () => {
		// 'é' is 2 bytes, '€' 3, '😀' 4 (a surrogate pair): a 1 MB boundary falls inside some of them
		const long = 'é€😀x'.repeat(150_000); // about 1.5 MB as UTF-8, longer than a chunk
		const values = [
			{ n: 1, text: 'a' },
			{ n: 2, text: long },
			{ n: 3, text: 'b'.repeat(1 << 20) }, // exactly a chunk of text
			{ n: 4, text: 'ünïcödé' },
			{ n: 5, text: 'last, no newline' },
		];
		const lines = values.map((v) => JSON.stringify(v));
		// Windows line ends on some lines, an empty line, no newline after the last
		const content = `${lines[0]}\r\n${lines[1]}\n\n${lines[2]}\r\n${lines[3]}\n${lines[4]}`;
		await fs.writeFile(join(dir, 'lines.jsonl'), content);
		expect(await readAll(new FileSink(join(dir, '{stream}.jsonl')), 'lines')).toEqual(values);
	});

	it('a chain of records written by the sink verifies when its lines cross many chunks', async () => {
		const sink = new FileSink(join(dir, '{stream}.jsonl'));
		// records of about 3 kB: 1,000 of them are 3 MB, so several lines cross each 1 MB boundary
		const batch = drafts(1000, 'big').map((d, i) => ({ ...d, note: `${'ü'.repeat(1000)}${i}` }));
		await sink.append('chain', batch);
		const result = await verifyStream(sink, 'chain');
		expect(result).toMatchObject({ valid: true, records: 1000, lastSequence: 1000 });
		const read = (await readAll(sink, 'chain')) as Array<{ note: string }>;
		expect(read[999].note).toBe(`${'ü'.repeat(1000)}999`);
	});
});
