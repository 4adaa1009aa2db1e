/** Append: one record per item, chained onto the stream; the items pass on with an `audit` stamp. */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { buildDraft, stampOf, type AuditDraft } from '../record';
import { type AuditSink } from '../sinks/sink';
import { failedItem } from '../../../shared/failedItem';
import {
	openSink,
	showOnlyFor,
	storeProperties,
	streamOf,
	streamProperty,
	toNodeError,
	type SinkKind,
	type SinkSettings,
} from './common';

export const properties: INodeProperties[] = showOnlyFor({ operation: ['append'] }, [
	{
		displayName: 'Sink',
		name: 'sink',
		type: 'options',
		options: [
			{
				name: 'File',
				value: 'file',
				description: 'A JSON Lines file on the n8n machine (default: ~/.n8n/governed-ai-audit/&lt;stream&gt;.jsonl)',
			},
			{
				name: 'PostgreSQL',
				value: 'postgres',
				description: 'A table in PostgreSQL, created when missing; safe with several n8n workers',
			},
			{
				name: 'HTTP Endpoint',
				value: 'http',
				description: 'POST JSON batches to a SIEM or log platform (it cannot be read back: verify and report from there)',
			},
		],
		default: 'file',
		description: 'Where the records are kept',
	},
	streamProperty,
	...storeProperties('write'),
	{
		displayName: 'URL',
		name: 'url',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://siem.example.com/ingest/n8n-audit',
		displayOptions: { show: { sink: ['http'] } },
		description:
			'Endpoint that receives POST requests with JSON bodies {stream, records: [...]}. Records are chained before they are sent; the head of the chain is kept in a small state file in &lt;n8n user folder&gt;/.n8n/governed-ai-audit/ and only moves on after a 2xx answer. One n8n machine per HTTP stream (several workers: use PostgreSQL).',
	},
	{
		displayName: 'Authentication',
		name: 'httpAuthentication',
		type: 'options',
		options: [
			{ name: 'None', value: 'none' },
			{ name: 'Header Auth', value: 'headerAuth' },
		],
		default: 'none',
		displayOptions: { show: { sink: ['http'] } },
		description: 'Whether to send a header (such as an API key) from a Header Auth credential',
	},
	{
		displayName: 'Include Redacted Input',
		name: 'includeInput',
		type: 'boolean',
		default: false,
		description:
			"Whether to store a copy of the item's input fields in the record, with fields named like key/secret/token/password removed and e-mail addresses, phone, card and account numbers masked. Off: only a SHA-256 hash of the input is stored.",
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'AI Result Key',
				name: 'aiKey',
				type: 'string',
				default: '',
				description:
					'Which result under `ai` to record as the decision (e.g. classify). Empty: the most recent AI result on the item (`ai.latest`). The cost of every AI step on the item is recorded either way.',
			},
		],
	},
]);

function sinkSettings(ctx: IExecuteFunctions, i: number): SinkSettings {
	const kind = ctx.getNodeParameter('sink', i) as SinkKind;
	return {
		kind,
		filePath: kind === 'file' ? String(ctx.getNodeParameter('filePath', i, '')) : '',
		tableName: kind === 'postgres' ? String(ctx.getNodeParameter('tableName', i, '')) : '',
		url: kind === 'http' ? String(ctx.getNodeParameter('url', i, '')).trim() : '',
		auth: kind === 'http' ? String(ctx.getNodeParameter('httpAuthentication', i, 'none')) : '',
	};
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const out: INodeExecutionData[] = new Array(items.length);
	const workflowId = this.getWorkflow().id ?? null;
	const executionId = this.getExecutionId() ?? null;
	const nodeName = this.getNode().name;
	// one append per (sink, stream): a batch is chained and written in one locked step
	const groups = new Map<string, { settings: SinkSettings; stream: string; first: number; entries: Array<{ i: number; draft: AuditDraft }> }>();

	const fail = (i: number, error: unknown): void => {
		const nodeError = toNodeError(this, error, i);
		if (!this.continueOnFail()) throw nodeError;
		out[i] = failedItem(this, { json: { ...items[i].json, error: nodeError.message }, binary: items[i].binary, pairedItem: { item: i } }, nodeError);
	};

	for (let i = 0; i < items.length; i++) {
		try {
			const settings = sinkSettings(this, i);
			const stream = streamOf(this, i);
			const includeInput = this.getNodeParameter('includeInput', i, false) as boolean;
			const options = this.getNodeParameter('options', i, {}) as IDataObject;
			const draft = buildDraft(items[i].json, {
				workflowId: workflowId === null ? null : String(workflowId),
				executionId: executionId === null ? null : String(executionId),
				nodeName,
				itemIndex: i,
				aiKey: typeof options.aiKey === 'string' ? options.aiKey.trim() : undefined,
				includeInput,
			});
			const key = JSON.stringify([settings, stream]);
			let group = groups.get(key);
			if (!group) {
				group = { settings, stream, first: i, entries: [] };
				groups.set(key, group);
			}
			group.entries.push({ i, draft });
		} catch (error) {
			fail(i, error);
		}
	}

	for (const group of groups.values()) {
		let sink: AuditSink | undefined;
		try {
			sink = await openSink(this, group.settings, group.first);
			const records = await sink.append(
				group.stream,
				group.entries.map((e) => e.draft),
			);
			group.entries.forEach(({ i }, n) => {
				out[i] = {
					json: { ...items[i].json, audit: stampOf(records[n]) },
					binary: items[i].binary,
					pairedItem: { item: i },
				};
			});
		} catch (error) {
			// the batch was written whole or not at all: every item of it fails alike
			if (!this.continueOnFail()) throw toNodeError(this, error, group.first);
			for (const { i } of group.entries) fail(i, error);
		} finally {
			await sink?.close();
		}
	}
	for (const item of out) if (item && item.binary === undefined) delete item.binary;
	return [out];
}
