/**
 * A fresh AI step set up in the editor (issue 14, points 2 to 4), checked with the functions n8n's editor uses:
 * NodeHelpers.getNodeParameters (what a node gets when added, and after a parameter changes),
 * getNodeParametersIssues (the issue markers), displayParameter (which credential is offered) and getNodeOutputs
 * (the output names on the canvas); and in n8n's engine, that the model a saved workflow named is the one asked.
 */
import {
	NodeHelpers,
	Workflow,
	type IDataObject,
	type ILoadOptionsFunctions,
	type INode,
	type INodeParameters,
	type INodePropertyCollection,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiDecide } from '../../nodes/AiDecide/AiDecide.node';
import { parseRules } from '../../nodes/AiDecide/rules';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { versionsOf } from './helpers/defaults';
import { providerCredentials, runNode } from './helpers/engine';

const newest = (description: INodeTypeDescription) => Math.max(...versionsOf(description));
const nodeAt = (type: INodeType, typeVersion: number, parameters: INodeParameters = {}): INode => ({
	id: 'n',
	name: type.description.defaults.name!,
	type: `n8n-nodes-governed-ai.${type.description.name}`,
	typeVersion,
	position: [0, 0],
	parameters,
});

/** What the editor stores for a node just added: every default filled in (useWorkflowNormalization.resolveNodeParameters). */
function added(type: INodeType, typeVersion: number): INodeParameters {
	const { description } = type;
	return NodeHelpers.getNodeParameters(description.properties, {}, true, false, nodeAt(type, typeVersion), description)!;
}

/** What the editor stores after a person changes one parameter in the panel (NodeSettings valueChanged). */
function changed(type: INodeType, typeVersion: number, parameters: INodeParameters, name: string, value: string): INodeParameters {
	const { description } = type;
	const node = nodeAt(type, typeVersion);
	const kept = NodeHelpers.getNodeParameters(description.properties, { ...parameters, [name]: value }, false, false, node, description)!;
	return NodeHelpers.getNodeParameters(description.properties, kept, true, false, node, description)!;
}

const aiNodes = [new AiClassify(), new AiDecide(), new AiExtract()];

describe.each(aiNodes.map((node) => [node.description.displayName, node] as const))('%s added to a canvas', (_name, type) => {
	const version = newest(type.description);

	it('is a new version, so workflows saved at version 1 keep their parameters', () => {
		expect(version).toBeGreaterThan(1);
	});

	it('pairs the default provider with its own model, and a changed provider with that provider\'s model', () => {
		const fresh = added(type, version);
		expect(fresh).toMatchObject({ provider: 'openai', openaiModel: 'gpt-4.1-mini' });
		expect(fresh).not.toHaveProperty('model');
		expect(fresh).not.toHaveProperty('anthropicModel');

		const anthropic = changed(type, version, fresh, 'provider', 'anthropic');
		expect(anthropic).toMatchObject({ provider: 'anthropic', anthropicModel: 'claude-haiku-4-5' });
		expect(anthropic).not.toHaveProperty('openaiModel');

		// and back: the OpenAI model comes back, not the Anthropic one
		expect(changed(type, version, anthropic, 'provider', 'openai')).toMatchObject({ provider: 'openai', openaiModel: 'gpt-4.1-mini' });
	});

	it('at version 1 shows why: one `model` for both providers keeps the other provider\'s model', () => {
		const anthropic = changed(type, 1, added(type, 1), 'provider', 'anthropic');
		expect(anthropic).toMatchObject({ provider: 'anthropic', model: 'gpt-4.1-mini' });
	});

	it('offers the credential of the chosen provider only, and no credential depends on Provider through `show`', () => {
		const { description } = type;
		// n8n's editor takes a parameter every credential's `show` depends on for the main auth field, hides it
		// and lets the credential picked set it (editor-ui nodeTypesUtils getNodeAuthFields / getMainAuthField)
		expect(description.credentials!.filter((credential) => credential.displayOptions?.show)).toEqual([]);
		// the parameters as the editor holds them: every default filled in
		const offered = (provider: string, more: INodeParameters = {}, at = version) =>
			description.credentials!
				.filter((credential) => NodeHelpers.displayParameter({ ...added(type, at), provider, ...more }, credential, nodeAt(type, at), description))
				.map((credential) => credential.name);
		expect(offered('openai')).toEqual(['governedAiOpenAiApi']);
		expect(offered('anthropic')).toEqual(['governedAiAnthropicApi']);
		if (version >= 3 && type.description.name !== 'aiDecide') {
			// Learn From Corrections (AI Classify and AI Extract only) from PostgreSQL asks for its credential too; no earlier version ever does
			const postgres = { learnFromCorrections: true, correctionsSink: 'postgres' };
			expect(offered('openai', postgres)).toEqual(['governedAiOpenAiApi', 'governedAiPostgres']);
			expect(offered('openai', { learnFromCorrections: true, correctionsSink: 'file' })).toEqual(['governedAiOpenAiApi']);
			expect(offered('openai', postgres, 2)).toEqual(['governedAiOpenAiApi']);
		}
		if (version >= 4 && type.description.name !== 'aiDecide') {
			// the Result Cache in PostgreSQL asks for its own credential; no earlier version ever does
			const cache = { resultCache: true, resultCacheStore: 'postgres' };
			expect(offered('openai', cache)).toEqual(['governedAiOpenAiApi', 'governedAiCachePostgres']);
			expect(offered('openai', { resultCache: true, resultCacheStore: 'file' })).toEqual(['governedAiOpenAiApi']);
			expect(offered('openai', { resultCache: false, resultCacheStore: 'postgres' })).toEqual(['governedAiOpenAiApi']);
			expect(offered('openai', cache, 3)).toEqual(['governedAiOpenAiApi']);
			expect(offered('openai', { ...cache, learnFromCorrections: true, correctionsSink: 'postgres' })).toEqual([
				'governedAiOpenAiApi',
				'governedAiPostgres',
				'governedAiCachePostgres',
			]);
		}
		// version 3: n8n's own credential when Credential says so, and none with a connected Chat Model
		expect(offered('openai', { credentialSource: 'n8n' })).toEqual(['openAiApi']);
		expect(offered('anthropic', { credentialSource: 'n8n' })).toEqual(['anthropicApi']);
		expect(offered('chatModel')).toEqual([]);
	});
});

