/**
 * The prompt and answer schema of AI Classify, in one place. The static part (instructions and categories)
 * is identical for every item of a run and comes first; the item's text is sent last, on its own.
 */
import { z } from 'zod/v4';

import { choiceAnswerSchema, choicesAnswerSchema } from '../../shared/schema/answerSchema';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';

export interface Category {
	name: string;
	description: string;
	examples: string[];
}

export function buildInstructions(categories: Category[], multiLabel: boolean, extra: string, askConfidence: boolean): string {
	// every word here is paid for on every item: keep it short (n8n's Text Classifier spends ~540 tokens)
	const lines = categories.map((c) => {
		const examples = c.examples.length ? ` (e.g. ${c.examples.map((e) => JSON.stringify(e)).join(', ')})` : '';
		return `${c.name}${c.description ? `: ${c.description}` : ''}${examples}`;
	});
	return [
		multiLabel ? 'Pick every category that fits the text:' : 'Pick one category for the text:',
		...lines,
		`Reason: one sentence. Evidence: verbatim quotes.${askConfidence ? ' Confidence: 0 to 1.' : ''}`,
		...(extra.trim() ? [extra.trim()] : []),
	].join('\n');
}

/** The answer the model must give. The label comes first so its tokens' log-probabilities are easy to find. */
export function answerSchema(names: [string, ...string[]], multiLabel: boolean, askConfidence: boolean) {
	const label = z.enum(names);
	return z.object({
		...(multiLabel ? { labels: z.array(label).min(1) } : { label }),
		reason: z.string(),
		evidence: z.array(z.string()),
		...(askConfidence ? { confidence: z.number().min(0).max(1) } : {}),
	});
}

/** The shape a person's corrected answer must have: a category, or several (published as `answerSchema`). */
export function reviewerAnswerSchema(names: string[], multiLabel: boolean): JsonSchema {
	return multiLabel ? choicesAnswerSchema(names) : choiceAnswerSchema(names);
}

/** Every shape `answerSchema` can produce, for typing the code that reads answers. */
export const anyClassifyAnswer = z.object({
	label: z.string().optional(),
	labels: z.array(z.string()).optional(),
	reason: z.string(),
	evidence: z.array(z.string()),
	confidence: z.number().optional(),
});
export type ClassifyAnswer = z.infer<typeof anyClassifyAnswer>;
