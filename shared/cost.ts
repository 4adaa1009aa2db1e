import type { Usage } from './contract';

/** USD per million tokens. `cachedInput`: reads from the prompt cache; `cacheWrite`: Anthropic cache writes. */
export interface ModelPrice {
	input: number;
	output: number;
	cachedInput: number;
	cacheWrite: number;
}

/**
 * List prices as published by the providers (checked 2026-11). Matched by the longest model-id prefix, so
 * dated ids (`claude-sonnet-4-5-20250929`) find their family. A node's "Price Override" option wins.
 */
export const PRICE_TABLE: Record<string, ModelPrice> = {
	'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
	'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
	'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
	'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
	'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
	'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
	'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005, cacheWrite: 0 },
	'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025, cacheWrite: 0 },
	'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125, cacheWrite: 0 },
	'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025, cacheWrite: 0 },
	'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1, cacheWrite: 0 },
	'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5, cacheWrite: 0 },
	'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075, cacheWrite: 0 },
	'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25, cacheWrite: 0 },
};

export function priceFor(model: string, override?: Partial<ModelPrice>): ModelPrice | undefined {
	const key = Object.keys(PRICE_TABLE)
		.filter((prefix) => model.startsWith(prefix))
		.sort((a, b) => b.length - a.length)[0];
	const base = key ? PRICE_TABLE[key] : undefined;
	if (!override || Object.values(override).every((v) => v === undefined)) return base;
	return { input: 0, output: 0, cachedInput: 0, cacheWrite: 0, ...base, ...override };
}

/**
 * Estimated cost in USD. `inputTokens` counts every input token, cached ones included, as both providers
 * report it after normalisation in the provider core; cached tokens are billed at the cache price instead.
 * Unknown models cost 0 (and the node says so in its result) rather than a guess.
 */
export function costUsd(usage: Usage, price: ModelPrice | undefined): number {
	if (!price) return 0;
	const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
	const total =
		uncached * price.input +
		usage.cachedInputTokens * price.cachedInput +
		usage.cacheWriteTokens * (price.cacheWrite || price.input) +
		usage.outputTokens * price.output;
	return Math.round((total / 1_000_000) * 1e9) / 1e9;
}

export function emptyUsage(): Usage {
	return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 0 };
}

export function addUsage(a: Usage, b: Usage): Usage {
	return {
		inputTokens: a.inputTokens + b.inputTokens,
		outputTokens: a.outputTokens + b.outputTokens,
		cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
		cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
		requests: a.requests + b.requests,
	};
}
