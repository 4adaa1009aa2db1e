/**
 * The result cache (AI Classify and AI Extract from version 4): a model's valid answer kept for a time to live
 * under the hash of the exact request that produced it, so a re-run of the same text with the same settings
 * makes no request. The key is a sha256 of the request (provider, model, instructions, text, schema, sampling
 * and confidence settings), never the text itself and never a secret: the store holds the hash and the answer
 * only, so with redaction on it holds nothing of the text the model did not already quote back.
 */
import type { TokenLogprob } from '../providers/types';

/** What the store keeps of an answer: what the node needs to build its result again, not what it cost. */
export interface StoredAnswer {
	value: unknown;
	samples: unknown[];
	logprobs?: TokenLogprob[];
	text: string;
	model: string;
	responseId?: string;
}

export interface CacheHit {
	answer: StoredAnswer;
	/** when the answer was stored (ms since the epoch) */
	storedAt: number;
}

/** One store (file or PostgreSQL), opened per node run and closed at its end. */
export interface ResultCache {
	/** The answer stored under `key` less than `ttlMs` ago and not past the expiry it was stored with, if any. */
	get(key: string): Promise<CacheHit | undefined>;
	/** Keeps `answer` under `key` for the run's time to live (replacing an earlier one). */
	put(key: string, answer: StoredAnswer): Promise<void>;
	/** Writes what is still pending and lets go of the store's resources. */
	close(): Promise<void>;
}

export interface CacheOptions {
	/** how long an answer is used after it was stored */
	ttlMs: number;
	/** the clock (tests move it; the nodes use the real one) */
	now?: () => number;
}

/** An entry is used while younger than the run's time to live and before the expiry it was stored with. */
export function isFresh(storedAt: number, expiresAt: number, ttlMs: number, now: number): boolean {
	return now < expiresAt && now - storedAt < ttlMs;
}
