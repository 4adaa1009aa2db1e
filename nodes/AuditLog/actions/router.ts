/** Dispatches by operation; an operation this version does not know is an error, never a silent Append. */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import * as append from './append';
import { OPERATIONS, type Operation } from './common';
import * as report from './report';
import * as verify from './verify';

const operations: Record<Operation, { execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> }> = {
	append,
	verify,
	report,
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	if (!(OPERATIONS as readonly string[]).includes(operation)) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`, {
			description: `The Audit Log can ${OPERATIONS.join(', ')}. Choose one of them in "Operation".`,
		});
	}
	return await operations[operation as Operation].execute.call(this);
}
