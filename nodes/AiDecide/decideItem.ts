/**
 * AI Decide's run: the actions (the outputs) are read once per run, and items with the same policy and allowed
 * actions share one prompt. Each item then goes through: hard rules first (a forced action makes no model
 * call), then the model chooses among the allowed actions only, with reason, evidence and confidence. Whatever
 * goes wrong or stays unsure ends on Escalate: a forbidden or unknown action never leaves on an action output,
 * because the schema rejects it, the model is asked again, and the choice is checked once more in code.
 */
import { type INode, NodeOperationError } from 'n8n-workflow';

import type { AiStepConfig, ItemContext, ItemOutcome, StepOutputs } from '../../shared/aiStep';
import { type Call, confidenceStrategy } from '../../shared/confidence';
import type { AiResult, ConfidenceMethod } from '../../shared/contract';
import { perSettings } from '../../shared/node/parameters';
import { choiceAnswerSchema } from '../../shared/schema/answerSchema';
import type { JsonSchema } from '../../shared/schema/jsonSchemaToZod';
import { checkQuotes } from '../../shared/evidence';
import type { Answer } from '../../shared/structured';
import { answerSchema, buildInstructions, type DecideAnswer, fenceItem, unescapeItem } from './prompt';
import { type Action, ConfigProblem, ESCALATE, evaluateRules, isAllowedChoice, parseActions, parseRules, type Rule } from './rules';

export type DecideConfidence = 'model-estimate' | 'k-sample';

export interface DecideSettings {
	context: unknown;
	policy: string;
	actions: Action[];
	rules: Rule[];
	confidence: DecideConfidence;
	samples: number;
	threshold: number;
}

/** What the prompt is built from: items with the same policy, allowed actions and method share one. */
interface PromptSettings {
	policy: string;
	allowed: Action[];
	askConfidence: boolean;
}

interface DecidePrompt {
	instructions: string;
	choices: [string, ...string[]];
	schema: ReturnType<typeof answerSchema>;
}

export interface DecideRun extends StepOutputs {
	/** the actions of the first item: they are the outputs, every item must have the same names */
	outputActions: Action[];
	/** answer schemas by allowed actions (items with the same rules share one) */
	answerSchemas: Map<string, JsonSchema>;
	prompt(settings: PromptSettings): DecidePrompt;
}

const buildPrompt = ({ policy, allowed, askConfidence }: PromptSettings): DecidePrompt => {
	// escalate last, as on the outputs
	const list: string[] = [...allowed.map((a) => a.name), ESCALATE];
	const choices: [string, ...string[]] = [list[0], ...list.slice(1)];
	return { instructions: buildInstructions(policy, allowed, askConfidence), choices, schema: answerSchema(choices, askConfidence) };
};

export const decideStep: AiStepConfig<DecideRun> = {
	step: 'decide',
	defaultKey: 'decide',
	noValidAnswer: 'review',
	prepare({ ctx, param }) {
		const outputActions = readActions(ctx.getNode(), 0, (name, fallback) => param(name, 0, fallback));
		return {
			outputCount: outputActions.length + 1,
			reviewOutput: outputActions.length,
			outputActions,
			answerSchemas: new Map(),
			prompt: perSettings(buildPrompt),
		};
	},
	process: async (item, _input, prepared) => await decideOne(item, prepared),
	answerSchema(itemIndex, { ctx, param }, prepared) {
		const read: Read = (name, fallback) => param(name, itemIndex, fallback);
		const names = readActions(ctx.getNode(), itemIndex, read).map((a) => a.name);
		return reviewerAnswerSchema(names, evaluateRules(names, readRules(read, names)).forbidden, prepared.answerSchemas);
	},
};

/** Reads one item's settings and decides it; a configuration problem becomes an error naming item and field. */
async function decideOne(item: ItemContext, run: DecideRun): Promise<ItemOutcome> {
	const itemIndex = item.itemIndex;
	try {
		const actions = readActions(item.node, itemIndex, item.param);
		if (actions.map((a) => a.name).join('\u0000') !== run.outputActions.map((a) => a.name).join('\u0000')) {
			throw new NodeOperationError(item.node, 'The action names must be the same for every item: they are the outputs', {
				itemIndex,
				description: 'Check the "Actions" parameter: expressions in action names must give the same names for every item.',
			});
		}
		return await decideItem(
			item,
			{
				context: item.param('context'),
				policy: String(item.param('policy', '') ?? ''),
				actions,
				// read per item: each rule's condition is an expression evaluated against this item
				rules: readRules(item.param, actions.map((a) => a.name)),
				confidence: item.param<DecideConfidence>('confidenceMethod', 'model-estimate'),
				samples: Number(item.param('samples', 5)),
				threshold: Number(item.param('threshold', 0.7)),
			},
			run,
		);
	} catch (error) {
		if (!(error instanceof ConfigProblem)) throw error;
		throw new NodeOperationError(item.node, error.message, {
			itemIndex,
			description: `Check the "${error.field}" parameter (item ${itemIndex}).`,
		});
	}
}

