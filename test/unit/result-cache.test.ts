/**
 * The result cache's stores, both through one suite: the file store (a temporary folder) and PostgreSQL (the
 * machine's real server, database `test`, a table of each test's own). A stored answer comes back in a later
 * run within the time to live and not after it (a clock the tests move), a newer answer replaces an older one,
 * expired entries are pruned, and runs that write at once lose nothing. Then the nodes through n8n's engine,
 * against the local provider server: a second run of AI Classify / AI Extract version 4 makes no request for
 * the texts it has seen, its results say cached and cost nothing; the text itself is never stored; a store that
 * cannot be written does not fail an item; version 3 has no cache.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { Pool } from 'pg';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { poolConfig, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { exactStepResultSchema } from '../../shared/contract';
import { FileResultCache } from '../../shared/resultCache/fileCache';
import { PgResultCache } from '../../shared/resultCache/pgCache';
import type { ResultCache, StoredAnswer } from '../../shared/resultCache/types';
import { startProviderServer, type ProviderServer } from '../provider-server';
import { providerCredentials, runNode } from './helpers/engine';

jest.setTimeout(120_000);

const connection: PgConnection = {
	host: '127.0.0.1',
	port: 5432,
	database: 'test',
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD,
	ssl: 'disable',
};
const folder = mkdtempSync(join(tmpdir(), 'result-cache-'));
const tables: string[] = [];

afterAll(async () => {
	const admin = new Pool({ ...poolConfig(connection), max: 1 });
	for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table}`);
	await admin.end();
	rmSync(folder, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-04T10:00:00Z');

const answer = (label: string): StoredAnswer => ({
	value: { label, reason: `because ${label}`, evidence: [] },
	samples: [{ label, reason: `because ${label}`, evidence: [] }],
	text: JSON.stringify({ label }),
	model: 'gpt-4.1-mini',
	responseId: `resp-${label}`,
});

/** A store kind: `open` gives a store on the same place each time (one per "run"), with the clock `now`. */
interface Kind {
	name: string;
	place(): string;
	open(place: string, ttlMs: number, now: () => number): ResultCache;
	/** entries (or lines) the store holds right now */
	held(place: string): Promise<number>;
}

const fileKind: Kind = {
	name: 'file',
	place: () => join(folder, randomBytes(4).toString('hex'), 'results.jsonl'),
	open: (path, ttlMs, now) => new FileResultCache(path, { ttlMs, now, minDeadLines: 0 }),
	held: async (path) => readFileSync(path, 'utf8').split('\n').filter(Boolean).length,
};

const pgKind: Kind = {
	name: 'PostgreSQL',
	place: () => {
		const table = `result_cache_test_${randomBytes(4).toString('hex')}`;
		tables.push(table);
		return table;
	},
	open: (table, ttlMs, now) => new PgResultCache(connection, table, { ttlMs, now }),
	held: async (table) => {
		const admin = new Pool({ ...poolConfig(connection), max: 1 });
		try {
			return Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
		} finally {
			await admin.end();
		}
	},
};

/** One "run": open, work, close (the file store writes at close). */
async function inRun<T>(kind: Kind, place: string, ttlMs: number, now: () => number, work: (cache: ResultCache) => Promise<T>): Promise<T> {
	const cache = kind.open(place, ttlMs, now);
	try {
		return await work(cache);
	} finally {
		await cache.close();
	}
}

