/**
 * The review link. n8n signs it (HMAC over path + query, bound to execution and node) when the node
 * has `operation: sendAndWait`; our own parameters ride inside the signed query so they cannot be
 * altered:
 * - `pausedAt`: when the review started (for `review.waitedMs`),
 * - `n` and `fp`: how many items and a fingerprint of their json. The webhook recomputes both from
 *   the paused execution's input and refuses a link made for another review round (e.g. a replayed
 *   link from an earlier pass of a loop) or for different items than the reviewer was shown,
 * - `until`: the time limit, so a decision that arrives after it (before n8n's wait tracker, which
 *   polls once a minute, has resumed the execution) is refused instead of racing the timeout.
 */
import { createHash } from 'crypto';
import { isPlainObject } from './edits';

export interface LinkParams {
	pausedAt: string;
	n: string;
	fp: string;
	until?: string;
}

/** JSON with object keys sorted, so the same data always gives the same text. */
export function stableStringify(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v ?? null)).join(',')}]`;
	if (isPlainObject(value)) {
		const keys = Object.keys(value)
			.filter((k) => value[k] !== undefined && typeof value[k] !== 'function')
			.sort();
		return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`).join(',')}}`;
	}
	if (value instanceof Date) return JSON.stringify(value.toISOString());
	const text = JSON.stringify(value);
	return text === undefined ? 'null' : text;
}

export function fingerprintItems(jsons: unknown[]): string {
	// Round-trip through JSON first: the webhook sees the items as stored, not as they were in memory.
	const normalized = JSON.parse(JSON.stringify(jsons)) as unknown;
	return createHash('sha256').update(stableStringify(normalized)).digest('hex').slice(0, 32);
}

export function buildLinkParams(jsons: unknown[], pausedAt: Date, until?: Date): LinkParams {
	const params: LinkParams = { pausedAt: pausedAt.toISOString(), n: String(jsons.length), fp: fingerprintItems(jsons) };
	if (until) params.until = until.toISOString();
	return params;
}

export function readLinkParams(query: Record<string, unknown>): LinkParams | undefined {
	const get = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
	const pausedAt = get('pausedAt');
	const n = get('n');
	const fp = get('fp');
	if (!pausedAt || !n || !fp || Number.isNaN(Date.parse(pausedAt))) return undefined;
	const until = get('until');
	return { pausedAt, n, fp, ...(until ? { until } : {}) };
}

/** Why a link does not fit the paused items, or undefined when it does. */
export function checkLinkMatches(params: LinkParams, jsons: unknown[]): string | undefined {
	if (params.n !== String(jsons.length) || params.fp !== fingerprintItems(jsons)) {
		return 'This review link belongs to another review round.';
	}
	return undefined;
}

/** Appends our parameters to an unsigned resume URL (n8n 1.x without getSignedResumeUrl). */
export function appendLinkParams(base: string, params: LinkParams): string {
	const url = new URL(base);
	for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
	return url.toString();
}
