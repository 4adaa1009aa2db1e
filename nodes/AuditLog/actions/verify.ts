/** Verify: recompute a stream's hash chain and name the first record that was edited, deleted, inserted or moved. */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { ChainVerifier, verifyStream } from '../chain';
import { allPaired, showOnlyFor } from './common';
import { readProperties, recordsFromInput, single, withReadSink } from './read';

// Verify has no options: its Options collection would be empty
export const properties: INodeProperties[] = showOnlyFor({ operation: ['verify'] }, readProperties('verify'));

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	return await single(this, items, async () => {
		const result = await withReadSink(this, 'verify', async (sink, stream) => {
			if (!sink) {
				const verifier = new ChainVerifier();
				verifier.pushAll(recordsFromInput(items));
				return { stream, ...verifier.result() };
			}
			return { stream, ...(await verifyStream(sink, stream)) };
		});
		return {
			json: { ...result, verifiedAt: new Date().toISOString() } as unknown as IDataObject,
			pairedItem: allPaired(items),
		};
	});
}
