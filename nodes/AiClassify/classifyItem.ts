/**
 * One item through AI Classify: ask for a label from the categories only, measure confidence with the chosen
 * method, check the evidence against the text, and pick the output. A label outside the categories never
 * leaves: the schema rejects it, the model is asked again, and then the item goes to Needs Review.
 */
import type { ItemContext, ItemOutcome } from '../../shared/aiStep';
import { agreement, type ConfidenceSetting, labelShares, resolveMethod, valueProbability } from '../../shared/confidence';
import type { ConfidenceMethod } from '../../shared/contract';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { checkQuotes } from '../../shared/evidence';
import { askStructured, type Answer, InvalidAnswerError } from '../../shared/structured';
import { answerSchema, buildInstructions, type Category, type ClassifyAnswer, reviewerAnswerSchema } from './prompt';

export interface ClassifySettings {
	text: unknown;
	categories: Category[];
	multiLabel: boolean;
	instructions: string;
	confidence: ConfidenceSetting;
	samples: number;
	threshold: number;
	/** false: every item leaves on output 0 */
	routeByCategory: boolean;
	/** prompt and schema by settings, for this run only */
	memo: Map<string, { instructions: string; schema: ReturnType<typeof answerSchema>; answerSchema: JsonSchema }>;
}

export async function classifyItem(item: ItemContext, settings: ClassifySettings): Promise<ItemOutcome[]> {
	const names = settings.categories.map((c) => c.name) as [string, ...string[]];
	const reviewOutput = settings.routeByCategory ? names.length : 0;
	const text = item.prepareText(settings.text, 'Text');
	const method = resolveMethod(settings.confidence, item.client.supportsLogprobs);
	const askConfidence = method === 'model-estimate';
	// the same prompt and schema serve every item with the same settings: build them once per run
	const memoKey = JSON.stringify([settings.categories, settings.multiLabel, settings.instructions, askConfidence]);
	let prompt = settings.memo.get(memoKey);
	if (!prompt) {
		prompt = {
			instructions: buildInstructions(settings.categories, settings.multiLabel, settings.instructions, askConfidence),
			schema: answerSchema(names, settings.multiLabel, askConfidence),
			// the shape of `answer` (a category, or several), published for corrections downstream
			answerSchema: reviewerAnswerSchema(names, settings.multiLabel),
		};
		settings.memo.set(memoKey, prompt);
	}
	const { instructions, schema } = prompt;
	const promptParts = { step: 'classify', instructions, method, samples: settings.samples };
	const k = method === 'k-sample' ? Math.max(2, settings.samples) : 1;
	const request = {
		instructions,
		input: text,
		schemaName: 'classification',
		schemaDescription: 'Classification',
		samples: k,
		logprobs: method === 'logprobs',
		// k samples must be free to differ, or agreement measures nothing
		temperature: k > 1 ? Math.max(item.options.temperature, 0.7) : item.options.temperature,
		maxTokens: 1024,
	};

	let answer: Answer<ClassifyAnswer>;
	try {
		answer = (await askStructured(item.client, request, schema, item.policy)) as Answer<ClassifyAnswer>;
	} catch (error) {
		if (!(error instanceof InvalidAnswerError)) throw error;
		const failure = error as InvalidAnswerError & { usage?: Answer<unknown>['usage']; attempts?: number };
		const result = item.result(
			{
				answer: null,
				confidence: null,
				confidenceMethod: 'none',
				reason: `No valid answer after re-asking: ${error.problems}`,
				evidence: [],
				needsReview: true,
				reviewReason: 'no valid answer',
			},
			failure.usage ? { usage: failure.usage, attempts: failure.attempts ?? 0, latencyMs: 0, model: item.client.model } : undefined,
			promptParts,
		);
		result.answerSchema = prompt.answerSchema;
		return [{ output: reviewOutput, result }];
	}

	let usedMethod: ConfidenceMethod = method;
	let labels: string[];
	let scores: Record<string, number | null>;
	let call: Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model'> = answer;

	if (settings.multiLabel) {
		const chosen = [...new Set(answer.value.labels ?? [])];
		if (method === 'k-sample') {
			const shares = labelShares(answer.samples.map((s) => s.labels ?? []), k);
			// a label enters when most samples carry it
			labels = [...shares].filter(([, share]) => share > 0.5).map(([label]) => label);
			scores = Object.fromEntries([...shares].map(([label, share]) => [label, share]));
		} else if (method === 'logprobs') {
			labels = chosen;
			scores = Object.fromEntries(chosen.map((label) => [label, valueProbability(answer.logprobs, 'labels', label) ?? null]));
			if (Object.values(scores).some((s) => s === null)) {
				usedMethod = 'model-estimate';
			}
		} else {
			labels = chosen;
			scores = Object.fromEntries(chosen.map((label) => [label, answer.value.confidence ?? null]));
		}
	} else {
		let label = answer.value.label!;
		let confidence: number | null = null;
		if (method === 'k-sample') {
			const vote = agreement(answer.samples, (s) => s.label ?? '', k)!;
			label = vote.majority;
			confidence = vote.share;
		} else if (method === 'logprobs') {
			confidence = valueProbability(answer.logprobs, 'label', label) ?? null;
			if (confidence === null && settings.confidence === 'auto') {
				// the server gave no log-probabilities: measure agreement instead, as "auto" promises
				const more = (await askStructured(item.client, { ...request, samples: Math.max(2, settings.samples) - 1, logprobs: false, temperature: 0.7 }, schema, item.policy)) as Answer<ClassifyAnswer>;
				const vote = agreement([answer.value, ...more.samples], (s) => s.label ?? '', Math.max(2, settings.samples))!;
				label = vote.majority;
				confidence = vote.share;
				usedMethod = 'k-sample';
				call = {
					...answer,
					usage: {
						inputTokens: answer.usage.inputTokens + more.usage.inputTokens,
						outputTokens: answer.usage.outputTokens + more.usage.outputTokens,
						cachedInputTokens: answer.usage.cachedInputTokens + more.usage.cachedInputTokens,
						cacheWriteTokens: answer.usage.cacheWriteTokens + more.usage.cacheWriteTokens,
						requests: answer.usage.requests + more.usage.requests,
					},
					attempts: answer.attempts + more.attempts,
					latencyMs: answer.latencyMs + more.latencyMs,
				};
			} else if (confidence === null) {
				usedMethod = 'none';
			}
		} else {
			confidence = answer.value.confidence ?? null;
		}
		labels = [label];
		scores = { [label]: confidence };
	}

	const confident = labels.filter((label) => (scores[label] ?? -1) >= settings.threshold);
	const confidence = labels.length ? Math.min(...labels.map((l) => scores[l] ?? 0)) : null;
	const { found } = checkQuotes(text, answer.value.evidence);
	const needsReview = confident.length === 0 || (!settings.multiLabel && confident.length !== labels.length);
	const result = item.result(
		{
			answer: settings.multiLabel ? labels : labels[0],
			confidence: labels.some((l) => scores[l] === null) ? null : confidence,
			confidenceMethod: labels.some((l) => scores[l] === null) ? 'none' : usedMethod,
			reason: answer.value.reason,
			evidence: found,
			needsReview,
			...(needsReview
				? { reviewReason: labels.length === 0 ? 'no label agreed' : confidence === null ? 'no confidence' : 'below threshold' }
				: {}),
		},
		call,
		promptParts,
	);
	const extra = {
		answerSchema: prompt.answerSchema,
		...(settings.multiLabel ? { labels, scores } : { label: labels[0] }),
		threshold: settings.threshold,
		samples: method === 'k-sample' || usedMethod === 'k-sample' ? answer.samples.length : undefined,
		unsupportedEvidence: answer.value.evidence.length - found.length,
	};
	Object.assign(result, extra);
	if (needsReview || !settings.routeByCategory) return [{ output: needsReview ? reviewOutput : 0, result }];
	return confident.map((label) => ({ output: names.indexOf(label), result }));
}
