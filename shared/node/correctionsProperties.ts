/**
 * "Learn From Corrections" (AI Classify and AI Extract from version 3; see shared/corrections.ts): the switch,
 * the audit store to read, and the caps. Read once per run, from the first item.
 */
import { NodeOperationError, type INodeCredentialDescription, type INodeProperties, type IExecuteFunctions } from 'n8n-workflow';

import type { AiRun } from '../aiStep';
import { aiCredentials } from './aiProperties';
import {
	type CorrectionExample,
	type CorrectionMatch,
	type CorrectionSettings,
	type CorrectionsUsed,
	correctionsUsed,
	examplesBlock,
	readCorrections,
} from '../corrections';
import type { PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import type { ParameterReader } from './parameters';
import { fromVersion } from './versions';

export const CORRECTIONS_VERSION = 3;
const DEFAULT_TABLE = 'governed_ai_audit';

const whenOn = { learnFromCorrections: [true] };

export function correctionsProperties(step: 'classify' | 'extract'): INodeProperties[] {
	const properties: INodeProperties[] = [
		{
			displayName: 'Learn From Corrections',
			name: 'learnFromCorrections',
			type: 'boolean',
			default: false,
			description: `Whether the most recent items of this step that a person corrected (read from the Audit Log's store once per run) go into the prompt as examples. The Audit Log must log after the Human Checkpoint with Include Input on. Each result lists the examples under ai.${step}.corrections.`,
		},
		{
			displayName: 'Corrections Store',
			name: 'correctionsSink',
			type: 'options',
			options: [
				{ name: 'Embedded File (Default)', value: 'file', description: "The Audit Log's default: a JSON Lines file in the n8n user folder" },
				{ name: 'PostgreSQL', value: 'postgres', description: 'The table an Audit Log writes to' },
			],
			default: 'file',
			displayOptions: { show: whenOn },
			description: 'Where the Audit Log of this workflow keeps its records',
		},
		{
			displayName: 'Corrections File Path',
			name: 'correctionsFilePath',
			type: 'string',
			default: '',
			placeholder: '/data/audit/{stream}.jsonl',
			displayOptions: { show: { ...whenOn, correctionsSink: ['file'] } },
			description: "The Audit Log's file; {stream} is replaced by the stream name. Empty: the Audit Log's default file.",
		},
		{
			displayName: 'Corrections Table',
			name: 'correctionsTable',
			type: 'string',
			default: DEFAULT_TABLE,
			displayOptions: { show: { ...whenOn, correctionsSink: ['postgres'] } },
			description: 'The table the Audit Log writes to (table or schema.table)',
		},
		{
			displayName: 'Corrections Stream',
			name: 'correctionsStream',
			type: 'string',
			default: 'default',
			displayOptions: { show: whenOn },
			description: "The Audit Log's stream",
		},
		{
			displayName: 'Text Field in the Log',
			name: 'correctionsTextField',
			type: 'string',
			default: 'text',
			displayOptions: { show: whenOn },
			description: 'The field of the logged input that holds the text the model was given, e.g. text or body.message',
		},
		{
			displayName: 'Max Examples',
			name: 'maxCorrections',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 100 },
			default: 20,
			displayOptions: { show: whenOn },
			description: 'At most this many corrections, the most recent first',
		},
		{
			displayName: 'Max Example Tokens',
			name: 'maxCorrectionTokens',
			type: 'number',
			typeOptions: { minValue: 50 },
			default: 2000,
			displayOptions: { show: whenOn },
			description: 'At most this many tokens (estimated as characters ÷ 4) for all examples together; paid on every request, cached where the provider caches',
		},
	];
	return properties.map((property) => fromVersion(CORRECTIONS_VERSION, property));
}

/**
 * The PostgreSQL credential, asked for only when corrections are read from PostgreSQL. Through `hide`, not `show`:
 * n8n's editor takes a parameter that credentials `show` on for the node's main auth field and hides it.
 */
export const correctionsCredential: INodeCredentialDescription = {
	name: 'governedAiPostgres',
	required: true,
	displayOptions: { hide: { '@version': [1, 2], learnFromCorrections: [false], correctionsSink: ['file'] } },
};

/** The settings, or undefined when the node's version or the switch says no. */
export function readCorrectionSettings(ctx: IExecuteFunctions, param: ParameterReader): CorrectionSettings | undefined {
	if (ctx.getNode().typeVersion < CORRECTIONS_VERSION) return undefined;
	if (param<boolean>('learnFromCorrections', 0, false) !== true) return undefined;
	const number = (name: string, label: string, fallback: number, min: number): number => {
		const value = Number(param(name, 0, fallback));
		if (!Number.isFinite(value) || value < min) {
			throw new NodeOperationError(ctx.getNode(), `${label} must be a number of at least ${min}, got "${String(value)}"`, { itemIndex: 0 });
		}
		return Math.floor(value);
	};
	return {
		sink: param<string>('correctionsSink', 0, 'file') === 'postgres' ? 'postgres' : 'file',
		filePath: String(param('correctionsFilePath', 0, '') ?? '').trim(),
		tableName: String(param('correctionsTable', 0, DEFAULT_TABLE) ?? '').trim(),
		stream: String(param('correctionsStream', 0, 'default') ?? '').trim(),
		textField: String(param('correctionsTextField', 0, 'text') ?? '').trim() || 'text',
		maxExamples: number('maxCorrections', 'Max Examples', 20, 1),
		maxTokens: number('maxCorrectionTokens', 'Max Example Tokens', 2000, 1),
	};
}

/** The examples of a run and what its results say about them. */
export interface RunCorrections {
	examples: CorrectionExample[];
	block: string;
	used: CorrectionsUsed;
}

/**
 * The run's corrections, read at most once (the first item to ask starts the read; the others wait for it),
 * or undefined when the node does not learn from corrections. A store that cannot be read fails each item
 * with an error naming the store's parameter.
 */
export function correctionsLoader(
	run: AiRun,
	match: Omit<CorrectionMatch, 'workflowId' | 'aiKey'>,
	defaultKey: string,
): ((itemIndex: number) => Promise<RunCorrections>) | undefined {
	const { ctx, param } = run;
	const settings = readCorrectionSettings(ctx, param);
	if (!settings) return undefined;
	let loading: Promise<RunCorrections> | undefined;
	return async (itemIndex) => {
		loading ??= (async () => {
			const full: CorrectionMatch = {
				...match,
				aiKey: String(param('resultKey', 0, defaultKey) || defaultKey),
				workflowId: ctx.getWorkflow().id ?? null,
			};
			const examples = await readCorrections(settings, full, async () =>
				(await ctx.getCredentials('governedAiPostgres', 0)) as unknown as PgConnection,
			);
			return { examples, block: examplesBlock(examples), used: correctionsUsed(examples, settings) };
		})();
		try {
			return await loading;
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), `Could not read the corrections: ${error instanceof Error ? error.message : String(error)}`, {
				itemIndex,
				description: `Check "Corrections Store", "Corrections ${settings.sink === 'postgres' ? 'Table' : 'File Path'}" and "Corrections Stream".`,
			});
		}
	};
}

/** AI Classify's and AI Extract's credentials: the provider's, plus the PostgreSQL one Learn From Corrections may read. */
export const aiCredentialsWithCorrections: INodeCredentialDescription[] = [...aiCredentials, correctionsCredential];
