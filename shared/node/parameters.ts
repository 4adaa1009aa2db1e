/**
 * Reads node parameters per item, but evaluates a parameter only once per run when it holds no expression:
 * n8n resolves every getNodeParameter call through its expression machinery, which is most of a node's own
 * per-item cost on large inputs. Created inside `execute`, so nothing outlives the run.
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

export type ParameterReader = <T = unknown>(name: string, itemIndex: number, fallback?: T) => T;

export function parameterReader(ctx: IExecuteFunctions): ParameterReader {
	const parameters = ctx.getNode().parameters;
	const cache = new Map<string, unknown>();
	return <T>(name: string, itemIndex: number, fallback?: T): T => {
		if (cache.has(name)) return cache.get(name) as T;
		const value = (fallback === undefined ? ctx.getNodeParameter(name, itemIndex) : ctx.getNodeParameter(name, itemIndex, fallback)) as T;
		const raw = rawParameter(parameters, name);
		// n8n fills in defaults when it loads a workflow, so a parameter absent here is unknown: read it per item
		if (raw !== undefined && !containsExpression(raw)) cache.set(name, value);
		return value;
	};
}
