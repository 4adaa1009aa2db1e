import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/** Anthropic API key for the Governed AI nodes. Its own type name, so n8n's `anthropicApi` is untouched. */
export class GovernedAiAnthropicApi implements ICredentialType {
	name = 'governedAiAnthropicApi';

	displayName = 'Governed AI: Anthropic API';

	documentationUrl = 'https://docs.anthropic.com/en/api/getting-started';

	icon = { light: 'file:icons/anthropic.svg', dark: 'file:icons/anthropic.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'An API key from the Anthropic Console',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.anthropic.com',
			description: 'Change only for a proxy or gateway that speaks the Anthropic Messages API',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'x-api-key': '={{$credentials.apiKey}}',
				'anthropic-version': '2023-06-01',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/v1/models',
		},
	};
}
