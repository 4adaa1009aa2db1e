/**
 * AI Classify's run: the outputs and the prompt are prepared once per run, then each item is asked for a label
 * from the categories only, its confidence measured with the chosen method, its evidence checked against the
 * text, and its output picked. A label outside the categories never leaves: the schema rejects it, the model
 * is asked again, and then the item goes to Needs Review.
 */
import { type INode, NodeOperationError } from 'n8n-workflow';

import type { AiStepConfig, ItemContext, ItemOutcome, StepOutputs } from '../../shared/aiStep';
import { type Call, type ConfidenceSetting, confidenceStrategy } from '../../shared/confidence';
import type { ConfidenceMethod } from '../../shared/contract';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { checkQuotes } from '../../shared/evidence';
import { correctionsLoader, type RunCorrections } from '../../shared/node/correctionsProperties';
import { perSettings } from '../../shared/node/parameters';
import type { Answer } from '../../shared/structured';
import { openRunCache } from '../../shared/node/resultCacheProperties';
import { answerSchema, buildInstructions, type Category, type ClassifyAnswer, reviewerAnswerSchema } from './prompt';

export interface ClassifySettings {
	text: unknown;
	categories: Category[];
	multiLabel: boolean;
	instructions: string;
	confidence: ConfidenceSetting;
	samples: number;
	threshold: number;
}

/** What the prompt is built from: items whose categories, instructions and method agree share one. */
interface PromptSettings {
	categories: Category[];
	multiLabel: boolean;
	instructions: string;
	askConfidence: boolean;
	/** version 3, Learn From Corrections: the examples block the instructions end with ('' without) */
	examples: string;
}

interface ClassifyPrompt {
	instructions: string;
	schema: ReturnType<typeof answerSchema>;
	/** the shape of `answer` (a category, or several), published for corrections downstream */
	answerSchema: JsonSchema;
}

export interface ClassifyRun extends StepOutputs {
	/** false: every item leaves on output 0 */
	routeByCategory: boolean;
	prompt(settings: PromptSettings): ClassifyPrompt;
	/** version 3 with Learn From Corrections: the run's corrections, read once */
	corrections?: (itemIndex: number) => Promise<RunCorrections>;
}

const buildPrompt = ({ categories, multiLabel, instructions, askConfidence, examples }: PromptSettings): ClassifyPrompt => {
	const names = categories.map((c) => c.name) as [string, ...string[]];
	const base = buildInstructions(categories, multiLabel, instructions, askConfidence);
	return {
		instructions: examples ? `${base}\n${examples}` : base,
		schema: answerSchema(names, multiLabel, askConfidence),
		answerSchema: reviewerAnswerSchema(names, multiLabel),
	};
};

export const classifyStep: AiStepConfig<ClassifyRun> = {
	step: 'classify',
	defaultKey: 'classify',
	noValidAnswer: 'review',
	// version 3: items with the same text and settings share one request (shared/aiStep.ts)
	reuseFromVersion: 3,
	// version 4: the option "Items per Request" asks up to that many items in one request
	severalItemsFromVersion: 4,
	// version 4: the Result Cache option (shared/node/resultCacheProperties.ts)
	resultCache: { fromVersion: 4, open: openRunCache },
	prepare({ ctx, param }) {
		// the categories define the outputs, so the first item's list fixes them
		const routeByCategory = param<string>('routing', 0, 'byCategory') !== 'single';
		const categories = readCategories(ctx.getNode(), 0, (name, fallback) => param(name, 0, fallback));
		const names = categories.map((c) => c.name);
		const multiLabel = param<boolean>('multiLabel', 0, false);
		return {
			routeByCategory,
			outputCount: routeByCategory ? categories.length + 1 : 1,
			reviewOutput: routeByCategory ? categories.length : 0,
			prompt: perSettings(buildPrompt),
			// a correction counts only when the person's label(s) are among today's categories
			corrections: correctionsLoader(
				{ ctx, param },
				{
					step: 'classify',
					accept: (answer) => {
						if (multiLabel) {
							const ok = Array.isArray(answer) && answer.length > 0 && answer.every((l) => typeof l === 'string' && names.includes(l));
							return ok ? { labels: answer } : undefined;
						}
						return typeof answer === 'string' && names.includes(answer) ? { label: answer } : undefined;
					},
				},
				'classify',
			),
		};
	},
	process: async (item, _input, run) =>
		await classifyItem(
			item,
			{
				text: item.param('text'),
				categories: readCategories(item.node, item.itemIndex, item.param),
				multiLabel: item.param('multiLabel', false),
				instructions: item.param('instructions', ''),
				confidence: item.param<ConfidenceSetting>('confidenceMethod', 'auto'),
				samples: item.param('samples', 5),
				threshold: item.param('threshold', 0.7),
			},
			run,
		),
	answerSchema(itemIndex, { ctx, param }) {
		const read = <T>(name: string, fallback?: T) => param<T>(name, itemIndex, fallback);
		const names = readCategories(ctx.getNode(), itemIndex, read).map((c) => c.name);
		return reviewerAnswerSchema(names, read('multiLabel', false));
	},
};

