/**
 * n8n's own credentials on the SDK path (version 3 of the AI nodes): a user who already has an OpenAI
 * (`openAiApi`, its base URL `url` included) or Anthropic (`anthropicApi`) credential in n8n picks it instead of
 * entering the key again in ours. The fields are read into the same shape as ours; the key goes to the SDK
 * and to the list of secrets scrubbed from error messages, never to an item.
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { ProviderCredentials, ProviderName } from './types';

/** Which credential the SDK path uses: this package's (default) or n8n's built-in one. */
export type CredentialSource = 'governedAi' | 'n8n';

export const N8N_CREDENTIAL_TYPES: Record<ProviderName, string> = {
	anthropic: 'anthropicApi',
	openai: 'openAiApi',
};

/** A credential's fields as the SDK clients take them, whichever type it is. */
export function providerCredentials(source: CredentialSource, credentials: ICredentialDataDecryptedObject): ProviderCredentials {
	const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
	const apiKey = String(credentials.apiKey ?? '');
	if (source === 'n8n') {
		// openAiApi: apiKey, organizationId, url (https://api.openai.com/v1 by default); anthropicApi: apiKey, url
		return {
			apiKey,
			baseUrl: text(credentials.url)?.replace(/\/+$/, ''),
			organization: text(credentials.organizationId),
		};
	}
	return {
		apiKey,
		baseUrl: text(credentials.baseUrl)?.replace(/\/+$/, ''),
		organization: text(credentials.organization),
	};
}
