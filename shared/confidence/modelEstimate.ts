/** The model's own estimate: the last resort, asked for in the answer schema. */
import { chosenLabels, type ConfidenceStrategy, measured } from './strategy';

export const modelEstimate: ConfidenceStrategy = {
	method: 'model-estimate',
	sampling: (temperature) => ({ samples: 1, logprobs: false, estimate: true, temperature }),
	async one(answer, read) {
		const confidence = read.estimate(answer.value) ?? null;
		return { value: read.of(answer.value), sample: answer.value, confidence, method: measured('model-estimate', confidence), call: answer };
	},
	several(answer, read) {
		const labels = chosenLabels(answer, read);
		// one estimate for the whole answer: every label gets it
		const confidence = read.estimate(answer.value) ?? null;
		return { labels, scores: Object.fromEntries(labels.map((label) => [label, confidence])), method: measured('model-estimate', confidence) };
	},
};
