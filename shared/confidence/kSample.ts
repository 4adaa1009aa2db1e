/** Agreement across k samples: the share of k answers that agree with the majority (any provider). */
import { agreement, labelShares } from './measures';
import type { ConfidenceStrategy } from './strategy';

/** k answers must be free to differ, or agreement measures nothing. */
export const SAMPLING_TEMPERATURE = 0.7;

export function kSample(samples: number): ConfidenceStrategy {
	const k = Math.max(2, samples);
	return {
		method: 'k-sample',
		sampling: (temperature) => ({ samples: k, logprobs: false, estimate: false, temperature: Math.max(temperature, SAMPLING_TEMPERATURE) }),
		async one(answer, read) {
			const vote = agreement(answer.samples, read.of, k)!;
			const sample = answer.samples.find((s) => read.of(s) === vote.majority) ?? answer.value;
			return { value: vote.majority, sample, confidence: vote.share, method: 'k-sample', call: answer };
		},
		several(answer, read) {
			const shares = labelShares(answer.samples.map(read.of), k);
			// a label enters when most samples carry it; every label the samples named keeps its score
			const labels = [...shares].filter(([, share]) => share > 0.5).map(([label]) => label);
			return { labels, scores: Object.fromEntries(shares), method: 'k-sample' };
		},
	};
}
