import type { INodeType, INodeTypeDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { versionDescription } from './description';
import { handleInboxRequest } from './webhook';

/**
 * The Review Inbox: a webhook in a workflow the user activates serves the page and its JSON API; the
 * events it emits (claims, decisions, resumes) flow to the nodes after it, e.g. an Audit Log.
 */
export class ReviewInbox implements INodeType {
	description: INodeTypeDescription = versionDescription;

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await handleInboxRequest.call(this);
	}
}
