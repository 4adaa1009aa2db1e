/**
 * The result cache as the AI step runner uses it (the node's store is opened by shared/node/resultCacheProperties.ts):
 * look a request up before it is made, keep the answer after. A store that cannot be read or written never fails an item: the item asks
 * the model as if there were no cache, and the run logs a warning.
 */
import type { z } from 'zod/v4';

import { emptyUsage } from '../cost';
import { promptHash } from '../hash';
import type { ModelClient, ModelRequest } from '../providers/types';
import { type Answer, toModelSchema } from '../structured';
import type { ResultCache, StoredAnswer } from './types';

export interface ResultCacheSettings {
	store: 'file' | 'postgres';
	/** the file store's path ('' = the default file) */
	filePath: string;
	tableName: string;
	ttlMs: number;
}

/**
 * The identity of a request: provider, model and everything the model is sent (instructions, the text as sent,
 * i.e. after redaction, the answer's schema, samples, log-probabilities, temperature, token limit). Equal
 * requests have equal keys; the key is a hash, so neither the text nor anything else of the request is stored.
 */
export function requestKey(client: ModelClient, request: Omit<ModelRequest, 'corrections' | 'schema'>, schema: z.ZodType): string {
	return promptHash({ provider: client.provider, model: client.model, request, schema: toModelSchema(schema) });
}

/** What the store keeps of an answer: not its usage, attempts or latency, which were this run's. */
export function toStored({ value, samples, logprobs, text, model, responseId }: Answer<unknown>): StoredAnswer {
	return { value, samples, text, model, ...(logprobs ? { logprobs } : {}), ...(responseId ? { responseId } : {}) };
}

/** A run's cache: the store, and where its failures are reported (once each kind, not once per item). */
export interface RunCache {
	store: ResultCache;
	warn(message: string): void;
}

/**
 * The answer stored for this request, marked `cached` (no request, no usage, no attempts), or else the model's,
 * which is then stored. Only valid answers are stored: one that stayed invalid throws before.
 */
export async function askThroughCache<S extends z.ZodType>(
	cache: RunCache,
	key: string,
	schema: S,
	ask: () => Promise<Answer<z.infer<S>>>,
	answeredFromCache: () => void,
): Promise<Answer<z.infer<S>>> {
	const started = Date.now();
	let hit;
	try {
		hit = await cache.store.get(key);
	} catch (error) {
		cache.warn(`The result cache could not be read, the model is asked: ${error instanceof Error ? error.message : String(error)}`);
	}
	// the schema still holds the stored answer to today's contract (a stored answer is never trusted blindly)
	if (hit && schema.safeParse(hit.answer.value).success) {
		answeredFromCache();
		return {
			...(hit.answer as StoredAnswer & { value: z.infer<S>; samples: Array<z.infer<S>> }),
			usage: emptyUsage(),
			attempts: 0,
			reasks: 0,
			latencyMs: Date.now() - started,
			cached: true,
			cachedAt: new Date(hit.storedAt).toISOString(),
		};
	}
	const answer = await ask();
	try {
		await cache.store.put(key, toStored(answer));
	} catch (error) {
		cache.warn(`The result cache could not be written, the answer is used all the same: ${error instanceof Error ? error.message : String(error)}`);
	}
	return answer;
}
