/**
 * Confidence that means something, always labelled with its method. Each method is one strategy in its own
 * file: log-probabilities (OpenAI-compatible servers), agreement across k samples (any provider), the model's
 * own estimate (the last resort), and Auto, which picks between the first two.
 */
import { auto } from './auto';
import { kSample } from './kSample';
import { logprobs } from './logprobs';
import { modelEstimate } from './modelEstimate';
import type { ConfidenceStrategy } from './strategy';

export { agreement, clamp01, labelShares, valueProbability } from './measures';
export type { AskAgain, Call, Choice, ChoiceReader, Choices, ConfidenceStrategy, Sampling } from './strategy';

export const CONFIDENCE_SETTINGS = ['auto', 'logprobs', 'k-sample', 'model-estimate'] as const;
export type ConfidenceSetting = (typeof CONFIDENCE_SETTINGS)[number];

/** The strategy for the user's setting, given what the provider can do and the samples asked for. */
export function confidenceStrategy(setting: ConfidenceSetting, supportsLogprobs: boolean, samples: number): ConfidenceStrategy {
	switch (setting) {
		case 'auto':
			return auto(supportsLogprobs, samples);
		case 'logprobs':
			return logprobs;
		case 'k-sample':
			return kSample(samples);
		case 'model-estimate':
			return modelEstimate;
	}
}
