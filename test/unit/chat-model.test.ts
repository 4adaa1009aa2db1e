/**
 * Models and credentials users already have in n8n (version 3 of AI Classify, AI Extract, AI Decide): the Chat
 * Model input and n8n's own credentials appear only from version 3, a provider failure is found inside the
 * errors n8n's Chat Model sub-nodes wrap it in (real SDK errors from real HTTP), and a chat model's message
 * maps to the item contract's usage. The nodes running with n8n's real Chat Model sub-nodes are proven in
 * test/e2e/chat-model.test.ts.
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { NodeApiError, NodeHelpers, OperationalError, Workflow, type INode, type INodeType } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiDecide } from '../../nodes/AiDecide/AiDecide.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { chatModelFailure, contentText, parseJson, usageOf } from '../../shared/providers/chatModel';
import { providerCredentials } from '../../shared/providers/n8nCredentials';
import { quotaExceeded, rateLimited, type ProviderServer, startProviderServer } from '../provider-server';

const nodes = [new AiClassify(), new AiExtract(), new AiDecide()];

function inputsOf(nodeType: INodeType, typeVersion: number, parameters: Record<string, string>) {
	const node: INode = { id: 'n', name: 'AI', type: 'test.ai', typeVersion, position: [0, 0], parameters };
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) },
	});
	return NodeHelpers.getNodeInputs(workflow, workflow.getNode('AI')!, nodeType.description);
}

/** The credentials the editor offers: the parameters as it holds them, every default of the version filled in. */
function credentialsShown(nodeType: INodeType, typeVersion: number, chosen: Record<string, string>): string[] {
	const node: INode = { id: 'n', name: 'AI', type: 'test.ai', typeVersion, position: [0, 0], parameters: chosen };
	const parameters = NodeHelpers.getNodeParameters(nodeType.description.properties, chosen, true, false, node, nodeType.description) ?? chosen;
	return (nodeType.description.credentials ?? [])
		.filter((credential) => NodeHelpers.displayParameter(parameters, credential, node, nodeType.description))
		.map((credential) => credential.name);
}

describe.each(nodes.map((node) => [node.description.displayName, node] as const))('%s', (_name, nodeType) => {
	it('keeps one Main input at versions 1 and 2, whatever Provider says', () => {
		for (const version of [1, 2]) {
			expect(inputsOf(nodeType, version, { provider: 'openai' })).toEqual(['main']);
			expect(inputsOf(nodeType, version, { provider: 'chatModel' })).toEqual(['main']);
		}
	});

	it('has a Chat Model input from version 3 when Provider is "Connected Chat Model"', () => {
		expect(inputsOf(nodeType, 3, { provider: 'openai' })).toEqual(['main']);
		expect(inputsOf(nodeType, 3, { provider: 'chatModel' })).toEqual([
			'main',
			{ type: 'ai_languageModel', displayName: 'Chat Model', maxConnections: 1, required: true },
		]);
	});

	it("offers n8n's own credentials only from version 3, and no credential with a connected Chat Model", () => {
		expect(credentialsShown(nodeType, 2, { provider: 'openai' })).toEqual(['governedAiOpenAiApi']);
		expect(credentialsShown(nodeType, 2, { provider: 'anthropic' })).toEqual(['governedAiAnthropicApi']);
		expect(credentialsShown(nodeType, 3, { provider: 'openai', credentialSource: 'governedAi' })).toEqual(['governedAiOpenAiApi']);
		expect(credentialsShown(nodeType, 3, { provider: 'openai', credentialSource: 'n8n' })).toEqual(['openAiApi']);
		expect(credentialsShown(nodeType, 3, { provider: 'anthropic', credentialSource: 'n8n' })).toEqual(['anthropicApi']);
		expect(credentialsShown(nodeType, 3, { provider: 'chatModel' })).toEqual([]);
	});
});

