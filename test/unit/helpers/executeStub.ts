/**
 * A small IExecuteFunctions for unit tests of node logic. Parameters come from a plain object (dotted paths,
 * per-item values through a function); credentials point at the local provider server. It is never the only
 * proof of a node: the end-to-end suite runs every node inside a real n8n.
 */
import { NodeOperationError, type IExecuteFunctions, type INode, type INodeExecutionData } from 'n8n-workflow';

export type ParamValue = unknown | ((itemIndex: number) => unknown);

export interface StubOptions {
	items: INodeExecutionData[];
	params: Record<string, ParamValue>;
	credentials?: Record<string, Record<string, unknown>>;
	continueOnFail?: boolean;
	nodeName?: string;
}

function byPath(object: Record<string, unknown>, path: string): unknown {
	if (path in object) return object[path];
	return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), object);
}

export function executeStub(options: StubOptions): IExecuteFunctions {
	const node: INode = {
		id: 'stub',
		name: options.nodeName ?? 'Node under test',
		type: 'n8n-nodes-governed-ai.stub',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const stub = {
		getInputData: () => options.items,
		getNode: () => node,
		continueOnFail: () => options.continueOnFail ?? false,
		getNodeParameter: (name: string, itemIndex: number, fallback?: unknown) => {
			const raw = byPath(options.params as Record<string, unknown>, name);
			const value = typeof raw === 'function' ? (raw as (i: number) => unknown)(itemIndex) : raw;
			if (value === undefined) {
				if (fallback !== undefined) return fallback;
				throw new NodeOperationError(node, `Could not get parameter "${name}"`, { itemIndex });
			}
			return value;
		},
		getCredentials: async (type: string) => {
			const found = options.credentials?.[type];
			if (!found) throw new NodeOperationError(node, `No credentials of type ${type}`);
			return found;
		},
	};
	return stub as unknown as IExecuteFunctions;
}
