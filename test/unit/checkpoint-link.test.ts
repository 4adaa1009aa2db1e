import { appendLinkParams, buildLinkParams, checkLinkMatches, fingerprintItems, readLinkParams, stableStringify } from '../../nodes/HumanCheckpoint/link';

describe('review link parameters', () => {
	const items = [{ a: 1, b: { c: [1, 2] } }, { text: 'x', when: new Date('2026-01-01T00:00:00Z') }];

	it('fingerprints items independent of key order and in-memory types', () => {
		const stored = JSON.parse(JSON.stringify(items)) as unknown[];
		const reordered = [{ b: { c: [1, 2] }, a: 1 }, { when: '2026-01-01T00:00:00.000Z', text: 'x' }];
		expect(fingerprintItems(stored)).toBe(fingerprintItems(items));
		expect(fingerprintItems(reordered)).toBe(fingerprintItems(items));
		expect(fingerprintItems([{ a: 2 }, items[1]])).not.toBe(fingerprintItems(items));
		expect(stableStringify({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
	});

	it('round-trips through a URL and matches only the same items', () => {
		const pausedAt = new Date('2026-02-03T04:05:06.789Z');
		const params = buildLinkParams(items, pausedAt, new Date('2026-02-04T00:00:00.000Z'));
		const url = new URL(appendLinkParams('http://127.0.0.1:5678/webhook-waiting/12/node-id', params));
		const read = readLinkParams(Object.fromEntries(url.searchParams));
		expect(read).toEqual(params);
		expect(read!.pausedAt).toBe('2026-02-03T04:05:06.789Z');
		expect(checkLinkMatches(read!, JSON.parse(JSON.stringify(items)))).toBeUndefined();
		expect(checkLinkMatches(read!, items.slice(0, 1))).toMatch(/another review round/);
		expect(checkLinkMatches({ ...read!, fp: '0'.repeat(32) }, items)).toMatch(/another review round/);
	});

	it('rejects links without the review parameters', () => {
		expect(readLinkParams({})).toBeUndefined();
		expect(readLinkParams({ pausedAt: 'yesterday', n: '1', fp: 'x' })).toBeUndefined();
		expect(readLinkParams({ pausedAt: '2026-01-01T00:00:00Z', n: '1' })).toBeUndefined();
	});
});
