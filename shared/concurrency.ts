/**
 * A concurrency limit shared by the items of one node run. Created inside `execute`, never stored in a
 * module variable: two executions (or two workers) must not share a limiter.
 */
export class Limiter {
	private active = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(readonly limit: number) {
		if (!Number.isInteger(limit) || limit < 1) throw new Error('Concurrency must be a whole number of at least 1');
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.active >= this.limit) {
			await new Promise<void>((resolve) => this.waiting.push(resolve));
		} else {
			this.active++;
		}
		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			// hand the slot straight to the next waiter so `active` never overshoots the limit
			if (next) next();
			else this.active--;
		}
	}
}

/**
 * Runs `worker` over every index with at most `limit` in flight; results keep input order. `limit` workers take
 * the next index as they finish one, so only the items in flight exist as pending calls (not one waiting closure
 * and promise per item of a 10,000-item run). The first error rejects the whole, as Promise.all would; the
 * workers then take no further index.
 */
export async function mapConcurrent<T>(
	count: number,
	limit: number,
	worker: (index: number) => Promise<T>,
): Promise<T[]> {
	if (!Number.isInteger(limit) || limit < 1) throw new Error('Concurrency must be a whole number of at least 1');
	const results = new Array<T>(count);
	let next = 0;
	let failed = false;
	const work = async () => {
		while (!failed && next < count) {
			const index = next++;
			try {
				results[index] = await worker(index);
			} catch (error) {
				failed = true;
				throw error;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, count) }, work));
	return results;
}