type Read = <T>(name: string, fallback?: T) => T;

/** The hard rules for one item: each condition is an expression evaluated against the item. */
function readRules(read: Read, actionNames: string[]): Rule[] {
	return parseRules(read<Array<Record<string, unknown>>>('rules.rule', []) ?? [], actionNames);
}

function readActions(node: INode, itemIndex: number, read: Read): Action[] {
	const raw = read<Array<Record<string, unknown>>>('actions.action', []) ?? [];
	try {
		return parseActions(raw);
	} catch (error) {
		if (!(error instanceof ConfigProblem)) throw error;
		throw new NodeOperationError(node, error.message, { itemIndex, description: `Check the "${error.field}" parameter.` });
	}
}

/**
 * What a person may correct the answer to: any configured action no matched rule forbids for this item. A
 * forbidden action stays forbidden (the rules are the organisation's, not only the model's limits); actions
 * needing approval are allowed (the reviewer's approval is that approval); Escalate is not an answer a reviewer
 * gives: a reviewer who cannot settle the case rejects it.
 */
export function reviewerAnswerSchema(names: string[], forbidden: string[], memo: Map<string, JsonSchema>): JsonSchema {
	const allowed = names.filter((name) => !forbidden.includes(name));
	const key = allowed.join('\u0000');
	let schema = memo.get(key);
	if (!schema) {
		schema = choiceAnswerSchema(allowed);
		memo.set(key, schema);
	}
	return schema;
}

export async function decideItem(item: ItemContext, settings: DecideSettings, run: DecideRun): Promise<ItemOutcome> {
	const policy = String(settings.policy ?? '').trim();
	if (!policy) throw new ConfigProblem('Policy is empty: write the policy the decision must follow', 'Policy');
	const names = settings.actions.map((a) => a.name);
	const escalateOutput = names.length;
	const verdict = evaluateRules(names, settings.rules);
	const editSchema = reviewerAnswerSchema(names, verdict.forbidden, run.answerSchemas);
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
	const strategy = confidenceStrategy(settings.confidence, false, Math.floor(settings.samples));
	const sampling = strategy.sampling(item.options.temperature);
	const { instructions, choices, schema } = run.prompt({
		policy,
		allowed: settings.actions.filter((a) => allowed.includes(a.name)),
		askConfidence: sampling.estimate,
	});
	const promptParts = { step: 'decide', instructions, choices, method: settings.confidence, samples: sampling.samples };
	const request = {
		instructions,
		input: fenceItem(text),
		schemaName: 'decision',
		schemaDescription: 'The action chosen for the case under the policy',
		samples: sampling.samples,
		logprobs: false,
		temperature: sampling.temperature,
		maxTokens: 1024,
	};
	// what an escalated item carries besides the common result
	const escalation = { action: ESCALATE, rule: null, ...ruleFields, threshold: settings.threshold };

	const escalate = (
		own: { confidence: number | null; confidenceMethod: ConfidenceMethod; reason: string; evidence: string[]; reviewReason: string },
		call: Call,
		extra: Record<string, unknown>,
	): ItemOutcome => {
		const result: AiResult = item.result({ answer: ESCALATE, ...own, needsReview: true, requiresApproval: false }, call, promptParts);
		Object.assign(result, escalation, extra);
		return { output: escalateOutput, result };
	};

	const answer = (await item.ask(request, schema, {
		promptParts,
		answerSchema: editSchema,
		// Escalate is AI Decide's answer for review, and the reviewer's approval is not asked for
		reviewFields: { answer: ESCALATE, requiresApproval: false, ...escalation, proposedAction: null },
	})) as Answer<DecideAnswer>;
	const choice = await strategy.one(
		answer,
		{ field: 'action', of: (sample) => sample.action, estimate: (sample) => sample.confidence },
		async () => {
			throw new Error('AI Decide offers no confidence method that asks again');
		},
	);
	// reason and evidence from a sample that made the chosen action (with k samples, the majority's)
	const chosen = choice.sample;
	const confidence = choice.confidence;

	const quotes = chosen.evidence.map(unescapeItem);
	const { found } = checkQuotes(text, quotes);
	const common = {
		confidence,
		confidenceMethod: choice.method,
		reason: chosen.reason,
		evidence: found,
	};
	const extra = {
		proposedAction: chosen.action,
		samples: sampling.samples > 1 ? answer.samples.length : undefined,
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
