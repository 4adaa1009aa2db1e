/**
 * The confidence methods, one strategy each (shared/confidence/): what each asks the request for and what it
 * measures from the answers, on answers made here (no provider involved), and the measures they share.
 */
import { type Answer } from '../../shared/structured';
import {
	agreement,
	type AskAgain,
	type ChoiceReader,
	confidenceStrategy,
	labelShares,
	valueProbability,
} from '../../shared/confidence';
import { emptyUsage } from '../../shared/cost';
import type { TokenLogprob } from '../../shared/providers/types';

interface Sample {
	label?: string;
	labels?: string[];
	confidence?: number;
}

const usage = (requests: number) => ({ ...emptyUsage(), inputTokens: 10 * requests, outputTokens: 2 * requests, requests });

function answerOf(samples: Sample[], logprobs?: TokenLogprob[]): Answer<Sample> {
	return {
		value: samples[0],
		samples,
		logprobs,
		text: JSON.stringify(samples[0]),
		usage: usage(1),
		attempts: 1,
		reasks: 0,
		latencyMs: 5,
		model: 'm',
	};
}

/** Tokens that spell `{"label":"<label>"}`, the label's own token carrying `logprob`. */
const tokensFor = (label: string, logprob: number): TokenLogprob[] => [
	{ token: '{"label":"', logprob: 0 },
	{ token: label, logprob },
	{ token: '"}', logprob: 0 },
];

const one: ChoiceReader<Sample> = { field: 'label', of: (s) => s.label ?? '', estimate: (s) => s.confidence };
const several: ChoiceReader<Sample, string[]> = { field: 'labels', of: (s) => s.labels ?? [], estimate: (s) => s.confidence };
const neverAsked: AskAgain<Sample> = async () => {
	throw new Error('asked again');
};

describe('the measures', () => {
	it('valueProbability sums the log-probabilities of the tokens that spell the value, quotes excluded', () => {
		const tokens: TokenLogprob[] = [
			{ token: '{"label":"', logprob: -0.5 },
			{ token: 'bill', logprob: -0.1 },
			{ token: 'ing', logprob: -0.2 },
			{ token: '","reason":"billing"}', logprob: -3 },
		];
		expect(valueProbability(tokens, 'label', 'billing')).toBeCloseTo(Math.exp(-0.3), 12);
		// the second occurrence after the field (here in the reason), for a label named twice
		expect(valueProbability(tokens, 'label', 'billing', 1)).toBeCloseTo(Math.exp(-3), 12);
		expect(valueProbability(tokens, 'label', 'billing', 2)).toBeUndefined();
		expect(valueProbability(tokens, 'label', 'outage')).toBeUndefined();
		expect(valueProbability(tokens, 'missing', 'billing')).toBeUndefined();
		expect(valueProbability(undefined, 'label', 'billing')).toBeUndefined();
	});

	it('agreement divides by the samples asked for, and a tie goes to the first answer', () => {
		expect(agreement(['a', 'b', 'a'], (s) => s, 5)).toEqual({ majority: 'a', share: 2 / 5 });
		expect(agreement(['b', 'a'], (s) => s, 2)).toEqual({ majority: 'b', share: 1 / 2 });
		expect(agreement([], (s) => s, 3)).toBeUndefined();
	});

	it('labelShares counts a label once per sample', () => {
		expect(labelShares([['a', 'a', 'b'], ['a'], []], 4)).toEqual(new Map([['a', 2 / 4], ['b', 1 / 4]]));
	});
});

