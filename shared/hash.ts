import { createHash, randomUUID } from 'node:crypto';

/**
 * JSON with keys sorted (by UTF-16 code units) and no whitespace; `undefined` members are left out. Equal values
 * always give the same text, so equal values hash the same. This is a stored format: the audit chain hashes it
 * and prompt hashes are compared across runs, so it never changes (test/unit/hash.test.ts freezes it).
 */
export function canonicalJson(value: unknown): string {
	return canonical(value);
}

/** The canonical JSON of an object without one of its top-level members (a record without its own hash), without copying it. */
export function canonicalJsonWithout(value: Record<string, unknown>, omitKey: string): string {
	return canonical(value, omitKey);
}

function canonical(value: unknown, omitKey?: string): string {
	if (value === null || value === undefined) return 'null';
	switch (typeof value) {
		case 'string':
			return JSON.stringify(value);
		case 'number':
			return Number.isFinite(value) ? JSON.stringify(value) : 'null';
		case 'boolean':
			return value ? 'true' : 'false';
		case 'object':
			break;
		default:
			// bigint, function, symbol: never in a record built by buildDraft; refuse rather than guess
			throw new Error(`cannot serialise a ${typeof value} in an audit record`);
	}
	if (Array.isArray(value)) {
		let out = '[';
		for (let i = 0; i < value.length; i++) {
			if (i > 0) out += ',';
			out += canonical(value[i]);
		}
		return out + ']';
	}
	const obj = value as Record<string, unknown>;
	const keys = Object.keys(obj);
	// records read back are usually in canonical order already: sort only when they are not
	for (let i = 1; i < keys.length; i++) {
		if (keys[i - 1] > keys[i]) {
			keys.sort();
			break;
		}
	}
	let out = '{';
	let first = true;
	for (const key of keys) {
		const member = obj[key];
		if (member === undefined || key === omitKey) continue;
		if (!first) out += ',';
		first = false;
		out += quotedKey(key) + ':' + canonical(member);
	}
	return out + '}';
}

// Records share a small set of field names: quote each once (a pure cache, bounded).
const quotedKeys = new Map<string, string>();
function quotedKey(key: string): string {
	let quoted = quotedKeys.get(key);
	if (quoted === undefined) {
		quoted = JSON.stringify(key);
		if (quotedKeys.size > 10_000) quotedKeys.clear();
		quotedKeys.set(key, quoted);
	}
	return quoted;
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
