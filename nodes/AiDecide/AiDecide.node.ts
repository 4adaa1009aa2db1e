import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { runAiStep } from '../../shared/aiStep';
import { versionDescription } from './description';
import { decideStep } from './decideItem';
import { ESCALATE } from './rules';

/** The actions defined on the node being edited, as the hard rules' lists offer them. */
function definedActions(ctx: ILoadOptionsFunctions): INodePropertyOptions[] {
	const actions = ctx.getCurrentNodeParameter('actions') as { action?: Array<{ name?: unknown; outputName?: unknown }> } | undefined;
	const seen = new Set<string>();
	const options: INodePropertyOptions[] = [];
	for (const action of actions?.action ?? []) {
		const name = typeof action.name === 'string' ? action.name.trim() : '';
		// an action still being typed, or named by an expression, has no name to offer yet
		if (!name || name.startsWith('=') || seen.has(name)) continue;
		seen.add(name);
		const outputName = typeof action.outputName === 'string' ? action.outputName.trim() : '';
		options.push({ name: outputName && outputName !== name ? `${name} (${outputName})` : name, value: name });
	}
	return options;
}

export class AiDecide implements INodeType {
	description: INodeTypeDescription = versionDescription;

	methods = {
		loadOptions: {
			/** The actions a Forbid rule can take away (Escalate never can). */
			async getActions(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				return definedActions(this);
			},
			/** The actions a Force rule can take, and Escalate. */
			async getForcedActions(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				return [...definedActions(this), { name: 'Escalate', value: ESCALATE, description: 'Send the item to a person' }];
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runAiStep(this, decideStep);
	}
}
