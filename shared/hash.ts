import { createHash, randomUUID } from 'node:crypto';

/** JSON with sorted keys and no whitespace, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
	if (value === undefined) return 'null';
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
	const entries = Object.keys(value as Record<string, unknown>)
		.filter((k) => (value as Record<string, unknown>)[k] !== undefined)
		.sort()
		.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
	return `{${entries.join(',')}}`;
}

export function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

/** Hash of the prompt and settings that produced a decision: same hash, same question asked. */
export function promptHash(parts: Record<string, unknown>): string {
	return sha256(canonicalJson(parts));
}

export function newDecisionId(): string {
	return randomUUID();
}
