/**
 * Classifies provider failures so the retry loop knows what to do, whatever SDK raised them.
 * Both SDKs raise errors carrying `status` and `headers`; connection errors and timeouts carry no status.
 */
export type FailureKind =
	| 'rate-limit' // 429: retry, honouring retry-after
	| 'quota' // 429 insufficient_quota / billing: do not retry
	| 'server' // 5xx and 408/409/529: retry
	| 'timeout' // per-call timeout: retry
	| 'connection' // reset, refused: retry
	| 'auth' // 401/403: do not retry
	| 'bad-request' // 400/404/422: do not retry
	| 'refusal' // the model refused: do not retry
	| 'unknown';

export class ProviderError extends Error {
	constructor(
		message: string,
		readonly kind: FailureKind,
		readonly status?: number,
		readonly retryAfterMs?: number,
	) {
		super(message);
		this.name = 'ProviderError';
	}

	get retryable(): boolean {
		return ['rate-limit', 'server', 'timeout', 'connection'].includes(this.kind);
	}
}

function header(headers: unknown, name: string): string | undefined {
	if (!headers) return undefined;
	if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
	const value = (headers as Record<string, unknown>)[name];
	return typeof value === 'string' ? value : undefined;
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: unknown, now = Date.now()): number | undefined {
	const ms = header(headers, 'retry-after-ms');
	if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
	const after = header(headers, 'retry-after');
	if (!after) return undefined;
	if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000);
	const date = Date.parse(after);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Strips anything that looks like an API key from a message (SDK errors can echo request details). */
export function scrubSecrets(message: string, secrets: string[] = []): string {
	let out = message;
	for (const secret of secrets) {
		if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
	}
	return out.replace(/\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,})\b/g, '[redacted]');
}

export function classifyFailure(error: unknown, secrets: string[] = []): ProviderError {
	if (error instanceof ProviderError) return error;
	const e = error as { status?: number; headers?: unknown; name?: string; message?: string; code?: string; type?: string; error?: unknown };
	const rawMessage = scrubSecrets(String(e?.message ?? error), secrets);
	const status = typeof e?.status === 'number' ? e.status : undefined;
	const body = JSON.stringify(e?.error ?? '') + String(e?.code ?? '') + String(e?.type ?? '');
	const name = String(e?.name ?? '');
	if (status === undefined) {
		if (/timeout|timed out/i.test(name + rawMessage)) return new ProviderError(`Request timed out: ${rawMessage}`, 'timeout');
		if (/abort/i.test(name)) return new ProviderError(rawMessage, 'timeout');
		return new ProviderError(`Connection failed: ${rawMessage}`, 'connection');
	}
	const after = retryAfterMs(e.headers);
	if (status === 429) {
		if (/insufficient_quota|billing|quota/i.test(body + rawMessage)) {
			return new ProviderError(`Quota exhausted (429): ${rawMessage}`, 'quota', status);
		}
		return new ProviderError(`Rate limited (429): ${rawMessage}`, 'rate-limit', status, after);
	}
	if (status === 401 || status === 403) return new ProviderError(`Not authorised (${status}): ${rawMessage}`, 'auth', status);
	if (status === 408 || status === 409 || status >= 500) {
		return new ProviderError(`Provider error (${status}): ${rawMessage}`, 'server', status, after);
	}
	if (status >= 400) return new ProviderError(`Request rejected (${status}): ${rawMessage}`, 'bad-request', status);
	return new ProviderError(rawMessage, 'unknown', status);
}
