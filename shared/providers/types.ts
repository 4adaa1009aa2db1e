import type { Usage } from '../contract';
import type { RateLimitSnapshot } from '../pacing';

export const PROVIDERS = ['anthropic', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface TokenLogprob {
	token: string;
	logprob: number;
	top_logprobs?: Array<{ token: string; logprob: number }>;
}

/** One turn of a re-ask: what the model answered and what was wrong with it. */
export interface Correction {
	answer: string;
	problems: string;
}

/**
 * A request for one structured answer. `instructions` is the static part of the prompt (the same for every
 * item of a run: it comes first and is what prompt caching keeps); `input` is the item's text and comes last.
 */
export interface ModelRequest {
	instructions: string;
	input: string;
	/** JSON Schema of the answer (strict: every property required, no additional properties) */
	schema: Record<string, unknown>;
	schemaName: string;
	schemaDescription: string;
	/** k answers for agreement-based confidence (OpenAI: `n`; Anthropic: k requests) */
	samples: number;
	logprobs: boolean;
	temperature?: number;
	maxTokens: number;
	corrections: Correction[];
}

export interface Candidate {
	/** parsed JSON of the answer, or undefined when it was not JSON */
	value: unknown;
	text: string;
	logprobs?: TokenLogprob[];
	refusal?: string;
}

/** What one HTTP request to the provider produced. */
export interface ModelResponse {
	candidates: Candidate[];
	usage: Usage;
	responseId?: string;
	model: string;
	/** what the response's rate-limit headers said (shared/pacing.ts), when it sent any */
	rateLimits?: RateLimitSnapshot;
}

/** The one small interface the nodes use to talk to a model; implemented for both SDKs. */
export interface ModelClient {
	/** 'anthropic' or 'openai' on the SDK path; a connected Chat Model's family ('openai', 'ollama', …) */
	readonly provider: string;
	readonly model: string;
	readonly supportsLogprobs: boolean;
	/** How many samples one request can return (OpenAI `n`); more are asked for in separate requests. */
	readonly samplesPerRequest: number;
	/** One request (no retries: the caller owns retry, timeout and concurrency). */
	request(req: ModelRequest, signal: AbortSignal): Promise<ModelResponse>;
}

export interface ProviderCredentials {
	apiKey: string;
	baseUrl?: string;
	organization?: string;
}
