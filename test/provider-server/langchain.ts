/**
 * Answers the prompt format of n8n's LangChain chains (Text Classifier, Information Extractor, Structured
 * Output Parser): no response_format and no tool, but the system text carries LangChain's format
 * instructions with the JSON Schema to fill in a ```json block. The reply is that JSON in the same markdown
 * block, which is what LangChain's StructuredOutputParser expects from a real model.
 *
 * The Text Classifier's schema has one boolean per category ("Should be true if the input has category
 * \"billing\" (description: …)"): it is answered as a one-of-N choice with the same keyword scoring the
 * autoResponder gives an enum, so both n8n's node and ours get the same decision for the same text.
 */
import type { RecordedRequest, Reply } from './types';

type Schema = Record<string, any>;
/** Fills a schema for a request (the autoResponder's `answerFor`; passed in to keep imports one-way). */
export type SchemaFiller = (schema: object, req: RecordedRequest) => unknown;

/** LangChain's StructuredOutputParser.getFormatInstructions(), the sentence before the schema block. */
const FORMAT_MARKER = 'Here is the JSON Schema instance your output must adhere to';
const CATEGORY_DESCRIPTION = /^Should be true if the input has category "(.*)" \(description: ([\s\S]*)\)$/;

/** The JSON Schema of LangChain's format instructions in `text`, if it carries them. */
export function langchainSchema(text: string): Schema | undefined {
	const at = text.indexOf(FORMAT_MARKER);
	if (at === -1) return undefined;
	const block = /```json\s*\n([\s\S]*?)\n\s*```/.exec(text.slice(at));
	if (!block) return undefined;
	try {
		const schema = JSON.parse(block[1]);
		return typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? schema : undefined;
	} catch {
		return undefined;
	}
}

/** The categories of a Text Classifier schema (every property a boolean described as a category), else undefined. */
function classifierCategories(schema: Schema): Array<{ key: string; name: string; description: string }> | undefined {
	const props = schema.properties;
	if (typeof props !== 'object' || props === null) return undefined;
	const categories: Array<{ key: string; name: string; description: string }> = [];
	for (const [key, prop] of Object.entries(props as Record<string, Schema>)) {
		if (prop?.type !== 'boolean') return undefined;
		if (key === 'fallback') continue;
		const m = CATEGORY_DESCRIPTION.exec(String(prop.description ?? ''));
		if (!m) return undefined;
		categories.push({ key, name: m[1], description: m[2] });
	}
	return categories.length > 0 ? categories : undefined;
}

/**
 * The reply to a LangChain format-instructions request, or undefined when `req` is not one (the caller then
 * answers as usual). Requests that already ask for JSON natively (schema, json_object, tool) are left alone.
 */
export function langchainReply(req: RecordedRequest, fill: SchemaFiller): Reply | undefined {
	if (req.wantsJson) return undefined;
	const schema = langchainSchema(req.systemText);
	if (!schema) return undefined;
	const categories = classifierCategories(schema);
	let answer: unknown;
	if (categories) {
		// One label, scored like an enum whose values are described on their own lines ("- name: description").
		const lines = categories.map((c) => `- ${c.name}: ${c.description}`).join('\n');
		const chosen = fill({ type: 'string', enum: categories.map((c) => c.name) }, { ...req, systemText: lines });
		answer = Object.fromEntries(
			Object.keys(schema.properties as object).map((key) => [key, categories.some((c) => c.key === key && c.name === chosen)]),
		);
	} else {
		answer = fill(schema, req);
	}
	return { text: '```json\n' + JSON.stringify(answer) + '\n```' };
}
