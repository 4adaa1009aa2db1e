/**
 * What a reviewer sends: the review page's form (application/x-www-form-urlencoded) or the same
 * call as JSON for programmatic reviewers:
 *   { reviewer, comment?, items: [{ index, decision: 'approve' | 'reject', edits?, answer?, comment? }] }
 * Both are turned into one resolved decision per input item, or a ReviewInputError that names the
 * item and the field (answered with 400; the execution stays paused so the reviewer can retry).
 */
import type { z } from 'zod/v4';
import { jsonSchemaToZod, type JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { answerChecker } from './answerCheck';
import { answerEditor, readAnswerEditor } from './page/answerEditor';
import { applyFieldEdits, isPlainObject, jsonEqual } from './edits';
import { MAX_TEXT, REVIEW_ACTIONS, reviewDecisionJsonSchema, type ReviewSubmission } from './decisionSchema';

export { REVIEW_ACTIONS, type ReviewSubmission };

export class ReviewInputError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ReviewInputError';
	}
}

export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/**
 * The JSON call's published schema (decisionSchema.ts), as the node enforces it: the same document integrators
 * validate against. Fields it does not name are dropped, as before, rather than refused.
 */
export const reviewSubmissionSchema = jsonSchemaToZod(reviewDecisionJsonSchema, { strict: false, open: true }) as z.ZodType<ReviewSubmission>;

/** What the page and the decision logic need to know about one item under review. */
export interface ReviewableItem {
	index: number;
	/** the `ai.<key>` holding the answer, undefined when the item has no AI result */
	key?: string;
	answer?: unknown;
	/** the schema a corrected answer must satisfy (`ai.<key>.answerSchema`); absent on older results */
	answerSchema?: JsonSchema;
}

export interface ResolvedDecision {
	index: number;
	action: ReviewAction;
	/** set only when the reviewer changed the answer of an item they approved */
	newAnswer?: unknown;
	/** true when `newAnswer` differs from the AI's answer */
	changed: boolean;
	comment: string | null;
	/** who decided this item, when it differs per item (the Review Inbox); otherwise the review's reviewer */
	reviewer?: string;
}

export interface ResolvedReview {
	reviewer: string;
	decisions: ResolvedDecision[];
}

