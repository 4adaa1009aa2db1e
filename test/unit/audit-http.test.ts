/** The HTTP sink against a real local HTTP server. */
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { verifyChain } from '../../nodes/AuditLog/chain';
import { HttpSink, httpStatePath, type SendBatch } from '../../nodes/AuditLog/sinks/httpSink';
import { drafts } from './audit-helpers';

describe('HTTP sink', () => {
	let server: Server;
	let url: string;
	let folder: string;
	const received: Array<{ auth: string | undefined; body: { stream: string; records: Array<Record<string, unknown>> } }> = [];
	let failNext = false;

	beforeAll(async () => {
		folder = await fs.mkdtemp(join(tmpdir(), 'audit-http-'));
		server = createServer((req, res) => {
			let body = '';
			req.on('data', (c) => (body += c));
			req.on('end', () => {
				if (failNext) {
					failNext = false;
					res.writeHead(503).end('busy');
					return;
				}
				received.push({ auth: req.headers['x-api-key'] as string | undefined, body: JSON.parse(body) });
				res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
	});

	afterAll(async () => {
		await new Promise((resolve) => server.close(resolve));
		await fs.rm(folder, { recursive: true, force: true });
	});

	const send: SendBatch = async (body) => {
		const res = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
			body: JSON.stringify(body),
		});
		if (!res.ok) throw new Error(`endpoint answered ${res.status}`);
	};

	it('posts chained batches; a failed POST leaves no gap; the receiver can verify what it got', async () => {
		const sink = new HttpSink(send, folder);
		await sink.append('siem', drafts(3, 'a'));
		failNext = true;
		await expect(sink.append('siem', drafts(2, 'b'))).rejects.toThrow(/503/);
		const after = await sink.append('siem', drafts(2, 'c'));
		expect(after.map((r) => r.sequence)).toEqual([4, 5]);

		expect(received).toHaveLength(2);
		expect(received[0].body.stream).toBe('siem');
		expect(received[0].auth).toBe('k');
		const all = received.flatMap((r) => r.body.records);
		expect(verifyChain(all)).toMatchObject({ valid: true, records: 5 });
		expect(JSON.parse(await fs.readFile(httpStatePath('siem', folder), 'utf8'))).toMatchObject({ sequence: 5, hash: after[1].hash });
	});

	it('cannot read records back, and says what to do instead', async () => {
		const sink = new HttpSink(send, folder);
		const read = async () => {
			for await (const page of sink.read()) void page;
		};
		await expect(read()).rejects.toThrow(/Input Items/);
	});
});