export async function classifyItem(item: ItemContext, settings: ClassifySettings, run: ClassifyRun): Promise<ItemOutcome[]> {
	const names = settings.categories.map((c) => c.name);
	const text = item.prepareText(settings.text, 'Text');
	const strategy = confidenceStrategy(settings.confidence, item.client.supportsLogprobs, settings.samples);
	const sampling = strategy.sampling(item.options.temperature);
	const corrections = run.corrections ? await run.corrections(item.itemIndex) : undefined;
	const prompt = run.prompt({
		categories: settings.categories,
		multiLabel: settings.multiLabel,
		instructions: settings.instructions,
		askConfidence: sampling.estimate,
		examples: corrections?.block ?? '',
	});
	const { instructions, schema } = prompt;
	const promptParts = { step: 'classify', instructions, method: strategy.method, samples: settings.samples };
	const request = {
		instructions,
		input: text,
		schemaName: 'classification',
		schemaDescription: 'Classification',
		samples: sampling.samples,
		logprobs: sampling.logprobs,
		temperature: sampling.temperature,
		maxTokens: 1024,
	};
	const answer = (await item.ask(request, schema, { promptParts, answerSchema: prompt.answerSchema })) as Answer<ClassifyAnswer>;

	let labels: string[];
	let scores: Record<string, number | null>;
	let usedMethod: ConfidenceMethod;
	let call: Call = answer;
	if (settings.multiLabel) {
		({ labels, scores, method: usedMethod } = strategy.several(answer, {
			field: 'labels',
			of: (sample) => sample.labels ?? [],
			estimate: (sample) => sample.confidence,
		}));
	} else {
		const choice = await strategy.one(
			answer,
			{ field: 'label', of: (sample) => sample.label ?? '', estimate: (sample) => sample.confidence },
			// Auto's further samples: an answer that stays invalid here fails the item like any other error
			async (more) => (await item.askAgain({ ...request, ...more }, schema)) as Answer<ClassifyAnswer>,
		);
		labels = [choice.value];
		scores = { [choice.value]: choice.confidence };
		usedMethod = choice.method;
		call = choice.call;
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
		samples: strategy.method === 'k-sample' || usedMethod === 'k-sample' ? answer.samples.length : undefined,
		unsupportedEvidence: answer.value.evidence.length - found.length,
		...(corrections ? { corrections: corrections.used } : {}),
	};
	Object.assign(result, extra);
	if (needsReview || !run.routeByCategory) return [{ output: needsReview ? run.reviewOutput : 0, result }];
	return confident.map((label) => ({ output: names.indexOf(label), result }));
}

/** The categories for one item: named, each name once; errors name the item. */
export function readCategories(node: INode, itemIndex: number, param: <T>(name: string, fallback?: T) => T): Category[] {
	const raw = param<Array<Record<string, string>>>('categories.category', []) ?? [];
	const categories = raw.map((c) => ({
		name: String(c.name ?? '').trim(),
		description: String(c.description ?? '').trim(),
		examples: String(c.examples ?? '')
			.split('\n')
			.map((e) => e.trim())
			.filter(Boolean),
	}));
	if (categories.length === 0) {
		throw new NodeOperationError(node, 'Add at least one category', { itemIndex });
	}
	const names = categories.map((c) => c.name);
	const empty = names.findIndex((n) => !n);
	if (empty >= 0) throw new NodeOperationError(node, `Category ${empty + 1} has no name`, { itemIndex });
	const duplicate = names.find((n, i) => names.indexOf(n) !== i);
	if (duplicate) throw new NodeOperationError(node, `The category "${duplicate}" is listed twice`, { itemIndex });
	return categories;
}
