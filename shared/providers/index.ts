import type { IExecuteFunctions } from 'n8n-workflow';

import { AnthropicClient } from './anthropic';
import { OpenAiClient } from './openai';
import type { ModelClient, ProviderName } from './types';

export * from './types';
export { ProviderError, classifyFailure, scrubSecrets } from './errors';

export const CREDENTIAL_TYPES: Record<ProviderName, string> = {
	anthropic: 'governedAiAnthropicApi',
	openai: 'governedAiOpenAiApi',
};

export const DEFAULT_MODELS: Record<ProviderName, string> = {
	anthropic: 'claude-haiku-4-5',
	openai: 'gpt-4.1-mini',
};

/**
 * Builds the SDK client for a provider from the node's credential. Returns the API key separately so error
 * messages can be scrubbed of it; the key itself never reaches an item.
 */
export async function createModelClient(
	ctx: IExecuteFunctions,
	provider: ProviderName,
	model: string,
	timeoutMs: number,
): Promise<{ client: ModelClient; secrets: string[] }> {
	const credentials = await ctx.getCredentials(CREDENTIAL_TYPES[provider]);
	const apiKey = String(credentials.apiKey ?? '');
	const baseUrl = credentials.baseUrl ? String(credentials.baseUrl).replace(/\/+$/, '') : undefined;
	const organization = credentials.organization ? String(credentials.organization) : undefined;
	const client =
		provider === 'anthropic'
			? new AnthropicClient({ apiKey, baseUrl }, model, timeoutMs)
			: new OpenAiClient({ apiKey, baseUrl, organization }, model, timeoutMs);
	return { client, secrets: [apiKey] };
}
