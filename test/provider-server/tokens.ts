/**
 * Token lists for scripted log-probabilities. The concatenation of the tokens always equals the content,
 * as with a real tokenizer, so a client can map tokens back to the characters they spell.
 */
import type { JsonReply, TokenLogprob } from './types';

/** Words (with one leading space), up to 3 digits, punctuation runs, or whitespace: a rough BPE look-alike. */
const TOKEN_PATTERN = /\s?[\p{L}\p{M}]+|\s?\p{N}{1,3}|\s?[^\s\p{L}\p{M}\p{N}]+|\s+/gu;

/** Deterministic tokenisation; `tokenize(s).join('') === s` for every string. */
export function tokenize(text: string): string[] {
	return text.match(TOKEN_PATTERN) ?? [];
}

/** How one substring is tokenised: one logprob (one token), several (the text split evenly), or explicit tokens. */
export type TokenOverride = number | number[] | TokenLogprob[];

export interface TokensForOptions {
	/** Logprob of every token not covered by an override (default 0, i.e. probability 1). */
	defaultLogprob?: number;
}

function splitEvenly(text: string, parts: number): string[] {
	const chars = Array.from(text);
	const count = Math.max(1, Math.min(parts, chars.length));
	const out: string[] = [];
	let start = 0;
	for (let i = 0; i < count; i++) {
		const end = Math.round(((i + 1) * chars.length) / count);
		out.push(chars.slice(start, end).join(''));
		start = end;
	}
	return out;
}

/**
 * Builds the token list for `content`. Each override key is a substring whose first occurrence (not
 * overlapping an earlier override) is spelled by the given tokens, e.g.
 * `tokensFor('{"label":"billing"}', { billing: [-0.1, -0.05] })` spells `billing` as `bill` + `ing`
 * with logprobs -0.1 and -0.05; the rest is tokenised with `tokenize` at logprob 0.
 */
export function tokensFor(
	content: string,
	overrides: Record<string, TokenOverride> = {},
	options: TokensForOptions = {},
): TokenLogprob[] {
	const defaultLogprob = options.defaultLogprob ?? 0;
	const spans: { start: number; end: number; tokens: TokenLogprob[] }[] = [];
	for (const [text, override] of Object.entries(overrides)) {
		let from = 0;
		let start = -1;
		while ((start = content.indexOf(text, from)) !== -1) {
			const end = start + text.length;
			if (!spans.some((s) => start < s.end && end > s.start)) break;
			from = start + 1;
		}
		if (start === -1) throw new Error(`tokensFor: '${text}' does not occur in the content (or only inside another override)`);
		let tokens: TokenLogprob[];
		if (typeof override === 'number') tokens = [{ token: text, logprob: override }];
		else if (override.length > 0 && typeof override[0] === 'object') {
			tokens = override as TokenLogprob[];
			const joined = tokens.map((t) => t.token).join('');
			if (joined !== text) throw new Error(`tokensFor: tokens for '${text}' spell '${joined}'`);
		} else {
			const logprobs = override as number[];
			const pieces = splitEvenly(text, logprobs.length);
			if (pieces.length !== logprobs.length) throw new Error(`tokensFor: '${text}' is too short for ${logprobs.length} tokens`);
			tokens = pieces.map((token, i) => ({ token, logprob: logprobs[i] }));
		}
		spans.push({ start, end: start + text.length, tokens });
	}
	spans.sort((a, b) => a.start - b.start);
	const out: TokenLogprob[] = [];
	let pos = 0;
	const plain = (text: string) => {
		for (const token of tokenize(text)) out.push({ token, logprob: defaultLogprob });
	};
	for (const span of spans) {
		plain(content.slice(pos, span.start));
		out.push(...span.tokens);
		pos = span.end;
	}
	plain(content.slice(pos));
	return out;
}

/** Tokens for `content` where each span [start, end) is one token with its logprob; the rest as `tokenize` at 0. */
export function tokensForSpans(content: string, spans: Array<{ start: number; end: number; logprob: number }>): TokenLogprob[] {
	const out: TokenLogprob[] = [];
	let pos = 0;
	for (const span of [...spans].sort((a, b) => a.start - b.start)) {
		if (span.start < pos) throw new Error('tokensForSpans: spans overlap');
		for (const token of tokenize(content.slice(pos, span.start))) out.push({ token, logprob: 0 });
		out.push({ token: content.slice(span.start, span.end), logprob: span.logprob });
		pos = span.end;
	}
	for (const token of tokenize(content.slice(pos))) out.push({ token, logprob: 0 });
	return out;
}

/** A JSON reply whose content tokens carry the given logprobs (see tokensFor). */
export function jsonWithLogprobs(
	json: unknown,
	overrides: Record<string, TokenOverride> = {},
	options: TokensForOptions = {},
): JsonReply {
	return { json, logprobs: tokensFor(JSON.stringify(json), overrides, options) };
}
