/**
 * What every confidence method offers the AI nodes: how the request must be made so the method can measure,
 * and the measurement itself, for one choice (a label, an action) or for several labels (multi-label).
 */
import type { ConfidenceMethod } from '../contract';
import type { Answer } from '../structured';

/** The part of an answer that the result reports as the call: usage, attempts, latency. */
export type Call = Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model'>;

/** How to ask: how many answers, with or without log-probabilities, and whether the model rates itself. */
export interface Sampling {
	samples: number;
	logprobs: boolean;
	/** the answer schema asks for the model's own estimate */
	estimate: boolean;
	temperature: number;
}

/** Where a choice sits in an answer: the JSON field whose tokens spell it, and how to read it from a sample. */
export interface ChoiceReader<T, V = string> {
	field: string;
	of(sample: T): V;
	/** the model's own estimate in the sample, when it gave one */
	estimate(sample: T): number | undefined;
}

/** One choice and how sure the answers are of it. */
export interface Choice<T> {
	value: string;
	/** the answer it was read from: with k samples, the first that made the majority choice */
	sample: T;
	confidence: number | null;
	/** the method that measured it, 'none' when it could not */
	method: ConfidenceMethod;
	/** the requests it took: the answer's, and any further samples the measurement asked for */
	call: Call;
}

/** Several labels, each with its score (null where it could not be measured). */
export interface Choices {
	labels: string[];
	scores: Record<string, number | null>;
	method: ConfidenceMethod;
}

/** Asks again like the first request, with other sampling (Auto falls back on more samples this way). */
export type AskAgain<T> = (sampling: Pick<Sampling, 'samples' | 'logprobs' | 'temperature'>) => Promise<Answer<T>>;

export interface ConfidenceStrategy {
	/** the method a run uses, as it goes into the prompt hash */
	readonly method: 'logprobs' | 'k-sample' | 'model-estimate';
	/** the request's sampling, from the temperature the user set */
	sampling(temperature: number): Sampling;
	one<T>(answer: Answer<T>, read: ChoiceReader<T>, askAgain: AskAgain<T>): Promise<Choice<T>>;
	several<T>(answer: Answer<T>, read: ChoiceReader<T, string[]>): Choices;
}

/** The answer's labels, each once, in the model's order. */
export function chosenLabels<T>(answer: Answer<T>, read: ChoiceReader<T, string[]>): string[] {
	return [...new Set(read.of(answer.value))];
}

/** A measured confidence, or 'none' when there is nothing to label. */
export function measured(method: ConfidenceMethod, confidence: number | null): ConfidenceMethod {
	return confidence === null ? 'none' : method;
}