describe.each([fileKind, pgKind])('the $name store', (kind) => {
	it('gives a stored answer back in a later run, with when it was stored; an unknown key gives nothing', async () => {
		const place = kind.place();
		let now = T0;
		const clock = () => now;
		await inRun(kind, place, 24 * HOUR, clock, async (cache) => {
			expect(await cache.get('k1')).toBeUndefined();
			await cache.put('k1', answer('billing'));
		});
		now = T0 + HOUR;
		const hit = await inRun(kind, place, 24 * HOUR, clock, async (cache) => {
			expect(await cache.get('k2')).toBeUndefined();
			return await cache.get('k1');
		});
		expect(hit).toEqual({ answer: answer('billing'), storedAt: T0 });
	});

	it('does not use an answer older than the time to live (the stored one, or a shorter one a later run sets)', async () => {
		const place = kind.place();
		let now = T0;
		const clock = () => now;
		await inRun(kind, place, 2 * HOUR, clock, async (cache) => cache.put('k', answer('billing')));
		now = T0 + 2 * HOUR - 1;
		expect(await inRun(kind, place, 2 * HOUR, clock, async (cache) => await cache.get('k'))).toBeDefined();
		// a run with a shorter time to live does not use an answer older than its own
		expect(await inRun(kind, place, HOUR, clock, async (cache) => await cache.get('k'))).toBeUndefined();
		now = T0 + 2 * HOUR;
		expect(await inRun(kind, place, 2 * HOUR, clock, async (cache) => await cache.get('k'))).toBeUndefined();
		// nor does a longer one use it past the expiry it was stored with
		expect(await inRun(kind, place, 48 * HOUR, clock, async (cache) => await cache.get('k'))).toBeUndefined();
	});

	it('a newer answer for the same key replaces the older one', async () => {
		const place = kind.place();
		let now = T0;
		const clock = () => now;
		await inRun(kind, place, HOUR, clock, async (cache) => cache.put('k', answer('billing')));
		now = T0 + HOUR + 1;
		await inRun(kind, place, HOUR, clock, async (cache) => {
			expect(await cache.get('k')).toBeUndefined();
			await cache.put('k', answer('outage'));
		});
		now = T0 + HOUR + 2;
		const hit = await inRun(kind, place, HOUR, clock, async (cache) => await cache.get('k'));
		expect(hit).toEqual({ answer: answer('outage'), storedAt: T0 + HOUR + 1 });
	});

	it('prunes expired entries', async () => {
		const place = kind.place();
		let now = T0;
		const clock = () => now;
		await inRun(kind, place, HOUR, clock, async (cache) => {
			for (let i = 0; i < 5; i++) await cache.put(`old${i}`, answer(`old${i}`));
		});
		expect(await kind.held(place)).toBe(5);
		now = T0 + 2 * HOUR;
		await inRun(kind, place, HOUR, clock, async (cache) => {
			expect(await cache.get('old0')).toBeUndefined();
			await cache.put('new', answer('new'));
		});
		expect(await kind.held(place)).toBe(1);
		expect(await inRun(kind, place, HOUR, clock, async (cache) => await cache.get('new'))).toBeDefined();
	});

	it('runs writing at once lose nothing, and the same key written by all of them leaves one answer', async () => {
		const place = kind.place();
		const clock = () => T0;
		const runs = 8;
		await Promise.all(
			Array.from({ length: runs }, (_, run) =>
				inRun(kind, place, HOUR, clock, async (cache) => {
					for (let i = 0; i < 25; i++) await cache.put(`run${run}-${i}`, answer(`run${run}-${i}`));
					await cache.put('shared', answer(`from run ${run}`));
				}),
			),
		);
		await inRun(kind, place, HOUR, clock, async (cache) => {
			for (let run = 0; run < runs; run++) {
				for (let i = 0; i < 25; i++) expect((await cache.get(`run${run}-${i}`))?.answer).toEqual(answer(`run${run}-${i}`));
			}
			const shared = await cache.get('shared');
			expect(Array.from({ length: runs }, (_, run) => `from run ${run}`)).toContain((shared?.answer.value as { label: string }).label);
		});
	});
});

describe('the file store', () => {
	it('skips a torn last line (a crashed writer) and appends on a line of its own', async () => {
		const path = fileKind.place();
		mkdirSync(join(path, '..'), { recursive: true });
		const good = JSON.stringify({ k: 'a', a: answer('billing'), s: T0, e: T0 + HOUR });
		writeFileSync(path, `${good}\n{"k":"b","a":{"val`);
		const clock = () => T0;
		await inRun(fileKind, path, HOUR, clock, async (cache) => {
			expect(await cache.get('a')).toBeDefined();
			expect(await cache.get('b')).toBeUndefined();
			await cache.put('c', answer('outage'));
		});
		// the file kept its lines (no rewrite: fewer dead lines than live ones) and the new one parses
		const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
		expect(lines).toHaveLength(3);
		expect(JSON.parse(lines[2]).k).toBe('c');
		expect(await inRun(fileKind, path, HOUR, clock, async (cache) => await cache.get('c'))).toBeDefined();
	});
});

