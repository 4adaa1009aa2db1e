/**
 * Edits a reviewer makes to an AI answer: parse them, apply them, and keep them as a diff
 * (`review.edits`: path -> { from, to }) so the audit trail shows exactly what a person changed.
 */
import { withAnswer } from '../../shared/contract';

type Json = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Path segments that would reach Object.prototype: never followed or written. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Deep equality for JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (Array.isArray(a) || Array.isArray(b)) {
		if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
		return a.every((value, i) => jsonEqual(value, b[i]));
	}
	if (isPlainObject(a) && isPlainObject(b)) {
		const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
		const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
		if (keysA.length !== keysB.length) return false;
		return keysA.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
	}
	return false;
}

function joinPath(base: string, key: string | number): string {
	if (typeof key === 'number') return `${base}[${key}]`;
	return base ? `${base}.${key}` : key;
}

/**
 * The leaf-level differences between two JSON values, keyed by path under `basePath`.
 * Objects are compared field by field; arrays element by element when their lengths match,
 * otherwise as a whole (a reordered or resized list is one change, not many).
 */
export function diffValues(
	from: unknown,
	to: unknown,
	basePath: string,
): Record<string, { from: unknown; to: unknown }> {
	const out: Record<string, { from: unknown; to: unknown }> = {};
	const walk = (a: unknown, b: unknown, path: string) => {
		if (jsonEqual(a, b)) return;
		if (isPlainObject(a) && isPlainObject(b)) {
			const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
			for (const key of keys) walk(a[key], b[key], joinPath(path, key));
			return;
		}
		if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
			a.forEach((value, i) => walk(value, b[i], joinPath(path, i)));
			return;
		}
		out[path] = { from: a === undefined ? null : a, to: b === undefined ? null : b };
	};
	walk(from, to, basePath);
	return out;
}

/**
 * Applies field edits (`{ "customer.name": "Ada", "total": 12.5 }`) to a copy of an object answer.
 * Throws with the offending path when a path is empty or reaches the prototype.
 */
export function applyFieldEdits(answer: Json, edits: Json): Json {
	const copy = structuredClone(answer);
	for (const [path, value] of Object.entries(edits)) {
		const segments = path.split('.');
		if (segments.some((s) => s === '' || FORBIDDEN_SEGMENTS.has(s))) {
			throw new Error(`edit path "${path}" is not a valid field path`);
		}
		let target: Json = copy;
		for (const segment of segments.slice(0, -1)) {
			if (!isPlainObject(target[segment])) target[segment] = {};
			target = target[segment] as Json;
		}
		target[segments[segments.length - 1]] = structuredClone(value);
	}
	return copy;
}

/**
 * Returns a copy of the item's json with `ai[key].answer` replaced by `answer`, and the fields of the
 * result's step that repeat the answer (a label, labels, the record, the action: see `withAnswer` in the
 * item contract) set to it too: the answer a downstream node reads must be the one the reviewer approved.
 */
export function mergeAnswer(json: Json, key: string, answer: unknown): Json {
	const ai = isPlainObject(json.ai) ? json.ai : {};
	const result = isPlainObject(ai[key]) ? (ai[key] as Json) : {};
	return { ...json, ai: { ...ai, [key]: withAnswer(result, answer) } };
}
