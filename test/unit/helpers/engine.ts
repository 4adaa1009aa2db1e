/**
 * Runs one node inside n8n's own execution engine (n8n-core's `WorkflowExecute`), the way n8n runs it in a
 * workflow: a start node hands over the given items, the node under test runs with the given parameters,
 * credentials and "On Error" setting, and nothing follows it.
 *
 * Real (n8n's code): the `Workflow` (parameter defaults and `displayOptions` applied to the node's
 * parameters, dynamic outputs evaluated), the `ExecuteContext` the node gets (`getNodeParameter` with
 * expression resolution, `getCredentials` with its checks, `continueOnFail`, `getWorkflowDataProxy`,
 * `evaluateExpression`, `putExecutionToWait`, `getSignedResumeUrl`, binary helpers), and the engine's
 * handling of the result (`handleNodeErrorOutput` for the error output, `assignPairedItems`,
 * `normalizeNodeErrors`, and for a thrown error the execution's error). The node's outputs are returned as
 * the engine leaves them in the run data: what a downstream node would receive.
 *
 * Minimal test values (what n8n's server process fills in): `additionalData`'s URLs of a fictional instance,
 * no variables, a credentials helper that hands out the credentials given here (completed with the
 * credential type's defaults, as n8n's own helper does after decrypting) instead of decrypting stored ones,
 * and sub-workflow execution, task runners (the Code node) and run-data look-ups that fail if reached: none
 * of the nodes under test uses them. Lifecycle hooks are n8n's `ExecutionLifecycleHooks` with no handlers but
 * the one that collects the finished run.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import {
	createRunExecutionData,
	ICredentialsHelper,
	NodeConnectionTypes,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type ICredentialType,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeParameters,
	type INodeProperties,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IVersionedNodeType,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { GovernedAiAnthropicApi } from '../../../credentials/GovernedAiAnthropicApi.credentials';
import { GovernedAiOpenAiApi } from '../../../credentials/GovernedAiOpenAiApi.credentials';
import { GovernedAiCachePostgres } from '../../../credentials/GovernedAiCachePostgres.credentials';
import { GovernedAiPostgres } from '../../../credentials/GovernedAiPostgres.credentials';

// n8n's logger would print every node error the engine reports (the tests provoke many); tests read them instead
process.env.N8N_LOG_LEVEL ??= 'silent';
// Every node context reads n8n's InstanceSettings, which loads (or creates) <user folder>/.n8n/config with an
// encryption key and derives the HMAC secret that signs resume links: one folder of the tests' own (reused by
// every run), never the user's ~/.n8n
if (!process.env.N8N_USER_FOLDER) {
	const folder = join(tmpdir(), 'governed-ai-unit-n8n');
	mkdirSync(folder, { recursive: true });
	process.env.N8N_USER_FOLDER = folder;
}

const PACKAGE = 'n8n-nodes-governed-ai';
const START = 'Start';
const INSTANCE = 'http://n8n.test:5678';

/** The start of every test workflow: hands the items it was given to the node under test. */
class StartNode implements INodeType {
	description = {
		displayName: 'Start',
		name: 'start',
		group: ['trigger'],
		version: 1,
		description: 'Hands the test items to the next node',
		defaults: { name: START },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

const credentialTypes: Record<string, ICredentialType> = Object.fromEntries(
	[new GovernedAiOpenAiApi(), new GovernedAiAnthropicApi(), new GovernedAiPostgres(), new GovernedAiCachePostgres()].map((c) => [c.name, c]),
);

/** Hands out the credentials a test gives, completed with the credential type's defaults. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(_credentials: ICredentialDataDecryptedObject, _type: string, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		return requestOptions;
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async runPreAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('getCredentials (stored, encrypted credentials) is not available in unit tests');
	}

	async getDecrypted(_additionalData: IWorkflowExecuteAdditionalData, _node: INodeCredentialsDetails, type: string): Promise<ICredentialDataDecryptedObject> {
		const given = this.data[type];
		if (!given) throw new Error(`The test gave no credentials of type ${type}`);
		const properties = this.getCredentialsProperties(type);
		return (NodeHelpers.getNodeParameters(properties, given as INodeParameters, true, false, null, null) ?? {}) as ICredentialDataDecryptedObject;
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(type: string): INodeProperties[] {
		return credentialTypes[type]?.properties ?? [];
	}
}

function nodeTypesOf(types: Record<string, INodeType>): INodeTypes {
	const byName = (type: string) => {
		const found = types[type];
		if (!found) throw new Error(`Unknown node type ${type}`);
		return found;
	};
	return {
		getByName: (type: string): INodeType | IVersionedNodeType => byName(type),
		getByNameAndVersion: (type: string, version?: number): INodeType => NodeHelpers.getVersionedNodeType(byName(type), version),
		getKnownTypes: () => ({}),
	};
}

function additionalDataFor(
	hooks: ExecutionLifecycleHooks,
	credentials: Record<string, ICredentialDataDecryptedObject>,
	ids: { executionId: string; workflowId: string },
): IWorkflowExecuteAdditionalData {
	const unavailable = (what: string) => () => {
		throw new Error(`${what} is not available in unit tests (the e2e suite runs it inside n8n)`);
	};
	return {
		hooks,
		externalSecretsProxy: new ExternalSecretsProxy(),
		credentialsHelper: new TestCredentialsHelper(credentials),
		executeWorkflow: unavailable('Executing a sub-workflow'),
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		executionId: ids.executionId,
		workflowId: ids.workflowId,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${INSTANCE}/rest`,
		instanceBaseUrl: `${INSTANCE}/`,
		formBaseUrl: `${INSTANCE}/form`,
		formWaitingBaseUrl: `${INSTANCE}/form-waiting`,
		formTestBaseUrl: `${INSTANCE}/form-test`,
		webhookBaseUrl: `${INSTANCE}/webhook`,
		webhookWaitingBaseUrl: `${INSTANCE}/webhook-waiting`,
		webhookTestBaseUrl: `${INSTANCE}/webhook-test`,
		mcpBaseUrl: `${INSTANCE}/mcp`,
		mcpTestBaseUrl: `${INSTANCE}/mcp-test`,
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: unavailable('A task runner'),
	} as IWorkflowExecuteAdditionalData;
}

export type OnError = 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';

export interface EngineRunOptions {
	/** the node under test */
	node: INodeType;
	/** its parameters as a saved workflow holds them ("=…" strings are expressions) */
	parameters?: INodeParameters;
	/** its version as the workflow saved it (`typeVersion`); the newest the node declares by default */
	typeVersion?: number;
	/** the items the start node hands over (plain objects become `{ json }`) */
	items?: Array<INodeExecutionData | IDataObject>;
	/** decrypted credential data by credential type; the node is given every type listed */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	onError?: OnError;
	nodeName?: string;
	nodeId?: string;
	workflowId?: string;
	workflowName?: string;
	executionId?: string;
	mode?: WorkflowExecuteMode;
}

export interface EngineRun {
	/** the node's outputs as the engine left them (the error output last, with "continue (using error output)") */
	outputs: INodeExecutionData[][];
	/** the whole run, as n8n would save it */
	run: IRun;
	/** the node as the workflow holds it (parameters with defaults applied) */
	node: INode;
}

const isItem = (value: INodeExecutionData | IDataObject): value is INodeExecutionData =>
	typeof value.json === 'object' && value.json !== null && !Array.isArray(value.json);

/** Runs the node through n8n's engine and returns the whole run, also when the execution failed. */
export async function runInEngine(options: EngineRunOptions): Promise<EngineRun> {
	const description = options.node.description;
	const type = `${PACKAGE}.${description.name}`;
	const nodeName = options.nodeName ?? String(description.defaults.name ?? description.displayName);
	const credentials = options.credentials ?? {};
	const versions = Array.isArray(description.version) ? description.version : [description.version];
	const underTest: INode = {
		id: options.nodeId ?? 'node-under-test',
		name: nodeName,
		type,
		typeVersion: options.typeVersion ?? Math.max(...versions),
		position: [200, 0],
		parameters: structuredClone(options.parameters ?? {}),
		credentials: Object.fromEntries(Object.keys(credentials).map((t, i) => [t, { id: String(i + 1), name: `Test ${t}` }])),
		...(options.onError ? { onError: options.onError } : {}),
	};
	const start: INode = { id: 'start', name: START, type: `${PACKAGE}.start`, typeVersion: 1, position: [0, 0], parameters: {} };
	const connections = { [START]: { main: [[{ node: nodeName, type: NodeConnectionTypes.Main, index: 0 }]] } };
	const workflowData: IWorkflowBase = {
		id: options.workflowId ?? 'test-workflow',
		name: options.workflowName ?? 'Unit test',
		active: false,
		isArchived: false,
		activeVersionId: null,
		nodes: [start, underTest],
		connections,
		settings: { executionOrder: 'v1' },
		createdAt: new Date(),
		updatedAt: new Date(),
	} as IWorkflowBase;
	const workflow = new Workflow({
		id: workflowData.id,
		name: workflowData.name,
		nodes: workflowData.nodes,
		connections,
		active: false,
		nodeTypes: nodeTypesOf({ [type]: options.node, [start.type]: new StartNode() }),
		settings: workflowData.settings,
	});

	const executionId = options.executionId ?? '1';
	const mode = options.mode ?? 'manual';
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	let finish: (run: IRun) => void = () => {};
	const finished = new Promise<IRun>((resolve) => (finish = resolve));
	hooks.addHandler('workflowExecuteAfter', (fullRunData) => finish(fullRunData));

	const items = (options.items ?? [{ json: {} }]).map((item) => structuredClone(isItem(item) ? item : { json: item }));
	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node: workflow.getNode(START)!, data: { main: [items] }, source: null }],
		},
	});
	const engine = new WorkflowExecute(additionalDataFor(hooks, credentials, { executionId, workflowId: workflowData.id! }), mode, runExecutionData);
	await engine.processRunExecutionData(workflow);
	const run = await finished;
	const task = run.data.resultData.runData[nodeName]?.[0];
	return {
		outputs: (task?.data?.main ?? []).map((output: INodeExecutionData[] | null) => output ?? []),
		run,
		node: workflow.getNode(nodeName)!,
	};
}