describe('setup mistakes flagged as n8n flags them', () => {
	const issues = (type: INodeType, typeVersion: number, parameters: INodeParameters) => {
		const { description } = type;
		const node = nodeAt(type, typeVersion);
		node.parameters = NodeHelpers.getNodeParameters(description.properties, parameters, true, false, node, description)!;
		return NodeHelpers.getNodeParametersIssues(description.properties, node, description)?.parameters ?? {};
	};

	it('AI Classify with no categories shows an issue on Categories, none once one is added', () => {
		expect(Object.keys(issues(new AiClassify(), 2, {}))).toEqual(['categories']);
		expect(issues(new AiClassify(), 2, { categories: { category: [{ name: 'billing' }] } })).toEqual({});
	});

	it('AI Decide with no actions shows an issue on Actions, none once one is added', () => {
		expect(Object.keys(issues(new AiDecide(), 2, { policy: 'Refund small orders' }))).toEqual(['actions']);
		expect(issues(new AiDecide(), 2, { policy: 'Refund small orders', actions: { action: [{ name: 'refund' }] } })).toEqual({});
	});

	it('AI Extract with no fields shows an issue on Fields, and none when the record is described by a JSON Schema', () => {
		expect(Object.keys(issues(new AiExtract(), 2, {}))).toEqual(['fields']);
		expect(issues(new AiExtract(), 2, { fields: { field: [{ name: 'total', type: 'number' }] } })).toEqual({});
		expect(issues(new AiExtract(), 2, { schemaSource: 'jsonSchema', jsonSchema: '{"type":"object"}' })).toEqual({});
	});

	it('leaves nodes saved at version 1 as they were: no new issue that would stop their runs', () => {
		expect(issues(new AiClassify(), 1, {})).toEqual({});
		expect(issues(new AiDecide(), 1, { policy: 'p' })).toEqual({});
		expect(issues(new AiExtract(), 1, {})).toEqual({});
	});
});

describe('fields in the order a person fills them in', () => {
	/** The names of a fixed collection's values the editor shows at a version, in the order it shows them. */
	const shown = (type: INodeType, collection: string, typeVersion: number, values: INodeParameters = {}) => {
		const { description } = type;
		const property = description.properties.find(
			(p) => p.name === collection && NodeHelpers.displayParameter({ schemaSource: 'fields' }, p, nodeAt(type, typeVersion), description),
		)!;
		return (property.options![0] as INodePropertyCollection).values
			.filter((value) => NodeHelpers.displayParameter(values, value, nodeAt(type, typeVersion), description))
			.map((value) => value.name);
	};

	it('a hard rule: Name, Condition, Effect, then the Action or Forbidden Actions the Effect asks for', () => {
		expect(shown(new AiDecide(), 'rules', 2, { effect: 'force' })).toEqual(['name', 'condition', 'effect', 'action']);
		expect(shown(new AiDecide(), 'rules', 2, { effect: 'forbid' })).toEqual(['name', 'condition', 'effect', 'forbiddenActions']);
		expect(shown(new AiDecide(), 'rules', 1, { effect: 'force' })).toEqual(['action', 'condition', 'effect', 'name']);
	});

	it('a field to extract: Name, Type, the Allowed Values an Enum Type enables, Description, Required', () => {
		expect(shown(new AiExtract(), 'fields', 2, { type: 'enum' })).toEqual(['name', 'type', 'values', 'description', 'required']);
		expect(shown(new AiExtract(), 'fields', 2, { type: 'string' })).toEqual(['name', 'type', 'description', 'required']);
	});

	it('an action: Name, Output Name, Description, Needs Approval (Output Name from version 2)', () => {
		expect(shown(new AiDecide(), 'actions', 2)).toEqual(['name', 'outputName', 'description', 'needsApproval']);
		expect(shown(new AiDecide(), 'actions', 1)).toEqual(['name', 'description', 'needsApproval']);
	});
});

