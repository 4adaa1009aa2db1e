/** Log-probabilities: the probability of the tokens that spell the chosen value (OpenAI-compatible servers). */
import { valueProbability } from './measures';
import { chosenLabels, type ConfidenceStrategy, measured } from './strategy';

export const logprobs: ConfidenceStrategy = {
	method: 'logprobs',
	sampling: (temperature) => ({ samples: 1, logprobs: true, estimate: false, temperature }),
	async one(answer, read) {
		const value = read.of(answer.value);
		const confidence = valueProbability(answer.logprobs, read.field, value) ?? null;
		return { value, sample: answer.value, confidence, method: measured('logprobs', confidence), call: answer };
	},
	several(answer, read) {
		const labels = chosenLabels(answer, read);
		const scores = Object.fromEntries(labels.map((label) => [label, valueProbability(answer.logprobs, read.field, label) ?? null]));
		return { labels, scores, method: Object.values(scores).includes(null) ? 'none' : 'logprobs' };
	},
};
