/**
 * One item through AI Decide: hard rules first (a forced action makes no model call), then the model chooses
 * among the allowed actions only, with reason, evidence and confidence. Whatever goes wrong or stays unsure
 * ends on Escalate: a forbidden or unknown action never leaves on an action output, because the schema
 * rejects it, the model is asked again, and the choice is checked once more in code.
 */
import type { ItemContext, ItemOutcome } from '../../shared/aiStep';
import { agreement } from '../../shared/confidence';
import type { AiResult, ConfidenceMethod } from '../../shared/contract';
import { choiceAnswerSchema } from '../../shared/schema/answerSchema';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { checkQuotes } from '../../shared/evidence';
import { askStructured, type Answer, InvalidAnswerError } from '../../shared/structured';
import { answerSchema, buildInstructions, type DecideAnswer, fenceItem, unescapeItem } from './prompt';
import { type Action, ConfigProblem, ESCALATE, evaluateRules, isAllowedChoice, type Rule } from './rules';

export type DecideConfidence = 'model-estimate' | 'k-sample';

export interface DecideSettings {
	context: unknown;
	policy: string;
	actions: Action[];
	rules: Rule[];
	confidence: DecideConfidence;
	samples: number;
	threshold: number;
	/** answer schemas by allowed actions, for this run only (items with the same rules share one) */
	answerSchemas?: Map<string, JsonSchema>;
}

/**
 * What a person may correct the answer to: any configured action no matched rule forbids for this item. A
 * forbidden action stays forbidden (the rules are the organisation's, not only the model's limits); actions
 * needing approval are allowed (the reviewer's approval is that approval); Escalate is not an answer a reviewer
 * gives: a reviewer who cannot settle the case rejects it.
 */
export function reviewerAnswerSchema(names: string[], forbidden: string[], memo: Map<string, JsonSchema> | undefined): JsonSchema {
	const allowed = names.filter((name) => !forbidden.includes(name));
	const key = allowed.join('\u0000');
	let schema = memo?.get(key);
	if (!schema) {
		schema = choiceAnswerSchema(allowed);
		memo?.set(key, schema);
	}
	return schema;
}

type Call = Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model'>;

