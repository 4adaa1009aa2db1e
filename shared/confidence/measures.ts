/**
 * The measures behind the confidence methods, pure functions of the answers: the probability of the tokens that
 * spell a value (log-probabilities), the share of k answers that agree (k samples), and per-label shares.
 */
import type { TokenLogprob } from '../providers/types';

/**
 * Probability of a string value in a JSON answer, from the tokens that spell it.
 * Finds the `occurrence`-th JSON string literal equal to `value` that follows `"field":` in the text the tokens
 * spell, then sums the log-probabilities of every token overlapping the value's characters (the quotes
 * excluded). Returns undefined when the tokens do not spell the value (no logprobs, or a mismatch).
 */
export function valueProbability(
	tokens: TokenLogprob[] | undefined,
	field: string,
	value: string,
	occurrence = 0,
): number | undefined {
	if (!tokens || tokens.length === 0) return undefined;
	const text = tokens.map((t) => t.token).join('');
	const literal = JSON.stringify(value);
	const fieldPattern = new RegExp(`${escapeRegExp(JSON.stringify(field))}\\s*:\\s*`, 'g');
	const fieldMatch = fieldPattern.exec(text);
	if (!fieldMatch) return undefined;
	let from = fieldMatch.index + fieldMatch[0].length;
	let start = -1;
	for (let n = 0; n <= occurrence; n++) {
		start = text.indexOf(literal, from);
		if (start < 0) return undefined;
		from = start + literal.length;
	}
	// value characters, without the surrounding quotes
	const valueStart = start + 1;
	const valueEnd = start + literal.length - 1;
	let offset = 0;
	let sum = 0;
	let covered = false;
	for (const token of tokens) {
		const tokenStart = offset;
		const tokenEnd = offset + token.token.length;
		offset = tokenEnd;
		if (tokenEnd <= valueStart || tokenStart >= valueEnd) continue;
		sum += token.logprob;
		covered = true;
	}
	return covered ? Math.exp(sum) : undefined;
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Majority answer among samples and the share that agrees with it. Ties go to the first sample's answer. */
export function agreement<T>(samples: T[], keyOf: (sample: T) => string, requested: number): { majority: string; share: number } | undefined {
	if (samples.length === 0) return undefined;
	const counts = new Map<string, number>();
	for (const sample of samples) counts.set(keyOf(sample), (counts.get(keyOf(sample)) ?? 0) + 1);
	let majority = keyOf(samples[0]);
	for (const [key, count] of counts) if (count > counts.get(majority)!) majority = key;
	// invalid samples were dropped: they count against agreement, so divide by what was asked for
	return { majority, share: counts.get(majority)! / Math.max(requested, samples.length) };
}

/** For multi-label answers: each label's share of the samples that contain it. */
export function labelShares(samples: string[][], requested: number): Map<string, number> {
	const counts = new Map<string, number>();
	for (const labels of samples) for (const label of new Set(labels)) counts.set(label, (counts.get(label) ?? 0) + 1);
	const denominator = Math.max(requested, samples.length);
	return new Map([...counts].map(([label, count]) => [label, count / denominator]));
}

export function clamp01(value: number): number {
	return Math.min(1, Math.max(0, value));
}
