/** What the editor shows of AI Decide: provider, context, policy, actions, hard rules, confidence and options; one output per action. */
import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

import { aiCredentials, aiInputs, aiOptionsProperty, providerProperties, resultKeyProperty } from '../../shared/node/aiProperties';
import { changedAtVersion, outputsFrom } from '../../shared/node/versions';

/** One output per action (named by its Output Name, from version 2) plus "Escalate", last. Runs in the editor: self-contained. */
const configuredOutputs = (parameters: { actions?: { action?: Array<{ name?: string; outputName?: string }> } }) => [
	...(parameters.actions?.action ?? []).map((a, i) => ({ type: 'main', displayName: a.outputName || a.name || `Action ${i + 1}` })),
	{ type: 'main', displayName: 'Escalate' },
];

/** Version 1's actions. */
/** What an action says to the model, and whether a person approves it: the same in every version's actions. */
const actionDescription: INodeProperties = {
	displayName: 'Description',
	name: 'description',
	type: 'string',
	default: '',
	description: 'When this action is right, in one line. The model reads this.',
};

const actionNeedsApproval: INodeProperties = {
	displayName: 'Needs Approval',
	name: 'needsApproval',
	type: 'boolean',
	default: false,
	description:
		'Whether a person must approve this action before it is carried out (sets requiresApproval for Confidence Gate and Human Checkpoint)',
};

const actionsV1: INodeProperties = {
	displayName: 'Actions',
	name: 'actions',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Action',
	default: {},
	description: 'The actions the model may choose from, each with its own output. Escalate is always added last.',
	options: [
		{
			displayName: 'Action',
			name: 'action',
			values: [
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					required: true,
					description: 'The action, e.g. partial_refund. Also the name of its output.',
				},
				actionDescription,
				actionNeedsApproval,
			],
		},
	],
};

/** When a rule applies, and what it does: the same in every version's rules. */
const ruleCondition: INodeProperties = {
	displayName: 'Condition',
	name: 'condition',
	type: 'boolean',
	default: false,
	// `$json` is n8n's own variable name, not a miscased JSON
	// eslint-disable-next-line n8n-nodes-base/node-param-description-miscased-json
	description: 'Whether the rule applies to the item. Use an expression, e.g. {{ $json.amount > 1000 }}.',
};

const ruleEffect: INodeProperties = {
	displayName: 'Effect',
	name: 'effect',
	type: 'options',
	options: [
		{
			name: 'Force Action',
			value: 'force',
			description: 'Take this action without asking the model',
		},
		{
			name: 'Forbid Actions',
			value: 'forbid',
			description: 'Remove these actions from the choices the model sees',
		},
	],
	default: 'force',
	description: 'What happens when the condition is true',
};

/** Version 1's hard rules: fields in the alphabetical order lint asked for, actions typed by name. */
const rulesV1: INodeProperties = {
	displayName: 'Hard Rules',
	name: 'rules',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Rule',
	default: {},
	description:
		'Checked for each item before the model is asked. The model can never override a rule; rules that contradict each other escalate.',
	options: [
		{
			displayName: 'Rule',
			name: 'rule',
			values: [
				{
					displayName: 'Action',
					name: 'action',
					type: 'string',
					default: '',
					displayOptions: { show: { effect: ['force'] } },
					description: 'The action to take: one of the action names, or escalate',
				},
				ruleCondition,
				ruleEffect,
				{
					displayName: 'Forbidden Actions',
					name: 'forbiddenActions',
					type: 'string',
					default: '',
					displayOptions: { show: { effect: ['forbid'] } },
					description: 'Action names the model may not choose, separated by commas',
				},
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					description: 'A name for the rule, recorded on the decisions it makes',
				},
			],
		},
	],
};