export async function decideItem(item: ItemContext, settings: DecideSettings): Promise<ItemOutcome> {
	const policy = String(settings.policy ?? '').trim();
	if (!policy) throw new ConfigProblem('Policy is empty: write the policy the decision must follow', 'Policy');
	const names = settings.actions.map((a) => a.name);
	const escalateOutput = names.length;
	const verdict = evaluateRules(names, settings.rules);
	const editSchema = reviewerAnswerSchema(names, verdict.forbidden, settings.answerSchemas);
	const ruleFields = { rulesMatched: verdict.matched, forbidden: verdict.forbidden, answerSchema: editSchema };
	const needsApproval = (action: string) => settings.actions.find((a) => a.name === action)?.needsApproval ?? false;

	// Rules decide alone: no text is prepared and no request is made.
	if (verdict.kind === 'force' || verdict.kind === 'escalate') {
		const action = verdict.kind === 'force' ? verdict.action : ESCALATE;
		const escalated = action === ESCALATE;
		const reason =
			verdict.kind === 'force' ? `Rule "${verdict.rule}" forces ${action}` : `Escalated without asking the model: ${verdict.reason}`;
		const result = item.result(
			{
				answer: action,
				confidence: 1,
				confidenceMethod: 'rule',
				reason,
				evidence: [],
				needsReview: escalated,
				...(escalated ? { reviewReason: verdict.kind === 'force' ? `rule "${verdict.rule}"` : verdict.reason } : {}),
				requiresApproval: needsApproval(action),
			},
			undefined,
			{ step: 'decide', rules: verdict },
		);
		Object.assign(result, { action, proposedAction: null, rule: verdict.rule, ...ruleFields });
		return { output: escalated ? escalateOutput : names.indexOf(action), result };
	}

	const text = item.prepareText(settings.context, 'Context');
	const allowed = verdict.allowed;
	const askConfidence = settings.confidence === 'model-estimate';
	const instructions = buildInstructions(
		policy,
		settings.actions.filter((a) => allowed.includes(a.name)),
		askConfidence,
	);
	// escalate last, as on the outputs
	const list: string[] = [...allowed, ESCALATE];
	const choices: [string, ...string[]] = [list[0], ...list.slice(1)];
	const schema = answerSchema(choices, askConfidence);
	const k = settings.confidence === 'k-sample' ? Math.max(2, Math.floor(settings.samples)) : 1;
	const promptParts = { step: 'decide', instructions, choices, method: settings.confidence, samples: k };
	const request = {
		instructions,
		input: fenceItem(text),
		schemaName: 'decision',
		schemaDescription: 'The action chosen for the case under the policy',
		samples: k,
		logprobs: false,
		// k samples must be free to differ, or agreement measures nothing
		temperature: k > 1 ? Math.max(item.options.temperature, 0.7) : item.options.temperature,
		maxTokens: 1024,
	};

	const escalate = (
		own: { confidence: number | null; confidenceMethod: ConfidenceMethod; reason: string; evidence: string[]; reviewReason: string },
		call: Call | undefined,
		extra: Record<string, unknown>,
	): ItemOutcome => {
		const result: AiResult = item.result(
			{ answer: ESCALATE, ...own, needsReview: true, requiresApproval: false },
			call,
			promptParts,
		);
		Object.assign(result, { action: ESCALATE, rule: null, ...ruleFields, threshold: settings.threshold, ...extra });
		return { output: escalateOutput, result };
	};

	let answer: Answer<DecideAnswer>;
	try {
		answer = (await askStructured(item.client, request, schema, item.policy)) as Answer<DecideAnswer>;
	} catch (error) {
		if (!(error instanceof InvalidAnswerError)) throw error;
		const failure = error as InvalidAnswerError & { usage?: Answer<unknown>['usage']; attempts?: number };
		return escalate(
			{
				confidence: null,
				confidenceMethod: 'none',
				reason: `No valid answer after re-asking: ${error.problems}`,
				evidence: [],
				reviewReason: 'no valid answer',
			},
			failure.usage ? { usage: failure.usage, attempts: failure.attempts ?? 0, latencyMs: 0, model: item.client.model } : undefined,
			{ proposedAction: null },
		);
	}

	let chosen: DecideAnswer = answer.value;
	let confidence: number | null;
	let method: ConfidenceMethod;
	if (k > 1) {
		const vote = agreement(answer.samples, (s) => s.action, k)!;
		// reason and evidence from a sample that chose the majority action
		chosen = answer.samples.find((s) => s.action === vote.majority) ?? answer.value;
		confidence = vote.share;
		method = 'k-sample';
	} else {
		confidence = answer.value.confidence ?? null;
		method = confidence === null ? 'none' : 'model-estimate';
	}

	const quotes = chosen.evidence.map(unescapeItem);
	const { found } = checkQuotes(text, quotes);
	const common = {
		confidence,
		confidenceMethod: method,
		reason: chosen.reason,
		evidence: found,
	};
	const extra = {
		proposedAction: chosen.action,
		samples: k > 1 ? answer.samples.length : undefined,
		unsupportedEvidence: quotes.length - found.length,
	};

	// checked again in code: the schema is not the only guard
	if (!isAllowedChoice(chosen.action, allowed)) {
		return escalate({ ...common, reviewReason: 'action not allowed' }, answer, extra);
	}
	if (chosen.action === ESCALATE) return escalate({ ...common, reviewReason: 'model escalated' }, answer, extra);
	if (confidence === null) return escalate({ ...common, reviewReason: 'no confidence' }, answer, extra);
	if (confidence < settings.threshold) return escalate({ ...common, reviewReason: 'below threshold' }, answer, extra);

	const action = chosen.action;
	const result = item.result(
		{ answer: action, ...common, needsReview: false, requiresApproval: needsApproval(action) },
		answer,
		promptParts,
	);
	Object.assign(result, { action, rule: null, ...ruleFields, threshold: settings.threshold, ...extra });
	return { output: names.indexOf(action), result };
}
