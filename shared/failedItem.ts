/**
 * How an item that failed leaves a node with Continue On Fail, shaped so that n8n's engine keeps its json.
 *
 * n8n's `WorkflowExecute` replaces the json of every output item that carries an `error` property with
 * `{ error: message }` (`normalizeNodeErrors`), after it has moved such items to the error output when the
 * node is set to "Continue (using error output)" (`handleNodeErrorOutput`, which copies the item with a
 * spread). So:
 * - "Continue" (regular output): the item goes to the node's review output with its whole json and no
 *   `error` property; the failure is in `ai.<key>.error` (or `gate.reason`).
 * - "Continue (using error output)": the item also carries `json.error` (the message, where n8n's error
 *   output puts it) and an `error` property that is not enumerable. The engine sees it and moves the item to
 *   the error output; its spread copy leaves the non-enumerable property behind, so the normaliser finds no
 *   `error` and the json arrives whole. Should an engine ever copy the item earlier, the item simply stays on
 *   the review output, whole: it is never reduced to `{ error }`.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, NodeApiError, NodeOperationError } from 'n8n-workflow';

export function failedItem(
	ctx: IExecuteFunctions,
	item: { json: IDataObject; binary?: INodeExecutionData['binary']; pairedItem: INodeExecutionData['pairedItem'] },
	error: NodeOperationError | NodeApiError,
): INodeExecutionData {
	const out: INodeExecutionData = { json: item.json, pairedItem: item.pairedItem };
	if (item.binary) out.binary = item.binary;
	if (ctx.getNode().onError !== 'continueErrorOutput') return out;
	out.json = { ...item.json, error: error.message };
	Object.defineProperty(out, 'error', { value: error, enumerable: false, writable: true, configurable: true });
	return out;
}