/** The actions from version 2: a short output name, and at least one action (n8n flags an empty list). */
const actionsV2: Partial<INodeProperties> = {
	typeOptions: { multipleValues: true, sortable: true, minRequiredFields: 1 },
	options: [
		{
			displayName: 'Action',
			name: 'action',
			values: [
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					required: true,
					description: 'The action, e.g. partial_refund. The model answers with this name and it is recorded on the decision.',
				},
				{
					// as Switch's "Output Name" (outputKey): the canvas cuts an output's name after about 15 characters
					displayName: 'Output Name',
					name: 'outputName',
					type: 'string',
					default: '',
					placeholder: 'e.g. Refund',
					description: "A short name for this action's output on the canvas. Empty uses the action's name.",
				},
				actionDescription,
				actionNeedsApproval,
			],
		},
	],
};

/** The hard rules from version 2: fields in the order a person fills them in, actions chosen from the list. */
const rulesV2: Partial<INodeProperties> = {
	options: [
		{
			displayName: 'Rule',
			name: 'rule',
			// a rule is filled in as it reads: its name, when it applies, what it does, to which actions
			values: [
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					description: 'A name for the rule, recorded on the decisions it makes',
				},
				ruleCondition,
				ruleEffect,
				{
					displayName: 'Action Name or ID',
					name: 'action',
					type: 'options',
					typeOptions: { loadOptionsMethod: 'getForcedActions' },
					default: '',
					displayOptions: { show: { effect: ['force'] } },
					description:
						'The action to take: one of the actions above, or Escalate. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				},
				{
					displayName: 'Forbidden Action Names or IDs',
					name: 'forbiddenActions',
					type: 'multiOptions',
					typeOptions: { loadOptionsMethod: 'getActions' },
					default: [],
					displayOptions: { show: { effect: ['forbid'] } },
					description:
						'The actions the model may not choose. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				},
			],
		},
	],
};

export const versionDescription: INodeTypeDescription = {
	displayName: 'AI Decide',
	name: 'aiDecide',
	icon: { light: 'file:aiDecide.svg', dark: 'file:aiDecide.dark.svg' },
	group: ['transform'],
	version: [1, 2, 3],
	subtitle: '={{ ($parameter["actions"]?.action ?? []).length + " actions · " + ($parameter["provider"] === "chatModel" ? "Chat Model" : $parameter[$parameter["provider"] + "Model"] ?? $parameter["model"]) }}',
	description: 'Choose the next action from a fixed list under a written policy, with hard rules the model cannot override',
	defaults: { name: 'AI Decide' },
	inputs: aiInputs,
	outputs: outputsFrom(configuredOutputs),
	credentials: aiCredentials,
	properties: [
		...providerProperties,
		{
			displayName: 'Context',
			name: 'context',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '={{ $json }}',
			required: true,
			description:
				'What the decision is about: text, or the whole item (the default). Objects are sent as JSON. It is fenced as data: instructions inside it are ignored.',
		},
		{
			displayName: 'Policy',
			name: 'policy',
			type: 'string',
			typeOptions: { rows: 6 },
			default: '',
			required: true,
			placeholder: 'e.g. Refund orders under 100 USD when the goods arrived damaged. Never refund after 30 days.',
			description: 'The written policy the decision must follow, in plain language',
		},
		...changedAtVersion(2, actionsV1, actionsV2),
		...changedAtVersion(2, rulesV1, rulesV2),
		{
			displayName: 'Confidence Method',
			name: 'confidenceMethod',
			type: 'options',
			options: [
				{
					name: 'Model Estimate',
					value: 'model-estimate',
					description: 'The model rates itself: one request, least reliable',
				},
				{
					name: 'Agreement Across Samples',
					value: 'k-sample',
					description: 'Ask several times; the share of answers that agree (costs more)',
				},
			],
			default: 'model-estimate',
			description: 'How the confidence is measured. The method is recorded on every result.',
		},
		{
			displayName: 'Samples',
			name: 'samples',
			type: 'number',
			typeOptions: { minValue: 2, maxValue: 10 },
			default: 5,
			displayOptions: { show: { confidenceMethod: ['k-sample'] } },
			description: 'How many answers to compare for agreement',
		},
		{
			displayName: 'Escalation Threshold',
			name: 'threshold',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
			default: 0.7,
			description: 'Decisions whose confidence is below this go to Escalate',
		},
		resultKeyProperty('decide'),
		aiOptionsProperty(),
	],
};
