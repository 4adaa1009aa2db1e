/** What the editor shows of the Confidence Gate: its parameters and its three outputs. */
import { NodeConnectionTypes, type INodeProperties, type INodeTypeDescription } from 'n8n-workflow';

import { DEFAULT_TABLE } from '../AuditLog/sinks/pgSink';
import { MAX_AUDITS_KEPT, MAX_WINDOW_DAYS } from '../AuditLog/trust/summary';
import { changedAtVersion, fromVersion } from '../../shared/node/versions';

/** Version 1's modes; version 2 adds Shadow and Earned (saved version 1 workflows keep their list and defaults). */
const modeV1: INodeProperties = {
	displayName: 'Mode',
	name: 'mode',
	type: 'options',
	options: [
		{ name: 'Autopilot', value: 'autopilot', description: 'Route by the bands below' },
		{ name: 'Assist', value: 'assist', description: 'Every item to Review with the AI result attached: a person approves everything' },
	],
	default: 'autopilot',
	description: 'Assist is the pilot stage; switch to Autopilot once the review numbers justify it',
};

const mode = changedAtVersion(2, modeV1, {
	options: [
		{ name: 'Autopilot', value: 'autopilot', description: 'Route by the bands below' },
		{ name: 'Assist', value: 'assist', description: 'Every item to Review with the AI result attached: a person approves everything' },
		{
			name: 'Shadow',
			value: 'shadow',
			description:
				'Every item to Review, as before the AI existed; the AI result rides along and what it alone would have done is recorded (gate.wouldBe), so the Audit Log measures agreement per label before the AI decides anything',
		},
		{
			name: 'Earned',
			value: 'earned',
			description:
				'Auto-route a label only while the audit store shows it earned it (enough reviewed items, agreement lower bound ≥ target); confident items keep being sampled for audit, and a label whose audits fall below target steps back to Review at once',
		},
	],
	description: 'Pilot in Shadow, then let labels earn auto-routing by the numbers in Earned; Autopilot routes by the bands alone',
});

const earnedOnly = (property: INodeProperties): INodeProperties =>
	fromVersion(2, { ...property, displayOptions: { ...property.displayOptions, show: { ...property.displayOptions?.show, mode: ['earned'] } } });

/** Earned mode's rule. */
const earnedRule: INodeProperties[] = [
	{
		displayName: 'Target Agreement',
		name: 'target',
		type: 'number',
		typeOptions: { minValue: 0.5, maxValue: 0.999, numberPrecision: 3 },
		default: 0.9,
		description:
			'The share of items a person must approve unchanged. A label is auto-routed once the Wilson 95 % lower bound of its reviewed agreement reaches this, and steps back when the upper bound of its latest sampled audits falls below it.',
	},
	{
		displayName: 'Minimum Reviewed Items',
		name: 'minReviewed',
		type: 'number',
		typeOptions: { minValue: 1, numberPrecision: 0 },
		default: 200,
		description: 'Reviewed items of a label (since its last change, within the window) needed before it can earn auto-routing',
	},
	{
		displayName: 'Window (Days)',
		name: 'windowDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_WINDOW_DAYS, numberPrecision: 0 },
		default: 30,
		description: 'Reviewed items count when they were recorded in the last this many UTC days, today included',
	},
	{
		displayName: 'Audit Sample (%)',
		name: 'auditPercent',
		type: 'number',
		typeOptions: { minValue: 0.1, maxValue: 100, numberPrecision: 1 },
		default: 10,
		description:
			'Share of the items an earned label would auto-route that go to Review anyway (gate.sampled), so a person keeps checking them; their outcomes are what can step the label back. Deterministic: a re-run samples the same items.',
	},
	{
		displayName: 'Step-Back Audits',
		name: 'auditWindow',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_AUDITS_KEPT, numberPrecision: 0 },
		default: 20,
		description: 'How many of the latest sampled audits of a label are judged for stepping back',
	},
];

