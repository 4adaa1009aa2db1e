/**
 * Pacing from the provider's own rate-limit headers, shared by every item of one node run: requests are held
 * back before the limit instead of bouncing off it with a 429.
 *
 * Each response carries what the provider has left (OpenAI `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`,
 * Anthropic `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`). The pacer
 * keeps, per limit ("dimension"):
 *  - the limit the headers name, and what the provider counted beyond this run's own sends (others on the same
 *    key: other runs, workers, apps), assumed to fade out over a window;
 *  - its own sends over the last minute (a request counts from its answer on, for the provider counted it on
 *    arrival, before that), kept under the limit less the others' share: with nobody else on the key this keeps a
 *    per-minute limit (sliding window or token bucket) from answering 429 at all.
 * A 429 with retry-after pauses every item of the run until then (not only the one that got it).
 *
 * Created inside `execute`, never in a module variable: two executions do not share one.
 */

import { sleep } from 'n8n-workflow';

export const RATE_DIMENSIONS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;
export type RateDimension = (typeof RATE_DIMENSIONS)[number];

export interface RateLimitState {
	limit: number;
	remaining: number;
	/** ms from when the response was read until the provider has refilled this limit */
	resetMs?: number;
}

/** What one response said about the limits; only the dimensions the provider sent. */
export type RateLimitSnapshot = Partial<Record<RateDimension, RateLimitState>>;

type HeaderSource = { get(name: string): string | null } | Record<string, unknown> | undefined | null;

function header(headers: HeaderSource, name: string): string | undefined {
	if (!headers) return undefined;
	if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
	const value = (headers as Record<string, unknown>)[name];
	return typeof value === 'string' ? value : undefined;
}

/** OpenAI's durations: `1s`, `6m0s`, `120ms`, `1h2m3.5s`; a bare number is seconds. */
export function parseDuration(text: string | undefined): number | undefined {
	if (text === undefined || text.trim() === '') return undefined;
	const trimmed = text.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
	const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
	let total = 0;
	let matched = '';
	for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
		const n = Number(m[1]);
		total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
		matched += m[0];
	}
	return matched === trimmed ? total : undefined;
}

