/**
 * What Verify and Report share: where the records come from (a sink that can be read back, or the input
 * items) and the one result item they produce.
 */
import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import type { AuditSink } from '../sinks/sink';
import {
	allPaired,
	openSink,
	storeProperties,
	streamOf,
	streamProperty,
	toNodeError,
	type Operation,
} from './common';

/** Sinks Verify and Report can read from. The HTTP sink only sends. */
export const READABLE_SINKS = ['file', 'postgres'] as const;

const HTTP_CANNOT_READ =
	'The HTTP sink only sends records to your endpoint and cannot read them back. Verify and report from your log platform, or fetch the records there (e.g. with an HTTP Request node) and set "Records From" to "Input Items".';

/** Records From, Sink, Stream and the sink's own parameters, for one read operation. */
export function readProperties(operation: Exclude<Operation, 'append'>): INodeProperties[] {
	const verb = operation === 'verify' ? 'Verify' : 'Report';
	return [
		{
			displayName: 'Records From',
			name: 'source',
			type: 'options',
			options: [
				{ name: 'Sink', value: 'sink', description: 'Read the stream from a file or a PostgreSQL table' },
				{
					name: 'Input Items',
					value: 'input',
					description:
						'Use the records in the input items (each item a record, or an item with a "records" list), e.g. fetched from the log platform an HTTP sink sends to',
				},
			],
			default: 'sink',
			description: `Where ${verb} takes the records from`,
		},
		{
			displayName: 'Sink',
			name: 'sink',
			type: 'options',
			options: [
				{ name: 'File', value: 'file', description: 'A JSON Lines file on the n8n machine' },
				{ name: 'PostgreSQL', value: 'postgres', description: 'A table in PostgreSQL' },
			],
			default: 'file',
			displayOptions: { show: { source: ['sink'] } },
			description: 'Where the records are kept. An HTTP sink cannot be read back: fetch its records and use "Records From: Input Items".',
		},
		{ ...streamProperty, description: `${streamProperty.description} ${verb} covers one stream.` },
		...storeProperties('read').map((p) => ({
			...p,
			displayOptions: { show: { ...p.displayOptions?.show, source: ['sink'] } },
		})),
	];
}

/** Records carried by the input items: each item a record, or an item with a `records` list. */
export function recordsFromInput(items: INodeExecutionData[]): unknown[] {
	const records: unknown[] = [];
	for (const item of items) {
		if (Array.isArray(item.json.records)) records.push(...(item.json.records as unknown[]));
		else records.push(item.json);
	}
	return records;
}

/** Verify and Report produce one item; they read their parameters from the first item. */
export async function withReadSink<T>(
	ctx: IExecuteFunctions,
	operation: Exclude<Operation, 'append'>,
	work: (sink: AuditSink | null, stream: string) => Promise<T>,
): Promise<T> {
	const stream = streamOf(ctx, 0);
	const source = ctx.getNodeParameter('source', 0, 'sink') as string;
	if (source === 'input') return await work(null, stream);
	if (source !== 'sink') {
		throw new NodeOperationError(ctx.getNode(), `"Records From" must be "Sink" or "Input Items", got "${source}"`, { itemIndex: 0 });
	}
	const kind = ctx.getNodeParameter('sink', 0) as string;
	if (kind === 'http') {
		const verb = operation === 'verify' ? 'Verify' : 'Report';
		throw new NodeOperationError(ctx.getNode(), `${verb} cannot read from the HTTP sink`, { itemIndex: 0, description: HTTP_CANNOT_READ });
	}
	if (!(READABLE_SINKS as readonly string[]).includes(kind)) {
		throw new NodeOperationError(ctx.getNode(), `Unknown sink "${kind}"`, { itemIndex: 0, description: 'Choose File or PostgreSQL.' });
	}
	const sink = await openSink(
		ctx,
		{
			kind: kind as (typeof READABLE_SINKS)[number],
			filePath: kind === 'file' ? String(ctx.getNodeParameter('filePath', 0, '')) : '',
			tableName: kind === 'postgres' ? String(ctx.getNodeParameter('tableName', 0, '')) : '',
			url: '',
			auth: '',
		},
		0,
	);
	try {
		return await work(sink, stream);
	} finally {
		await sink.close();
	}
}

/** The one result item; with Continue On Fail, the error in its place. */
export async function single(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	build: () => Promise<INodeExecutionData>,
): Promise<INodeExecutionData[][]> {
	try {
		return [[await build()]];
	} catch (error) {
		const nodeError = toNodeError(ctx, error, 0);
		if (!ctx.continueOnFail()) throw nodeError;
		return [[{ json: { error: nodeError.message }, pairedItem: allPaired(items) }]];
	}
}