describe('AI Decide\'s hard rules choose from the defined actions', () => {
	const actions = {
		action: [
			{ name: 'reply_with_article', outputName: 'Reply' },
			{ name: 'route_to_engineering', outputName: '' },
			{ name: '' },
			{ name: '={{ $json.next }}' },
		],
	};
	const loadContext = { getCurrentNodeParameter: (name: string) => (name === 'actions' ? actions : undefined) } as unknown as ILoadOptionsFunctions;
	const { loadOptions } = new AiDecide().methods;

	it('Forbidden Actions lists the actions by name (values are the names the rule stores)', async () => {
		expect(await loadOptions.getActions.call(loadContext)).toEqual([
			{ name: 'reply_with_article (Reply)', value: 'reply_with_article' },
			{ name: 'route_to_engineering', value: 'route_to_engineering' },
		]);
	});

	it('Action lists the actions and Escalate', async () => {
		const values = (await loadOptions.getForcedActions.call(loadContext)).map((option) => option.value);
		expect(values).toEqual(['reply_with_article', 'route_to_engineering', 'escalate']);
	});

	it('reads a list chosen from the options and a comma-separated list saved at version 1 alike', () => {
		const rule = (forbiddenActions: unknown) => parseRules([{ effect: 'forbid', condition: true, forbiddenActions }], ['a', 'b', 'c']);
		expect(rule(['a', 'c'])[0].forbid).toEqual(['a', 'c']);
		expect(rule('a, c')[0].forbid).toEqual(['a', 'c']);
	});
});

describe('AI Decide\'s output names on the canvas', () => {
	const outputNames = (typeVersion: number, parameters: INodeParameters) => {
		const type = new AiDecide();
		const node = nodeAt(type, typeVersion, parameters);
		const workflow = new Workflow({
			nodes: [node],
			connections: {},
			active: false,
			nodeTypes: { getByName: () => type, getByNameAndVersion: () => type, getKnownTypes: () => ({}) },
		});
		return NodeHelpers.getNodeOutputs(workflow, workflow.getNode(node.name)!, type.description).map((output) =>
			typeof output === 'string' ? output : output.displayName,
		);
	};
	const actions = { action: [{ name: 'reply_with_article', outputName: 'Reply' }, { name: 'route_to_engineering' }] };

	it('use an action\'s short Output Name, else its name, then Escalate', () => {
		expect(outputNames(2, { actions })).toEqual(['Reply', 'route_to_engineering', 'Escalate']);
	});

	it('stay the action names for a workflow saved at version 1', () => {
		expect(outputNames(1, { actions: { action: [{ name: 'reply_with_article' }, { name: 'route_to_engineering' }] } })).toEqual([
			'reply_with_article',
			'route_to_engineering',
			'Escalate',
		]);
	});
});

describe('the model asked, in n8n\'s engine', () => {
	let server: ProviderServer;
	beforeAll(async () => {
		server = await startProviderServer();
	});
	afterAll(async () => server.close());
	beforeEach(() => {
		server.reset();
		server.setResponder(autoResponder);
	});

	const classify = (typeVersion: number, parameters: IDataObject) =>
		runNode({
			node: new AiClassify(),
			typeVersion,
			items: [{ text: 'My invoice is wrong' }],
			parameters: { categories: { category: [{ name: 'billing' }, { name: 'other' }] }, confidenceMethod: 'model-estimate', ...parameters },
			credentials: providerCredentials(server),
		});
	const askedModel = () => server.requests.map((request) => (request.body as IDataObject).model);

	it('a workflow saved at version 1 asks the model it saved under `model`', async () => {
		await classify(1, { provider: 'anthropic', model: 'my-saved-model' });
		expect(askedModel()).toEqual(['my-saved-model']);
	});

	it('a fresh node with Anthropic chosen and the model left alone asks the Anthropic default', async () => {
		const outputs = await classify(2, { provider: 'anthropic' });
		expect(askedModel()).toEqual(['claude-haiku-4-5']);
		const result = ((outputs.flat()[0].json.ai as IDataObject).classify as IDataObject);
		expect(result).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5' });
	});

	it('a version 2 node asks the model set for its provider', async () => {
		await classify(2, { provider: 'openai', openaiModel: 'gpt-4.1', anthropicModel: 'my-anthropic-model' });
		expect(askedModel()).toEqual(['gpt-4.1']);
	});
});