describe("n8n's credential fields", () => {
	it("reads openAiApi's url and organizationId, and anthropicApi's url, as the SDK path's base URL and organisation", () => {
		expect(providerCredentials('n8n', { apiKey: 'k', url: 'http://127.0.0.1:1/v1/', organizationId: 'org-1', header: false })).toEqual({
			apiKey: 'k',
			baseUrl: 'http://127.0.0.1:1/v1',
			organization: 'org-1',
		});
		expect(providerCredentials('n8n', { apiKey: 'k', url: 'https://api.anthropic.com' })).toEqual({
			apiKey: 'k',
			baseUrl: 'https://api.anthropic.com',
			organization: undefined,
		});
		expect(providerCredentials('governedAi', { apiKey: 'k', baseUrl: 'http://x/v1', organization: '' })).toEqual({
			apiKey: 'k',
			baseUrl: 'http://x/v1',
			organization: undefined,
		});
	});
});

describe('a provider failure inside what a Chat Model throws', () => {
	let server: ProviderServer;
	beforeAll(async () => {
		server = await startProviderServer();
	});
	afterAll(async () => server.close());

	const node: INode = { id: 'm', name: 'OpenAI Chat Model', type: 'lmChatOpenAi', typeVersion: 1, position: [0, 0], parameters: {} };
	const openai = () => new OpenAI({ apiKey: 'sk-unit-secret-123456789', baseURL: server.openaiBaseUrl, maxRetries: 0 });
	const ask = (client: OpenAI) => client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
	/** What n8n's OpenAI Chat Model throws on a 429: the SDK error as the cause of an OperationalError, in a NodeApiError. */
	const asN8nWrapsIt = (error: unknown) =>
		new NodeApiError(node, new OperationalError('OpenAI: Rate limit reached', { cause: error as Error }) as never, { functionality: 'configuration-node' });

	it("finds the 429 and its retry-after under n8n's wrapping: retried, after the server's wait", async () => {
		server.setResponder(rateLimited(7));
		const sdkError = await ask(openai()).catch((e: unknown) => e);
		expect(sdkError).toBeInstanceOf(OpenAI.RateLimitError);
		const failure = chatModelFailure(asN8nWrapsIt(sdkError), ['sk-unit-secret-123456789']);
		expect(failure.kind).toBe('rate-limit');
		expect(failure.status).toBe(429);
		expect(failure.retryAfterMs).toBe(7000);
		expect(failure.retryable).toBe(true);
	});

	it('tells an exhausted quota from a rate limit: not retried', async () => {
		server.setResponder(quotaExceeded());
		const sdkError = await ask(openai()).catch((e: unknown) => e);
		const failure = chatModelFailure(asN8nWrapsIt(sdkError));
		expect(failure.kind).toBe('quota');
		expect(failure.retryable).toBe(false);
	});

	it("reads an Anthropic SDK error LangChain passes on as it is (status 529 overloaded: retried)", async () => {
		server.setResponder({ status: 529, errorType: 'overloaded_error', message: 'Overloaded' });
		const client = new Anthropic({ apiKey: 'sk-ant-unit-secret-1234', baseURL: server.anthropicBaseUrl, maxRetries: 0 });
		const sdkError = await client.messages
			.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
			.catch((e: unknown) => e);
		const failure = chatModelFailure(sdkError);
		expect(failure.kind).toBe('server');
		expect(failure.status).toBe(529);
		expect(failure.retryable).toBe(true);
	});

	it('treats a failure with no HTTP status as a connection failure, and keeps API keys out of the message', () => {
		const failure = chatModelFailure(new Error('connect ECONNREFUSED 127.0.0.1:1 with key sk-unit-secret-123456789'), ['sk-unit-secret-123456789']);
		expect(failure.kind).toBe('connection');
		expect(failure.message).not.toContain('sk-unit-secret-123456789');
	});
});

describe("a chat model's message", () => {
	it('gives usage from usage_metadata, cached input tokens included in the input', () => {
		expect(
			usageOf({ usage_metadata: { input_tokens: 120, output_tokens: 9, input_token_details: { cache_read: 100, cache_creation: 0 } } }),
		).toEqual({ inputTokens: 120, outputTokens: 9, cachedInputTokens: 100, cacheWriteTokens: 0, requests: 1 });
		expect(usageOf({})).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 });
	});

	it('reads JSON from text content, also inside a markdown block or text blocks; prose is no answer', () => {
		expect(parseJson('```json\n{"label":"billing"}\n```')).toEqual({ label: 'billing' });
		expect(parseJson(contentText([{ type: 'text', text: '{"label":' }, { type: 'text', text: '"outage"}' }]))).toEqual({ label: 'outage' });
		expect(parseJson('The label is billing')).toBeUndefined();
	});
});
