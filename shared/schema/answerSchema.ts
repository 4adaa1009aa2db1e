/**
 * The shape an AI step's answer must have, as a JSON Schema published on the result (`ai.<key>.answerSchema`).
 * Human Checkpoint cannot see the AI node's parameters, so this is how a person's correction is held to the same
 * contract as the model's answer: a category from the list, an allowed action, a record of the extraction schema.
 * Every schema here is one `jsonSchemaToZod` accepts.
 */
import type { JsonSchema } from './jsonSchemaToZod';

/** One value of a fixed list (a category, an action). An empty list allows no value at all. */
export function choiceAnswerSchema(values: readonly string[]): JsonSchema {
	return { type: 'string', enum: [...values] };
}

/** Several values of a fixed list, at least one, each once (multi-label categories). */
export function choicesAnswerSchema(values: readonly string[]): JsonSchema {
	return { type: 'array', items: { type: 'string', enum: [...values] }, minItems: 1, uniqueItems: true };
}