/** The audit store Earned mode reads (and records trust changes in), and Latest Recommendation reads. */
const auditStore: INodeProperties[] = [
	{
		displayName: 'Audit Store',
		name: 'sink',
		type: 'options',
		options: [
			{ name: 'File', value: 'file', description: 'The Audit Log\'s JSON Lines file on the n8n machine (its default)' },
			{ name: 'PostgreSQL', value: 'postgres', description: 'The Audit Log\'s PostgreSQL table' },
		],
		default: 'file',
		description:
			'Where the Audit Log records the reviews: the gate reads the stream\'s trust summary from it once per run and records each trust change in it',
	},
	{
		displayName: 'Stream',
		name: 'stream',
		type: 'string',
		default: 'default',
		description: 'The Audit Log stream that records this step\'s reviews (one stream per AI step keeps labels apart)',
	},
	{
		displayName: 'File Path',
		name: 'filePath',
		type: 'string',
		default: '',
		placeholder: '/data/audit/{stream}.jsonl',
		displayOptions: { show: { sink: ['file'] } },
		description: 'The Audit Log\'s File Path; empty: its default (&lt;n8n user folder&gt;/.n8n/governed-ai-audit/&lt;stream&gt;.jsonl)',
	},
	{
		displayName: 'Table Name',
		name: 'tableName',
		type: 'string',
		default: DEFAULT_TABLE,
		displayOptions: { show: { sink: ['postgres'] } },
		description: 'The Audit Log\'s table (table or schema.table)',
	},
];

const earnedProperties: INodeProperties[] = [...earnedRule, ...auditStore].map(earnedOnly);

/** Version 3: the auto thresholds from the latest recommendation the Audit Log Report recorded (recommended.ts). */
const thresholdsFrom = fromVersion(3, {
	displayName: 'Thresholds From',
	name: 'thresholdsFrom',
	type: 'options',
	options: [
		{ name: 'Typed Numbers', value: 'typed', description: 'Auto at or Above and the Per-Label Thresholds below' },
		{
			name: 'Latest Recommendation',
			value: 'recommendation',
			description:
				'Per label, the auto threshold of the latest recommendation an Audit Log Report recorded in the audit stream (its Record Recommendation on); a label without one is not auto-routed',
		},
	],
	default: 'typed',
	description:
		'Where the auto threshold of each label comes from. Latest Recommendation reads the audit stream once per run; Reject Below stays the typed number; the result records which applied (gate.thresholdSource) and which recommendation (gate.recommendation).',
});

/**
 * The same audit store parameters for Latest Recommendation outside Earned mode (Earned mode shows them
 * already): n8n's displayOptions cannot say "Earned or Latest Recommendation" in one property, so the
 * properties come twice under the same names, never shown together.
 */
const recommendationStore: INodeProperties[] = auditStore.map((property) =>
	fromVersion(3, {
		...property,
		description:
			property.name === 'sink'
				? 'Where the Audit Log keeps the stream its Report recorded the recommendation in: the gate reads the latest one once per run'
				: property.name === 'stream'
					? 'The Audit Log stream whose Report recorded the recommendation (the stream of this step\'s reviews)'
					: property.description,
		displayOptions: {
			show: { ...property.displayOptions?.show, mode: ['autopilot', 'assist', 'shadow'], thresholdsFrom: ['recommendation'] },
		},
	}),
);

