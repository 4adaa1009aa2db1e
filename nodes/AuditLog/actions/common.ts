/**
 * What the Audit Log's operations share: the parameters that look alike in each (every operation keeps
 * its own copy, shown only for it, under the same name, so saved workflows keep loading), opening a sink,
 * and the node's error shape.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IDisplayOptions,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { FileSink } from '../sinks/fileSink';
import { HttpSink } from '../sinks/httpSink';
import { DEFAULT_TABLE, PgSink, type PgConnection } from '../sinks/pgSink';
import { AuditSinkError, checkStreamName, type AuditSink } from '../sinks/sink';

export const OPERATIONS = ['append', 'verify', 'report'] as const;
export type Operation = (typeof OPERATIONS)[number];

export type SinkKind = 'file' | 'postgres' | 'http';

/** Adds `show` conditions to each property's own (the Postgres v2 node's `updateDisplayOptions`). */
export function showOnlyFor(show: NonNullable<IDisplayOptions['show']>, properties: INodeProperties[]): INodeProperties[] {
	return properties.map((property) => ({
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...show, ...property.displayOptions?.show },
		},
	}));
}

export const streamProperty: INodeProperties = {
	displayName: 'Stream',
	name: 'stream',
	type: 'string',
	default: 'default',
	required: true,
	description:
		'Name of the log: each stream has its own sequence and hash chain. Letters, digits, dots, dashes and underscores.',
};

/** The file and table parameters of the file and PostgreSQL sinks. */
export function storeProperties(verb: 'write' | 'read'): INodeProperties[] {
	return [
		{
			displayName: 'File Path',
			name: 'filePath',
			type: 'string',
			default: '',
			placeholder: '/data/audit/{stream}.jsonl',
			displayOptions: { show: { sink: ['file'] } },
			description: `JSON Lines file to ${verb}; {stream} is replaced by the stream name. Empty: &lt;n8n user folder&gt;/.n8n/governed-ai-audit/&lt;stream&gt;.jsonl. One stream per file.`,
		},
		{
			displayName: 'Table Name',
			name: 'tableName',
			type: 'string',
			default: DEFAULT_TABLE,
			displayOptions: { show: { sink: ['postgres'] } },
			description:
				verb === 'write'
					? 'Table that holds the records (table or schema.table); created when missing'
					: 'Table that holds the records (table or schema.table)',
		},
	];
}

export interface SinkSettings {
	kind: SinkKind;
	filePath: string;
	tableName: string;
	url: string;
	auth: string;
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** A user-facing error naming the item and, when known, the parameter at fault. */
export function toNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	const field = error instanceof AuditSinkError ? error.field : undefined;
	return new NodeOperationError(ctx.getNode(), errorMessage(error), {
		itemIndex,
		description: field ? `Check the parameter "${field}".` : undefined,
	});
}

export function streamOf(ctx: IExecuteFunctions, i: number): string {
	return checkStreamName(String(ctx.getNodeParameter('stream', i)).trim());
}

export async function openSink(ctx: IExecuteFunctions, settings: SinkSettings, i: number): Promise<AuditSink> {
	switch (settings.kind) {
		case 'file':
			return new FileSink(settings.filePath || undefined);
		case 'postgres': {
			const credentials = await ctx.getCredentials<PgConnection & IDataObject>('governedAiPostgres', i);
			return new PgSink(credentials, settings.tableName || undefined);
		}
		case 'http': {
			if (!/^https?:\/\//i.test(settings.url)) {
				throw new NodeOperationError(ctx.getNode(), `URL "${settings.url}" is not an http(s) address`, { itemIndex: i });
			}
			const useAuth = settings.auth === 'headerAuth';
			return new HttpSink(async (body) => {
				const request: IHttpRequestOptions = { method: 'POST', url: settings.url, body, json: true };
				if (useAuth) await ctx.helpers.httpRequestWithAuthentication.call(ctx, 'httpHeaderAuth', request);
				else await ctx.helpers.httpRequest(request);
			});
		}
		default:
			throw new NodeOperationError(ctx.getNode(), `Unknown sink "${String(settings.kind)}"`, { itemIndex: i });
	}
}

export function allPaired(items: INodeExecutionData[]) {
	return items.map((_, i) => ({ item: i }));
}
