import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { type ItemContext, type ItemOutcome, runAiStep } from '../../shared/aiStep';
import { versionDescription } from './description';
import { type DecideConfidence, decideItem, type DecideSettings, reviewerAnswerSchema } from './decideItem';
import { type Action, ConfigProblem, evaluateRules, parseActions, parseRules, type Rule } from './rules';

export class AiDecide implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// the actions define the outputs, so the first item's list fixes them
		const outputActions = readActions(this, 0);
		const answerSchemas: DecideSettings['answerSchemas'] = new Map();
		return await runAiStep(this, {
			step: 'decide',
			defaultKey: 'decide',
			outputCount: outputActions.length + 1,
			reviewOutput: outputActions.length,
			process: async (item) => await decideOne(this, item, outputActions, answerSchemas),
			answerSchema: (itemIndex) => {
				const names = readActions(this, itemIndex).map((a) => a.name);
				return reviewerAnswerSchema(names, evaluateRules(names, readRules(this, itemIndex, names)).forbidden, answerSchemas);
			},
		});
	}
}

/** Reads one item's settings and decides it; a configuration problem becomes an error naming item and field. */
async function decideOne(
	ctx: IExecuteFunctions,
	item: ItemContext,
	outputActions: Action[],
	answerSchemas: DecideSettings['answerSchemas'],
): Promise<ItemOutcome> {
	const itemIndex = item.itemIndex;
	try {
		const actions = readActions(ctx, itemIndex);
		if (actions.map((a) => a.name).join('\u0000') !== outputActions.map((a) => a.name).join('\u0000')) {
			throw new NodeOperationError(ctx.getNode(), 'The action names must be the same for every item: they are the outputs', {
				itemIndex,
				description: 'Check the "Actions" parameter: expressions in action names must give the same names for every item.',
			});
		}
		return await decideItem(item, {
			context: ctx.getNodeParameter('context', itemIndex),
			policy: String(ctx.getNodeParameter('policy', itemIndex, '') ?? ''),
			actions,
			// read per item: each rule's condition is an expression evaluated against this item
			rules: readRules(ctx, itemIndex, actions.map((a) => a.name)),
			confidence: ctx.getNodeParameter('confidenceMethod', itemIndex, 'model-estimate') as DecideConfidence,
			samples: Number(ctx.getNodeParameter('samples', itemIndex, 5)),
			threshold: Number(ctx.getNodeParameter('threshold', itemIndex, 0.7)),
			answerSchemas,
		});
	} catch (error) {
		if (!(error instanceof ConfigProblem)) throw error;
		throw new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description: `Check the "${error.field}" parameter (item ${itemIndex}).`,
		});
	}
}

/** The hard rules for one item: each condition is an expression evaluated against the item. */
function readRules(ctx: IExecuteFunctions, itemIndex: number, actionNames: string[]): Rule[] {
	return parseRules((ctx.getNodeParameter('rules.rule', itemIndex, []) as Array<Record<string, unknown>>) ?? [], actionNames);
}

function readActions(ctx: IExecuteFunctions, itemIndex: number): Action[] {
	const raw = (ctx.getNodeParameter('actions.action', itemIndex, []) as Array<Record<string, unknown>>) ?? [];
	try {
		return parseActions(raw);
	} catch (error) {
		if (!(error instanceof ConfigProblem)) throw error;
		throw new NodeOperationError(ctx.getNode(), error.message, { itemIndex, description: `Check the "${error.field}" parameter.` });
	}
}
