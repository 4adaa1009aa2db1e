import { NodeConnectionTypes, NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { AnthropicClient } from './anthropic';
import { ChatModelClient, chatModelSecrets, isChatModel } from './chatModel';
import { type CredentialSource, N8N_CREDENTIAL_TYPES, providerCredentials } from './n8nCredentials';
import { OpenAiClient } from './openai';
import type { ModelClient, ProviderName } from './types';

export * from './types';
export { ProviderError, classifyFailure, scrubSecrets } from './errors';
export type { CredentialSource } from './n8nCredentials';

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
	source: CredentialSource = 'governedAi',
): Promise<{ client: ModelClient; secrets: string[] }> {
	const type = source === 'n8n' ? N8N_CREDENTIAL_TYPES[provider] : CREDENTIAL_TYPES[provider];
	const { apiKey, baseUrl, organization } = providerCredentials(source, await ctx.getCredentials(type));
	const client =
		provider === 'anthropic'
			? new AnthropicClient({ apiKey, baseUrl }, model, timeoutMs)
			: new OpenAiClient({ apiKey, baseUrl, organization }, model, timeoutMs);
	return { client, secrets: [apiKey] };
}

/**
 * The Chat Model sub-node connected to the node (version 3, Provider "Connected Chat Model"): n8n builds the
 * model object with the sub-node's own credential; the node only talks to it.
 */
export async function createChatModelClient(
	ctx: IExecuteFunctions,
	timeoutMs: number,
): Promise<{ client: ModelClient; secrets: string[] }> {
	const model = await ctx.getInputConnectionData(NodeConnectionTypes.AiLanguageModel, 0);
	if (!isChatModel(model)) {
		throw new NodeOperationError(ctx.getNode(), 'No Chat Model is connected', {
			description: 'Connect a Chat Model sub-node (OpenAI, Anthropic, Ollama, …) to the Chat Model input, or choose another Provider.',
		});
	}
	return { client: new ChatModelClient(model, timeoutMs), secrets: chatModelSecrets(model) };
}