// ---- the nodes, through n8n's engine ----

let server: ProviderServer;
beforeAll(async () => {
	server = await startProviderServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

const categories = {
	category: [
		{ name: 'billing', description: 'Invoices, charges, refunds' },
		{ name: 'outage', description: 'Service down or degraded' },
		{ name: 'other', description: 'Anything else' },
	],
};
const generation = () => server.requests.filter((r) => r.path === '/v1/chat/completions');
const classified = (item: INodeExecutionData) => (item.json.ai as IDataObject).classify as IDataObject;

function classify(items: IDataObject[], typeVersion: number, params: Record<string, unknown> = {}, credentials = {}) {
	return runNode({
		node: new AiClassify(),
		typeVersion,
		items,
		parameters: {
			provider: 'openai',
			model: 'gpt-4.1-mini',
			text: '={{ $json.text }}',
			categories,
			confidenceMethod: 'logprobs',
			threshold: 0.5,
			routing: 'single',
			resultKey: 'classify',
			options: { retries: 2 },
			...params,
		},
		credentials: { ...providerCredentials(server), ...credentials },
	});
}

const texts = ['My invoice was charged twice', 'The service is down since noon', 'Hello there'];

describe('AI Classify version 4 with the result cache', () => {
	it.each(['file', 'postgres'] as const)('in the %s store: a second run makes no request for the texts it has seen; its results say cached and cost nothing', async (store) => {
		const cache =
			store === 'file'
				? { resultCache: true, resultCacheStore: 'file', resultCacheFilePath: fileKind.place() }
				: { resultCache: true, resultCacheStore: 'postgres', resultCacheTable: pgKind.place() };
		const credentials = store === 'postgres' ? { governedAiCachePostgres: connection as unknown as Record<string, string> } : {};
		const [first] = await classify(texts.map((text, id) => ({ id, text })), 4, cache, credentials);
		expect(generation()).toHaveLength(3);
		expect(first.map(classified).every((r) => r.cached === undefined)).toBe(true);

		server.reset();
		// the same three texts and a new one
		const [second] = await classify([...texts, 'A new question'].map((text, id) => ({ id, text })), 4, cache, credentials);
		expect(generation()).toHaveLength(1);
		const results = second.map(classified);
		expect(results.map((r) => r.cached ?? false)).toEqual([true, true, true, false]);
		for (let i = 0; i < 3; i++) {
			const before = classified(first[i]);
			expect(results[i].answer).toBe(before.answer);
			expect(results[i].confidence).toBe(before.confidence);
			expect(results[i].evidence).toEqual(before.evidence);
			expect(results[i].promptHash).toBe(before.promptHash);
			expect(results[i].decisionId).not.toBe(before.decisionId);
			expect(results[i].costUsd).toBe(0);
			expect(results[i].attempts).toBe(0);
			expect((results[i].usage as IDataObject).requests).toBe(0);
			expect(Date.parse(String(results[i].cachedAt))).toBeLessThanOrEqual(Date.parse(String(results[i].at)));
		}
		expect((results[3].usage as IDataObject).requests).toBe(1);
		for (const r of results) expect(exactStepResultSchema.safeParse(r).success).toBe(true);
	});

	it('a different setting (threshold aside, anything the model is sent) asks again', async () => {
		const cache = { resultCache: true, resultCacheFilePath: fileKind.place() };
		await classify([{ text: texts[0] }], 4, cache);
		server.reset();
		const [out] = await classify([{ text: texts[0] }], 4, { ...cache, instructions: 'Be strict.' });
		expect(generation()).toHaveLength(1);
		expect(classified(out[0]).cached).toBeUndefined();
		// the threshold is applied to the stored answer, not sent to the model: the cache still answers
		server.reset();
		const [again] = await classify([{ text: texts[0] }], 4, { ...cache, threshold: 0.99 });
		expect(generation()).toHaveLength(0);
		expect(classified(again[0]).cached).toBe(true);
	});

	it('with redaction on, the store holds neither the text nor what redaction removed', async () => {
		const path = fileKind.place();
		const text = 'Refund to jane.doe@example.com please, my invoice was charged twice';
		await classify([{ text }], 4, { resultCache: true, resultCacheFilePath: path, options: { retries: 2, redact: ['email'] } });
		const stored = readFileSync(path, 'utf8');
		expect(stored).not.toContain('jane.doe@example.com');
		expect(stored).not.toContain('charged twice please');
		expect(stored).not.toContain(text);
		// what was sent to the model was redacted
		expect(JSON.stringify(generation()[0].body)).not.toContain('jane.doe@example.com');
	});

	it('a store that cannot be written does not fail an item (and the next run asks again)', async () => {
		// a path below a file: the folder can never be made
		const blocker = join(folder, `blocker-${randomBytes(4).toString('hex')}`);
		writeFileSync(blocker, 'not a folder');
		const cache = { resultCache: true, resultCacheFilePath: join(blocker, 'results.jsonl') };
		const [out] = await classify([{ text: texts[0] }], 4, cache);
		expect(classified(out[0]).answer).toBe('billing');
		server.reset();
		await classify([{ text: texts[0] }], 4, cache);
		expect(generation()).toHaveLength(1);
	});

	it('a time to live that is not above 0 stops the run with an error naming it', async () => {
		await expect(classify([{ text: texts[0] }], 4, { resultCache: true, resultCacheFilePath: fileKind.place(), resultCacheTtlHours: 0 })).rejects.toThrow(
			/Time to Live \(Hours\) must be a number above 0/,
		);
	});

	it('version 3 (a saved workflow) has no cache: every run asks', async () => {
		const path = fileKind.place();
		await classify([{ text: texts[0] }], 3, { resultCache: true, resultCacheFilePath: path });
		server.reset();
		const [out] = await classify([{ text: texts[0] }], 3, { resultCache: true, resultCacheFilePath: path });
		expect(generation()).toHaveLength(1);
		expect(classified(out[0]).cached).toBeUndefined();
	});
});

describe('AI Extract version 4 with the result cache', () => {
	it('a re-run where 30 % of the texts were seen before makes 30 % fewer requests', async () => {
		const path = fileKind.place();
		const invoices = Array.from({ length: 20 }, (_, i) => `Invoice number: INV-${2000 + i}\nTotal: ${100 + i}.00`);
		const run = (list: string[]) =>
			runNode({
				node: new AiExtract(),
				typeVersion: 4,
				items: list.map((text, id) => ({ id, text })),
				parameters: {
					provider: 'openai',
					model: 'gpt-4.1-mini',
					text: '={{ $json.text }}',
					schemaSource: 'fields',
					fields: {
						field: [
							{ name: 'invoiceNumber', type: 'string', description: 'The invoice number', required: true },
							{ name: 'total', type: 'number', description: 'The total', required: true },
						],
					},
					resultKey: 'extract',
					resultCache: true,
					resultCacheFilePath: path,
					options: { retries: 2 },
				},
				credentials: providerCredentials(server),
			});
		// first run: 6 of the 20 texts
		await run(invoices.slice(0, 6));
		expect(generation()).toHaveLength(6);
		server.reset();
		const [extracted, review] = await run(invoices);
		expect(generation()).toHaveLength(14);
		const results = [...extracted, ...review].map((item) => (item.json.ai as IDataObject).extract as IDataObject);
		expect(results.filter((r) => r.cached === true)).toHaveLength(6);
		const byId = new Map([...extracted, ...review].map((item) => [item.json.id, (item.json.ai as IDataObject).extract as IDataObject]));
		expect(((byId.get(3)!.answer as IDataObject).invoiceNumber as string)).toBe('INV-2003');
		expect(byId.get(3)!.cached).toBe(true);
	});
});
