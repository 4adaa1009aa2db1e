import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { runAiStep } from '../../shared/aiStep';
import type { ConfidenceSetting } from '../../shared/confidence';
import { versionDescription } from './description';
import { classifyItem, type ClassifySettings } from './classifyItem';
import { type Category, reviewerAnswerSchema } from './prompt';

export class AiClassify implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const routeByCategory = this.getNodeParameter('routing', 0, 'byCategory') !== 'single';
		const categories = readCategories(this, 0, <T>(name: string, fallback?: T) => this.getNodeParameter(name, 0, fallback) as T);
		const memo: ClassifySettings['memo'] = new Map();
		return await runAiStep(this, {
			step: 'classify',
			defaultKey: 'classify',
			outputCount: routeByCategory ? categories.length + 1 : 1,
			reviewOutput: routeByCategory ? categories.length : 0,
			process: async (item) =>
				await classifyItem(item, {
					text: item.param('text'),
					categories: readCategories(this, item.itemIndex, item.param),
					multiLabel: item.param('multiLabel', false),
					instructions: item.param('instructions', ''),
					confidence: item.param<ConfidenceSetting>('confidenceMethod', 'auto'),
					samples: item.param('samples', 5),
					threshold: item.param('threshold', 0.7),
					routeByCategory,
					memo,
				}),
			answerSchema: (itemIndex) => {
				const read = <T>(name: string, fallback?: T) => this.getNodeParameter(name, itemIndex, fallback) as T;
				const names = readCategories(this, itemIndex, read).map((c) => c.name);
				return reviewerAnswerSchema(names, read('multiLabel', false));
			},
		});
	}
}

function readCategories(ctx: IExecuteFunctions, itemIndex: number, param: <T>(name: string, fallback?: T) => T): Category[] {
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
		throw new NodeOperationError(ctx.getNode(), 'Add at least one category', { itemIndex });
	}
	const names = categories.map((c) => c.name);
	const empty = names.findIndex((n) => !n);
	if (empty >= 0) throw new NodeOperationError(ctx.getNode(), `Category ${empty + 1} has no name`, { itemIndex });
	const duplicate = names.find((n, i) => names.indexOf(n) !== i);
	if (duplicate) throw new NodeOperationError(ctx.getNode(), `The category "${duplicate}" is listed twice`, { itemIndex });
	return categories;
}
