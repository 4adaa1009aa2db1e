/** shared/concurrency.ts mapConcurrent: a pool of `limit` workers over the indexes. */
import { mapConcurrent } from '../../shared/concurrency';

/** A worker whose calls the test finishes by hand, recording the most in flight at once. */
function manual() {
	const finish: Array<() => void> = [];
	let inFlight = 0;
	let most = 0;
	const started: number[] = [];
	const worker = async (i: number) => {
		started.push(i);
		inFlight++;
		most = Math.max(most, inFlight);
		await new Promise<void>((resolve) => finish.push(resolve));
		inFlight--;
		return i * 10;
	};
	return { worker, finish, started, most: () => most };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('mapConcurrent', () => {
	it('starts only `limit` calls, the next when one finishes, and keeps the input order', async () => {
		const m = manual();
		const all = mapConcurrent(7, 3, m.worker);
		await settle();
		expect(m.started).toEqual([0, 1, 2]);
		// finishing the second call lets exactly one more start
		m.finish[1]();
		await settle();
		expect(m.started).toEqual([0, 1, 2, 3]);
		while (m.started.length < 7 || m.finish.some(Boolean)) {
			const next = m.finish.findIndex(Boolean);
			if (next === -1) break;
			const f = m.finish[next];
			m.finish[next] = undefined as unknown as () => void;
			f();
			await settle();
		}
		expect(await all).toEqual([0, 10, 20, 30, 40, 50, 60]);
		expect(m.most()).toBe(3);
	});

	it('10,000 items: every one called once, never more than the limit in flight', async () => {
		let calls = 0;
		let most = 0;
		let inFlight = 0;
		const out = await mapConcurrent(10_000, 10, async (i) => {
			calls++;
			inFlight++;
			most = Math.max(most, inFlight);
			await settle();
			inFlight--;
			return i;
		});
		expect(calls).toBe(10_000);
		expect(most).toBe(10);
		expect(out[9_999]).toBe(9_999);
	});

	it('rejects with the first error and starts no further call; fewer items than the limit; none', async () => {
		const started: number[] = [];
		await expect(
			mapConcurrent(100, 2, async (i) => {
				started.push(i);
				await settle();
				if (i === 1) throw new Error('item 1 failed');
				return i;
			}),
		).rejects.toThrow('item 1 failed');
		await settle();
		expect(started.length).toBeLessThan(100);
		expect(await mapConcurrent(2, 5, async (i) => i + 1)).toEqual([1, 2]);
		expect(await mapConcurrent(0, 5, async (i) => i)).toEqual([]);
		await expect(mapConcurrent(3, 0, async (i) => i)).rejects.toThrow(/at least 1/);
	});
});
