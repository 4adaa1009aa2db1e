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

/** Runs `worker` over every index with at most `limit` in flight; results keep input order. */
export async function mapConcurrent<T>(
	count: number,
	limit: number,
	worker: (index: number) => Promise<T>,
): Promise<T[]> {
	const limiter = new Limiter(limit);
	return Promise.all(Array.from({ length: count }, (_, i) => limiter.run(() => worker(i))));
}
