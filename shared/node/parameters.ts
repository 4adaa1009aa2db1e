/**
 * Reads node parameters per item, but evaluates a parameter only once per run when it holds no expression,
 * and reads a plain field reference (`{{ $json.text }}`, the default of every text parameter) straight from
 * the item: n8n resolves every getNodeParameter call through its expression machinery (in n8n 2.x an
 * isolated-vm round trip), which is most of a node's own per-item cost on large inputs. Created inside
 * `execute`, so nothing outlives the run.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

function containsExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(containsExpression);
	if (value && typeof value === 'object') return Object.values(value).some(containsExpression);
	return false;
}

function rawParameter(parameters: unknown, path: string): unknown {
	return path
		.split('.')
		.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), parameters);
}

const FIELD_REFERENCE = /^=\{\{\s*\$json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:'[^'\\]*'|"[^"\\]*")\s*\])+)\s*\}\}$/;
const FIELD_STEP = /\.([A-Za-z_$][\w$]*)|\[\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\]/g;

/** The keys of `={{ $json.a.b }}` / `={{ $json["a b"] }}`, or undefined for any other value. */
export function fieldReference(raw: unknown): string[] | undefined {
	if (typeof raw !== 'string') return undefined;
	const match = FIELD_REFERENCE.exec(raw);
	if (!match) return undefined;
	return [...match[1].matchAll(FIELD_STEP)].map((step) => step[1] ?? step[2] ?? step[3]);
}

/** The string at `keys` in the item, or undefined when it is not a string (n8n then evaluates the expression). */
function stringAt(json: unknown, keys: string[]): string | undefined {
	let value = json;
	for (const key of keys) {
		if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
		value = (value as Record<string, unknown>)[key];
	}
	return typeof value === 'string' ? value : undefined;
}

export type ParameterReader = <T = unknown>(name: string, itemIndex: number, fallback?: T) => T;

export function parameterReader(ctx: IExecuteFunctions): ParameterReader {
	const parameters = ctx.getNode().parameters;
	const cache = new Map<string, unknown>();
	const references = new Map<string, string[] | undefined>();
	return <T>(name: string, itemIndex: number, fallback?: T): T => {
		if (cache.has(name)) return cache.get(name) as T;
		if (!references.has(name)) references.set(name, fieldReference(rawParameter(parameters, name)));
		const keys = references.get(name);
		if (keys) {
			// the same string n8n's evaluation gives; anything else (missing, null, a number, an object) goes to n8n
			const text = stringAt(ctx.getInputData()[itemIndex]?.json, keys);
			if (text !== undefined) return text as T;
		}
		const value = (fallback === undefined ? ctx.getNodeParameter(name, itemIndex) : ctx.getNodeParameter(name, itemIndex, fallback)) as T;
		const raw = rawParameter(parameters, name);
		// n8n fills in defaults when it loads a workflow, so a parameter absent here is unknown: read it per item
		if (raw !== undefined && !containsExpression(raw)) cache.set(name, value);
		return value;
	};
}

/**
 * What items with the same settings share in a run (a prompt, a schema), built the first time the settings come
 * up. Keyed by the settings, not built once: a parameter given by an expression can differ from item to item.
 */
export function perSettings<S, V>(build: (settings: S) => V, keyOf: (settings: S) => string = JSON.stringify): (settings: S) => V {
	const built = new Map<string, V>();
	return (settings) => {
		const key = keyOf(settings);
		if (!built.has(key)) built.set(key, build(settings));
		return built.get(key)!;
	};
}