export const versionDescription: INodeTypeDescription = {
	displayName: 'Confidence Gate',
	name: 'confidenceGate',
	icon: { light: 'file:confidenceGate.svg', dark: 'file:confidenceGate.dark.svg' },
	group: ['transform'],
	version: [1, 2, 3],
	subtitle:
		'={{ $parameter["mode"] === "assist" ? "assist: all to review" : $parameter["mode"] === "shadow" ? "shadow: all to review" : ($parameter["mode"] === "earned" ? "earned · " : "") + "auto ≥ " + ($parameter["thresholdsFrom"] === "recommendation" ? "recommended" : $parameter["high"]) + " · reject < " + $parameter["low"] }}',
	description:
		'Route items by the confidence of an AI step: Auto, Review or Reject, by typed thresholds or the latest recommended ones, with a random audit sample',
	defaults: { name: 'Confidence Gate' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
	outputNames: ['Auto', 'Review', 'Reject'],
	// "Audit Store" exists only where it is shown (Earned mode; from version 3 also Latest Recommendation), and n8n
	// drops a hidden parameter from the node's parameters, so this means: the store is shown and is PostgreSQL.
	// (n8n checks a credential by its first entry of that name, so one entry must cover both cases.)
	credentials: [{ name: 'governedAiPostgres', required: true, displayOptions: { show: { sink: ['postgres'] } } }],
	properties: [
		{
			displayName: 'Confidence From',
			name: 'source',
			type: 'options',
			options: [
				{ name: 'Latest AI Result', value: 'latest', description: 'The most recent AI Classify, Extract or Decide result on the item' },
				{ name: 'AI Result by Key', value: 'key', description: 'A named result, e.g. classify when two AI steps ran' },
				{ name: 'Expression', value: 'expression', description: 'Any number from 0 to 1' },
			],
			default: 'latest',
			description: 'Where the confidence comes from',
		},
		{
			displayName: 'Result Key',
			name: 'resultKey',
			type: 'string',
			default: 'classify',
			displayOptions: { show: { source: ['key'] } },
			description: 'The name of the AI result to read, e.g. classify for ai.classify',
		},
		{
			displayName: 'Confidence',
			name: 'confidence',
			type: 'number',
			default: 0,
			displayOptions: { show: { source: ['expression'] } },
			description: 'An expression giving the confidence from 0 to 1; an empty value goes to Review',
		},
		{
			displayName: 'Label',
			name: 'label',
			type: 'string',
			default: '',
			displayOptions: { show: { source: ['expression'] } },
			description: 'Optional label, used to pick per-label thresholds',
		},
		...mode,
		...earnedProperties,
		thresholdsFrom,
		...recommendationStore,
		{
			displayName: 'Auto at or Above',
			name: 'high',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
			default: 0.85,
			description: 'Items with at least this confidence go to Auto',
		},
		{
			displayName: 'Reject Below',
			name: 'low',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
			default: 0.4,
			description: 'Items below this confidence go to Reject; those in between go to Review',
		},
		{
			displayName: 'Per-Label Thresholds',
			name: 'perLabel',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true },
			placeholder: 'Add Label Threshold',
			default: {},
			description: 'Stricter or looser bands for particular labels or actions. An item with several labels (AI Classify with Allow Several Labels on) holds each label\'s confidence to that label\'s thresholds and goes to the most cautious band any of its labels reaches: Reject before Review before Auto.',
			options: [
				{
					displayName: 'Label',
					name: 'label',
					values: [
						{ displayName: 'Label', name: 'label', type: 'string', default: '', description: 'The label or action, e.g. refund' },
						{ displayName: 'Auto at or Above', name: 'high', type: 'number', default: 0.95, description: 'Auto threshold for this label' },
						{ displayName: 'Reject Below', name: 'low', type: 'number', default: 0.4, description: 'Reject threshold for this label' },
					],
				},
			],
		},
		{
			displayName: 'Audit Sample (%)',
			name: 'samplePercent',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 1 },
			default: 0,
			// Earned mode has its own (auditPercent); no version 1 workflow has Earned mode
			displayOptions: { hide: { mode: ['earned'] } },
			description: 'Share of Auto items sent to Review anyway, so a person keeps checking the confident ones. The choice is deterministic: a re-run samples the same items.',
		},
		{
			displayName: 'Sample Key',
			name: 'sampleKey',
			type: 'string',
			default: '',
			description: 'What the audit sample is drawn from. Empty uses the decision ID of the AI result.',
		},
	],
};