describe('confidence strategies', () => {
	it('log-probabilities: one sample with log-probabilities, the probability of the label tokens', async () => {
		const strategy = confidenceStrategy('logprobs', true, 5);
		expect(strategy.method).toBe('logprobs');
		expect(strategy.sampling(0.2)).toEqual({ samples: 1, logprobs: true, estimate: false, temperature: 0.2 });
		const answer = answerOf([{ label: 'outage' }], tokensFor('outage', -0.25));
		const choice = await strategy.one(answer, one, neverAsked);
		expect(choice).toMatchObject({ value: 'outage', confidence: Math.exp(-0.25), method: 'logprobs' });
		expect(choice.call).toBe(answer);
	});

	it('log-probabilities, set explicitly, report no method when the server gave none', async () => {
		const choice = await confidenceStrategy('logprobs', true, 5).one(answerOf([{ label: 'outage' }]), one, neverAsked);
		expect(choice).toMatchObject({ value: 'outage', confidence: null, method: 'none' });
	});

	it('k samples: k answers at a temperature that lets them differ, the majority and its share', async () => {
		const strategy = confidenceStrategy('k-sample', true, 4);
		expect(strategy.sampling(0)).toEqual({ samples: 4, logprobs: false, estimate: false, temperature: 0.7 });
		expect(strategy.sampling(0.9).temperature).toBe(0.9);
		expect(confidenceStrategy('k-sample', false, 1).sampling(0).samples).toBe(2);
		const answer = answerOf([{ label: 'billing' }, { label: 'outage', confidence: 0.1 }, { label: 'outage' }]);
		const choice = await strategy.one(answer, one, neverAsked);
		// an invalid sample was dropped: 2 of the 4 asked for agree
		expect(choice).toMatchObject({ value: 'outage', confidence: 2 / 4, method: 'k-sample' });
		// the majority's own sample, for its reason and evidence
		expect(choice.sample).toBe(answer.samples[1]);
	});

	it('model estimate: the schema asks for it, and the answer carries it', async () => {
		const strategy = confidenceStrategy('model-estimate', true, 5);
		expect(strategy.sampling(0.3)).toEqual({ samples: 1, logprobs: false, estimate: true, temperature: 0.3 });
		expect(await strategy.one(answerOf([{ label: 'access', confidence: 0.8 }]), one, neverAsked)).toMatchObject({
			value: 'access',
			confidence: 0.8,
			method: 'model-estimate',
		});
		expect(await strategy.one(answerOf([{ label: 'access' }]), one, neverAsked)).toMatchObject({ confidence: null, method: 'none' });
	});

	it('Auto uses k samples where the provider gives no log-probabilities', () => {
		expect(confidenceStrategy('auto', false, 3).method).toBe('k-sample');
		expect(confidenceStrategy('auto', false, 3).sampling(0).samples).toBe(3);
		expect(confidenceStrategy('auto', true, 3).method).toBe('logprobs');
	});

	it('Auto keeps log-probabilities when the server gives them, and asks nothing more', async () => {
		const choice = await confidenceStrategy('auto', true, 3).one(answerOf([{ label: 'outage' }], tokensFor('outage', -0.1)), one, neverAsked);
		expect(choice).toMatchObject({ value: 'outage', confidence: Math.exp(-0.1), method: 'logprobs' });
	});

	it('Auto falls back on k-1 more samples when the server gives no log-probabilities, the first answer counting', async () => {
		const asked: unknown[] = [];
		const more = answerOf([{ label: 'billing' }, { label: 'billing' }]);
		more.usage = usage(2);
		more.attempts = 2;
		const askAgain: AskAgain<Sample> = async (sampling) => {
			asked.push(sampling);
			return more;
		};
		const first = answerOf([{ label: 'outage' }]);
		const choice = await confidenceStrategy('auto', true, 3).one(first, one, askAgain);
		expect(asked).toEqual([{ samples: 2, logprobs: false, temperature: 0.7 }]);
		expect(choice).toMatchObject({ value: 'billing', confidence: 2 / 3, method: 'k-sample' });
		// both requests are counted
		expect(choice.call.usage).toEqual(usage(3));
		expect(choice.call.attempts).toBe(3);
		expect(choice.call.latencyMs).toBe(10);
	});

	it('several labels: shares of k samples, a label entering when most samples carry it', () => {
		const answer = answerOf([{ labels: ['a', 'b'] }, { labels: ['a'] }, { labels: ['a', 'b', 'c'] }, { labels: ['c'] }]);
		expect(confidenceStrategy('k-sample', true, 5).several(answer, several)).toEqual({
			labels: ['a'],
			scores: { a: 3 / 5, b: 2 / 5, c: 2 / 5 },
			method: 'k-sample',
		});
	});

	it('several labels: log-probabilities per label, none as soon as one is missing', () => {
		const tokens: TokenLogprob[] = [
			{ token: '{"labels":["', logprob: 0 },
			{ token: 'a', logprob: -0.2 },
			{ token: '","', logprob: 0 },
			{ token: 'b', logprob: -0.4 },
			{ token: '"]}', logprob: 0 },
		];
		const strategy = confidenceStrategy('logprobs', true, 5);
		expect(strategy.several(answerOf([{ labels: ['a', 'b', 'a'] }], tokens), several)).toEqual({
			labels: ['a', 'b'],
			scores: { a: Math.exp(-0.2), b: Math.exp(-0.4) },
			method: 'logprobs',
		});
		expect(strategy.several(answerOf([{ labels: ['a', 'z'] }], tokens), several)).toMatchObject({ scores: { a: Math.exp(-0.2), z: null }, method: 'none' });
	});

	it('several labels: the model estimate for every label', () => {
		expect(confidenceStrategy('model-estimate', true, 5).several(answerOf([{ labels: ['a', 'b'], confidence: 0.6 }]), several)).toEqual({
			labels: ['a', 'b'],
			scores: { a: 0.6, b: 0.6 },
			method: 'model-estimate',
		});
	});
});
