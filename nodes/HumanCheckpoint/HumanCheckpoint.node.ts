import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { versionDescription } from './description';
import { pauseForReview } from './pause';
import { handleReviewRequest } from './webhook';

/**
 * Pauses the execution until a person approves, rejects or edits each item on a hosted review
 * page (or through the same call as JSON). The `operation` value `sendAndWait` is what makes n8n
 * verify the signed review link, and what lets n8n 2.x offer this node as an AI Agent's
 * "Human review" tool.
 */
export class HumanCheckpoint implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await pauseForReview.call(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await handleReviewRequest.call(this);
	}
}
