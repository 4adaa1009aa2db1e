/**
 * Auto: log-probabilities where the provider offers them, else agreement across samples. When a server that
 * should give log-probabilities gives none for a single choice, k-1 more samples are asked for and the first
 * answer counts as the k-th.
 */
import { addUsage } from '../cost';
import { kSample, SAMPLING_TEMPERATURE } from './kSample';
import { logprobs } from './logprobs';
import { agreement } from './measures';
import type { ConfidenceStrategy } from './strategy';

export function auto(supportsLogprobs: boolean, samples: number): ConfidenceStrategy {
	if (!supportsLogprobs) return kSample(samples);
	const k = Math.max(2, samples);
	return {
		...logprobs,
		async one(answer, read, askAgain) {
			const measuredByTokens = await logprobs.one(answer, read, askAgain);
			if (measuredByTokens.confidence !== null) return measuredByTokens;
			const more = await askAgain({ samples: k - 1, logprobs: false, temperature: SAMPLING_TEMPERATURE });
			const samplesSeen = [answer.value, ...more.samples];
			const vote = agreement(samplesSeen, read.of, k)!;
			return {
				value: vote.majority,
				sample: samplesSeen.find((s) => read.of(s) === vote.majority) ?? answer.value,
				confidence: vote.share,
				method: 'k-sample',
				call: {
					...answer,
					usage: addUsage(answer.usage, more.usage),
					attempts: answer.attempts + more.attempts,
					latencyMs: answer.latencyMs + more.latencyMs,
				},
			};
		},
	};
}
