import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * OpenAI, or any OpenAI-compatible server (Azure OpenAI, Ollama, vLLM, LM Studio) through the base URL.
 * Its own type name, so n8n's `openAiApi` is untouched.
 */
export class GovernedAiOpenAiApi implements ICredentialType {
	name = 'governedAiOpenAiApi';

	displayName = 'Governed AI: OpenAI or Compatible API';

	documentationUrl = 'https://platform.openai.com/docs/api-reference/authentication';

	icon = { light: 'file:icons/openai.svg', dark: 'file:icons/openai.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'The API key. Local servers such as Ollama accept any non-empty value.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.openai.com/v1',
			description:
				'Change for an OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama or your Azure OpenAI endpoint',
		},
		{
			displayName: 'Organization ID',
			name: 'organization',
			type: 'string',
			default: '',
			description: 'Optional OpenAI organization ID, sent as the OpenAI-Organization header',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/models',
		},
	};
}