/**
 * The error n8n recorded for a failed execution. The engine keeps a copy of the node's error (its fields:
 * `name`, `message`, `description`, `context.itemIndex`, `httpCode`…), not the error object itself, so this
 * carries those fields; `name` tells which error the node threw (e.g. 'NodeApiError').
 */
export class ExecutionFailed extends Error {
	[field: string]: unknown;

	constructor(recorded: IDataObject) {
		super(String(recorded.message));
		Object.assign(this, recorded);
	}
}

/**
 * Runs the node through n8n's engine and returns its outputs; if the execution failed (the node threw and
 * was not set to continue), rejects with the error n8n recorded for the execution (as `ExecutionFailed`).
 */
export async function runNode(options: EngineRunOptions): Promise<INodeExecutionData[][]> {
	const { outputs, run } = await runInEngine(options);
	const error = run.data.resultData.error;
	if (error) throw new ExecutionFailed(error as unknown as IDataObject);
	return outputs;
}

/** Credentials of both AI providers, pointing at the local provider server. */
export function providerCredentials(server: { openaiBaseUrl: string; anthropicBaseUrl: string }, keys: { openai?: string; anthropic?: string } = {}) {
	return {
		governedAiOpenAiApi: { apiKey: keys.openai ?? 'sk-test', baseUrl: server.openaiBaseUrl },
		governedAiAnthropicApi: { apiKey: keys.anthropic ?? 'sk-ant-test', baseUrl: server.anthropicBaseUrl },
	};
}

/**
 * A node with the given parameters whose run hands n8n's real execution context to `body` (for shared code
 * that takes an IExecuteFunctions), and passes its input through.
 */
export function probeNode(properties: INodeProperties[], body: (ctx: IExecuteFunctions) => unknown | Promise<unknown>): INodeType {
	return {
		description: {
			displayName: 'Probe',
			name: 'probe',
			group: ['transform'],
			version: 1,
			description: 'Hands its execution context to the test',
			defaults: { name: 'Probe' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main],
			properties,
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			await body(this);
			return [this.getInputData()];
		},
	};
}
