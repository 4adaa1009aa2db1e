import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { runAiStep } from '../../shared/aiStep';
import { resultCacheMethods } from '../../shared/node/resultCacheProperties';
import { versionDescription } from './description';
import { classifyStep } from './classifyItem';

export class AiClassify implements INodeType {
	description: INodeTypeDescription = versionDescription;

	// version 4: the test of the result cache's PostgreSQL credential
	methods = resultCacheMethods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runAiStep(this, classifyStep);
	}
}