/** Anthropic's resets are RFC 3339 times; accepts a duration too. */
function parseReset(text: string | undefined, now: number): number | undefined {
	if (text === undefined) return undefined;
	const duration = parseDuration(text);
	if (duration !== undefined) return duration;
	const at = Date.parse(text);
	return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function state(limit: string | undefined, remaining: string | undefined, reset: string | undefined, now: number): RateLimitState | undefined {
	const l = Number(limit);
	const r = Number(remaining);
	if (limit === undefined || remaining === undefined || !Number.isFinite(l) || !Number.isFinite(r) || l <= 0) return undefined;
	return { limit: l, remaining: Math.max(0, r), resetMs: parseReset(reset, now) };
}

/** The rate limits a response's headers state (OpenAI's and Anthropic's names), or undefined when none. */
export function readRateLimitHeaders(headers: HeaderSource, now = Date.now()): RateLimitSnapshot | undefined {
	const out: RateLimitSnapshot = {};
	for (const dimension of ['requests', 'tokens'] as const) {
		const openai = state(
			header(headers, `x-ratelimit-limit-${dimension}`),
			header(headers, `x-ratelimit-remaining-${dimension}`),
			header(headers, `x-ratelimit-reset-${dimension}`),
			now,
		);
		if (openai) out[dimension] = openai;
	}
	for (const dimension of RATE_DIMENSIONS) {
		const anthropic = state(
			header(headers, `anthropic-ratelimit-${dimension}-limit`),
			header(headers, `anthropic-ratelimit-${dimension}-remaining`),
			header(headers, `anthropic-ratelimit-${dimension}-reset`),
			now,
		);
		if (anthropic) out[dimension] = anthropic;
	}
	return Object.keys(out).length ? out : undefined;
}

/** What one request is expected to use, per dimension. */
export interface RequestCost {
	inputTokens: number;
	outputTokens: number;
}

const WINDOW_MS = 60_000;
/** How often a waiting request looks whether new headers freed it. */
const WAKE_STEP_MS = 25;
/** Slack on the own-sends window, for the provider's clock and ours. */
const WINDOW_SLACK_MS = 100;
const MIN_WAIT_MS = 5;

function costIn(dimension: RateDimension, cost: RequestCost): number {
	switch (dimension) {
		case 'requests':
			return 1;
		case 'tokens':
			return cost.inputTokens + cost.outputTokens;
		case 'input-tokens':
			return cost.inputTokens;
		case 'output-tokens':
			return cost.outputTokens;
	}
}

interface Sent {
	/** when it was sent; from its answer on, when it was answered */
	at: number;
	cost: RequestCost;
	/** out of the window */
	gone?: boolean;
}

interface Observed {
	state: RateLimitState;
	/** when it was read */
	at: number;
	/** what the provider counted beyond this run's own sends in the window (other runs, workers, apps) */
	foreign: number;
}

export interface PacerStats {
	/** requests that had to wait for the pacer */
	delayed: number;
	/** total time items waited, ms */
	waitedMs: number;
	/** 429s reported to the pacer */
	rateLimited: number;
}

export class Pacer {
	private readonly sent: Sent[] = [];
	/** the sum of `sent`'s costs, kept as they come and go (a run can send thousands a minute) */
	private readonly total: RequestCost = { inputTokens: 0, outputTokens: 0 };
	private readonly observed = new Map<RateDimension, Observed>();
	private pausedUntil = 0;
	/** running mean of output tokens per request, for the cost of the next one */
	private outputMean = 0;
	private outputCount = 0;
	private readonly wakers = new Set<() => void>();
	readonly stats: PacerStats = { delayed: 0, waitedMs: 0, rateLimited: 0 };

	/** `windowMs`: the providers' limits are per minute; tests shorten it together with the provider server's. */
	constructor(
		private readonly windowMs = WINDOW_MS,
		private readonly now: () => number = Date.now,
	) {}

	/** The expected cost of a request with this many input tokens (output: what answers used so far). */
	expectedCost(inputTokens: number): RequestCost {
		return { inputTokens, outputTokens: Math.ceil(this.outputMean) };
	}

	/**
	 * Waits until a request of this cost fits under every known limit, then counts it as sent. Returns a
	 * handle to settle it with what the request really used.
	 */
	async acquire(cost: RequestCost): Promise<{ settle(actual?: RequestCost): void }> {
		const started = this.now();
		let waited = false;
		for (;;) {
			const wait = this.waitFor(cost);
			if (wait <= 0) break;
			waited = true;
			await this.sleep(Math.max(MIN_WAIT_MS, wait));
		}
		if (waited) {
			this.stats.delayed++;
			this.stats.waitedMs += this.now() - started;
		}
		const entry: Sent = { at: this.now(), cost: { ...cost } };
		this.sent.push(entry);
		this.add(entry.cost, 1);
		return {
			settle: (actual) => {
				// the provider counted it when it arrived, somewhere before now: counting it from now on keeps our
				// window from emptying before the provider's does (a slow connection can take a while to arrive)
				entry.at = this.now();
				if (!actual) return;
				this.outputCount++;
				this.outputMean += (actual.outputTokens - this.outputMean) / this.outputCount;
				// still in the window: swap the estimate for what it used
				if (!entry.gone) {
					this.add(entry.cost, -1);
					this.add(actual, 1);
				}
				entry.cost = { ...actual };
			},
		};
	}

	/** What a response's headers said: the freshest word replaces the older one. */
	observe(snapshot: RateLimitSnapshot | undefined): void {
		if (!snapshot) return;
		const at = this.now();
		for (const dimension of RATE_DIMENSIONS) {
			const s = snapshot[dimension];
			if (!s) continue;
			const own = this.used(dimension);
			// the provider counted more than this run has sent in the window: someone else uses the key too
			this.observed.set(dimension, { state: s, at, foreign: Math.max(0, s.limit - s.remaining - own) });
		}
		this.wake();
	}

	/** A 429: every item of the run waits until the provider said to come back. */
	rateLimited(retryAfterMs: number | undefined, snapshot?: RateLimitSnapshot): void {
		this.stats.rateLimited++;
		if (snapshot) this.observe(snapshot);
		if (retryAfterMs !== undefined && retryAfterMs > 0) {
			this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
		}
	}

	/** ms until a request of this cost may start (0: now). */
	waitFor(cost: RequestCost): number {
		const now = this.now();
		let wait = Math.max(0, this.pausedUntil - now);
		this.prune(now - this.windowMs - WINDOW_SLACK_MS);
		for (const [dimension, o] of this.observed) {
			const need = costIn(dimension, cost);
			if (need <= 0) continue;
			const { limit } = o.state;
			// what others on the same key used, as the provider saw it, fading out over a window
			const fade = Math.max(0, 1 - (now - o.at) / this.windowMs);
			const room = limit - o.foreign * fade;
			// our own sends over the last minute, under the limit
			const used = this.used(dimension);
			if (need <= limit && used + need > room) {
				// the earliest time enough of our sends leave the window
				let freed = 0;
				let found = false;
				// answers come back out of order: the entries by the time they leave the window
				for (const s of [...this.sent].sort((a, b) => a.at - b.at)) {
					freed += costIn(dimension, s.cost);
					if (used - freed + need <= room) {
						wait = Math.max(wait, s.at + this.windowMs + WINDOW_SLACK_MS - now);
						found = true;
						break;
					}
				}
				// others' use alone leaves no room: until enough of it has faded
				if (!found && o.foreign > 0) {
					wait = Math.max(wait, o.at + this.windowMs * (1 - (limit - need) / o.foreign) - now);
				}
			}
		}
		return wait;
	}

	/** Drops the sends that left the window (anywhere in the list: an answer moves its send's time on). */
	private prune(before: number): void {
		let kept = 0;
		for (const s of this.sent) {
			if (s.at <= before) {
				s.gone = true;
				this.add(s.cost, -1);
			} else this.sent[kept++] = s;
		}
		this.sent.length = kept;
	}

	private add(cost: RequestCost, sign: 1 | -1): void {
		this.total.inputTokens += sign * cost.inputTokens;
		this.total.outputTokens += sign * cost.outputTokens;
	}

	/** This run's use of a limit over the window. */
	private used(dimension: RateDimension): number {
		return dimension === 'requests' ? this.sent.length : costIn(dimension, this.total);
	}

	/** Waits `ms`, or less when new headers wake it; in short steps of n8n's own `sleep` (n8n's checks forbid timers). */
	private async sleep(ms: number): Promise<void> {
		const until = Date.now() + ms;
		let woken = false;
		const done = () => {
			woken = true;
		};
		this.wakers.add(done);
		try {
			while (!woken && Date.now() < until) await sleep(Math.min(WAKE_STEP_MS, Math.max(1, until - Date.now())));
		} finally {
			this.wakers.delete(done);
		}
	}

	/** New headers may free a waiting request early. */
	private wake(): void {
		for (const w of [...this.wakers]) w();
	}
}

/** A rough token count the way providers estimate before tokenising (about 4 characters a token). */
export function estimateTokens(...texts: string[]): number {
	let chars = 0;
	for (const t of texts) chars += t.length;
	return Math.ceil(chars / 4);
}