function zodMessage(error: z.ZodError): string {
	return error.issues
		.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : 'body'}: ${issue.message}`)
		.join('; ');
}

/** Validates a JSON body against the submission schema. */
export function parseJsonSubmission(body: unknown): ReviewSubmission {
	const parsed = reviewSubmissionSchema.safeParse(body);
	if (!parsed.success) throw new ReviewInputError(`Invalid review: ${zodMessage(parsed.error)}`);
	return parsed.data;
}

function formString(body: Record<string, unknown>, name: string): string | undefined {
	const value = body[name];
	if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
	return typeof value === 'string' ? value : undefined;
}

/**
 * Reads the review page's form: `reviewer`, and per item i `decision_i` (approve | reject),
 * `answer_i` (the answer as shown: plain text for a text answer, JSON otherwise) and `comment_i`.
 * An answer left as shown is not an edit.
 */
export function parseFormSubmission(
	body: Record<string, unknown>,
	items: ReviewableItem[],
): ReviewSubmission {
	const out: ReviewSubmission = { reviewer: formString(body, 'reviewer'), items: [] };
	for (const item of items) {
		const decision = formString(body, `decision_${item.index}`);
		if (decision === undefined || decision === '') {
			throw new ReviewInputError(`Item ${item.index}: choose Approve or Reject`);
		}
		if (!(REVIEW_ACTIONS as readonly string[]).includes(decision)) {
			throw new ReviewInputError(`Item ${item.index}: decision "${decision}" must be approve or reject`);
		}
		const entry: ReviewSubmission['items'][number] = {
			index: item.index,
			decision: decision as ReviewAction,
		};
		const comment = formString(body, `comment_${item.index}`)?.trim();
		if (comment) entry.comment = comment.slice(0, MAX_TEXT);
		const editor = item.key !== undefined ? answerEditor(item.answerSchema, item.answer) : undefined;
		const edited = editor ? readAnswerEditor(body, item.index, editor, item.answer) : undefined;
		if (typeof edited === 'object' && 'error' in edited) throw new ReviewInputError(`Item ${item.index}: ai.${item.key}.answer.${edited.error}`);
		if (typeof edited === 'object') entry.answer = edited.answer;
		const answerText = edited === undefined ? formString(body, `answer_${item.index}`) : undefined;
		if (answerText !== undefined && item.key !== undefined) {
			const shown = answerAsText(item.answer);
			if (normalizeNewlines(answerText).trim() !== shown.trim()) {
				entry.answer = textToAnswer(answerText, item);
			}
		}
		out.items.push(entry);
	}
	return out;
}

function normalizeNewlines(text: string): string {
	return text.replace(/\r\n?/g, '\n');
}

/** How the page shows an answer for editing: text answers as they are, anything else as JSON. */
export function answerAsText(answer: unknown): string {
	if (typeof answer === 'string') return answer;
	return JSON.stringify(answer ?? null, null, 2);
}

function textToAnswer(text: string, item: ReviewableItem): unknown {
	if (typeof item.answer === 'string') return normalizeNewlines(text).trim();
	try {
		return JSON.parse(text);
	} catch (error) {
		throw new ReviewInputError(
			`Item ${item.index}: the edited answer is not valid JSON (${(error as Error).message})`,
		);
	}
}

/**
 * Checks a submission against the items under review: every item decided exactly once, edits
 * only where there is an AI answer to edit. Edits on rejected items are not applied (only
 * approved items carry the reviewer's corrections onward).
 */
export function resolveSubmission(
	submission: ReviewSubmission,
	items: ReviewableItem[],
	reviewer: string,
): ResolvedReview {
	const byIndex = new Map(items.map((item) => [item.index, item]));
	const check = answerChecker();
	const seen = new Set<number>();
	const decisions: ResolvedDecision[] = [];
	for (const entry of submission.items) {
		const item = byIndex.get(entry.index);
		if (!item) {
			throw new ReviewInputError(
				`Item ${entry.index}: there is no such item (this review has items 0 to ${items.length - 1})`,
			);
		}
		if (seen.has(entry.index)) throw new ReviewInputError(`Item ${entry.index}: decided more than once`);
		seen.add(entry.index);
		const comment = entry.comment?.trim() || submission.comment?.trim() || null;
		const decision: ResolvedDecision = { index: entry.index, action: entry.decision, changed: false, comment };
		const hasEdit = entry.edits !== undefined || entry.answer !== undefined;
		if (hasEdit && entry.decision === 'approve') {
			if (item.key === undefined) {
				throw new ReviewInputError(`Item ${entry.index}: has no AI result, so there is no answer to edit`);
			}
			if (entry.edits !== undefined && entry.answer !== undefined) {
				throw new ReviewInputError(`Item ${entry.index}: send either "edits" or "answer", not both`);
			}
			const newAnswer = entry.answer !== undefined ? entry.answer : applyEditsValue(entry.edits, item);
			decision.newAnswer = newAnswer;
			decision.changed = !jsonEqual(newAnswer, item.answer);
			// a correction is held to the step's own contract; the AI's answer approved as it is stays as today
			if (decision.changed && item.answerSchema) {
				const problems = check(item.answerSchema, newAnswer, `ai.${item.key}.answer`);
				if (problems.length) throw new ReviewInputError(`Item ${entry.index}: ${problems.join('; ')}`);
			}
		}
		decisions.push(decision);
	}
	const missing = items.filter((item) => !seen.has(item.index)).map((item) => item.index);
	if (missing.length) {
		throw new ReviewInputError(`Every item needs a decision; missing: item ${missing.join(', item ')}`);
	}
	decisions.sort((a, b) => a.index - b.index);
	return { reviewer, decisions };
}

function applyEditsValue(edits: unknown, item: ReviewableItem): unknown {
	if (isPlainObject(edits)) {
		if (!isPlainObject(item.answer)) {
			throw new ReviewInputError(
				`Item ${item.index}: the AI answer is not a record, so "edits" must be the new answer itself (or use "answer")`,
			);
		}
		try {
			return applyFieldEdits(item.answer, edits);
		} catch (error) {
			throw new ReviewInputError(`Item ${item.index}: ${(error as Error).message}`);
		}
	}
	if (isPlainObject(item.answer)) {
		throw new ReviewInputError(
			`Item ${item.index}: the AI answer is a record, so "edits" must map field paths to new values (or use "answer")`,
		);
	}
	return edits;
}
