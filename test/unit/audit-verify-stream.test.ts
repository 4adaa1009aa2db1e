/**
 * Verify streams: it checks a stream page by page as the sink reads it, never holding the stream, and the file
 * sink reads its file in pages. Counts, not times or heap sizes (those are in bench/RESULTS.md).
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GENESIS_HEAD, headOf, sealRecords, verifyStream, type ChainHead } from '../../nodes/AuditLog/chain';
import { FileSink } from '../../nodes/AuditLog/sinks/fileSink';
import type { AuditSink } from '../../nodes/AuditLog/sinks/sink';
import { drafts } from './audit-helpers';

jest.setTimeout(180_000);

/** A page that notes when the verifier starts reading it. */
function watched(records: unknown[], onRead: () => void): unknown[] {
	return new Proxy(records, {
		get(target, key, receiver) {
			if (key === Symbol.iterator) onRead();
			return Reflect.get(target, key, receiver) as unknown;
		},
	});
}

/**
 * A sink that makes its records as they are asked for (a chain of `pages` × `size`), and notes how far ahead of
 * the verifier its reading ever got.
 */
function generatedSink(pages: number, size: number) {
	const template = drafts(size, 'stream');
	const stats = { produced: 0, checked: 0, maxAhead: 0 };
	const sink: AuditSink = {
		append: () => Promise.reject(new Error('read only')),
		close: () => Promise.resolve(),
		async *read() {
			let head: ChainHead = GENESIS_HEAD;
			for (let p = 0; p < pages; p++) {
				const records = sealRecords(
					'generated',
					head,
					template.map((d, i) => ({ ...d, recordId: `r-${p}-${i}` })),
				);
				head = headOf(records[records.length - 1]);
				const page = watched(records, () => stats.checked++);
				stats.produced++;
				stats.maxAhead = Math.max(stats.maxAhead, stats.produced - stats.checked);
				yield page;
			}
		},
	};
	return { sink, stats };
}

describe('Verify streams', () => {
	it('checks each page as it is read: the sink is never more than two pages ahead of the check', async () => {
		const { sink, stats } = generatedSink(60, 500);
		const result = await verifyStream(sink, 'generated');
		expect(result.valid).toBe(true);
		expect(result.records).toBe(30_000);
		expect(result.lastSequence).toBe(30_000);
		expect(stats.produced).toBe(60);
		expect(stats.checked).toBe(60);
		// the page being checked and the next one being read: never the stream
		expect(stats.maxAhead).toBeLessThanOrEqual(2);
	});

	it('still finds a break in a streamed chain, and where', async () => {
		const { sink } = generatedSink(10, 200);
		const tampered: AuditSink = {
			...sink,
			async *read(stream) {
				let n = 0;
				for await (const page of sink.read(stream)) {
					const copy = page.map((r) => {
						n++;
						return n === 1234 ? { ...(r as Record<string, unknown>), nodeName: 'edited' } : r;
					});
					yield copy;
				}
			},
		};
		const result = await verifyStream(tampered, 'generated');
		expect(result.valid).toBe(false);
		expect(result.firstBad).toMatchObject({ problem: 'edited', sequence: 1234, position: 1234 });
		expect(result.records).toBe(2000);
	});

	it('the file sink reads its file in pages of at most 5,000 lines, CRLF lines too', async () => {
		const dir = await fs.mkdtemp(join(tmpdir(), 'audit-verify-stream-'));
		try {
			const sink = new FileSink(join(dir, '{stream}.jsonl'));
			const all = drafts(1000, 'file');
			for (let i = 0; i < 12; i++) await sink.append('paged', all.map((d, j) => ({ ...d, recordId: `f-${i}-${j}` })));
			const sizes: number[] = [];
			for await (const page of sink.read('paged')) sizes.push(page.length);
			expect(sizes).toEqual([5000, 5000, 2000]);
			expect((await verifyStream(sink, 'paged')).valid).toBe(true);

			// the same file with Windows line ends still verifies
			const path = join(dir, 'paged.jsonl');
			await fs.writeFile(path, (await fs.readFile(path, 'utf8')).replace(/\n/g, '\r\n'));
			const crlf = await verifyStream(sink, 'paged');
			expect(crlf).toMatchObject({ valid: true, records: 12_000 });
		} finally {
			await fs.rm(dir, { recursive: true, force: true });
		}
	});
});
