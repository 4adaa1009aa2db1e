import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { runAiStep } from '../../shared/aiStep';
import { versionDescription } from './description';
import { classifyStep } from './classifyItem';

export class AiClassify implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runAiStep(this, classifyStep);
	}
}
