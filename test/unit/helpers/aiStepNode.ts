/** A node made of runAiStep and a test's own step, with the AI nodes' shared parameters: the runner as the AI nodes run it. */
import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType } from 'n8n-workflow';

import { runAiStep, type AiStepConfig } from '../../../shared/aiStep';
import { aiCredentials, aiOptionsProperty, providerProperties, resultKeyProperty } from '../../../shared/node/aiProperties';

export function aiStepNode<P>(config: AiStepConfig<P>, outputCount: number): INodeType {
	return {
		description: {
			displayName: 'AI Step',
			name: 'aiStep',
			group: ['transform'],
			version: 1,
			description: 'runAiStep around a step of the test',
			defaults: { name: 'AI Step' },
			inputs: [NodeConnectionTypes.Main],
			outputs: Array.from({ length: outputCount }, () => NodeConnectionTypes.Main),
			credentials: aiCredentials,
			properties: [...providerProperties, resultKeyProperty('extract'), aiOptionsProperty()],
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			return await runAiStep(this, config);
		},
	};
}
