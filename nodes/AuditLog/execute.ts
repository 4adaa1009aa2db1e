/**
 * The Audit Log's three operations. Parameters are read per item (expressions work everywhere); the
 * records, the chain, the sinks and the report live in shared/audit.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	AuditSinkError,
	ChainVerifier,
	FileSink,
	HttpSink,
	PgSink,
	ReportBuilder,
	buildDraft,
	checkStreamName,
	lastDaysWindow,
	renderReportHtml,
	reportStream,
	stampOf,
	verifyStream,
	type AuditDraft,
	type AuditSink,
	type PgConnection,
	type TimeWindow,
} from '../../shared/audit';

type SinkKind = 'file' | 'postgres' | 'http';

interface SinkSettings {
	kind: SinkKind;
	filePath: string;
	tableName: string;
	url: string;
	auth: string;
}

function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function sinkSettings(ctx: IExecuteFunctions, i: number, operation: string): SinkSettings {
	const kind = ctx.getNodeParameter('sink', i) as SinkKind;
	return {
		kind,
		filePath: kind === 'file' ? String(ctx.getNodeParameter('filePath', i, '')) : '',
		tableName: kind === 'postgres' ? String(ctx.getNodeParameter('tableName', i, '')) : '',
		url: kind === 'http' && operation === 'append' ? String(ctx.getNodeParameter('url', i, '')).trim() : '',
		auth: kind === 'http' && operation === 'append' ? String(ctx.getNodeParameter('httpAuthentication', i, 'none')) : '',
	};
}

async function openSink(ctx: IExecuteFunctions, settings: SinkSettings, i: number): Promise<AuditSink> {
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

/** A user-facing error naming the item and, when known, the parameter at fault. */
function toNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	const field = error instanceof AuditSinkError ? error.field : undefined;
	return new NodeOperationError(ctx.getNode(), errorMessage(error), {
		itemIndex,
		description: field ? `Check the parameter "${field}".` : undefined,
	});
}

export async function appendItems(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
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
		out[i] = { json: { ...items[i].json, error: nodeError.message }, binary: items[i].binary, pairedItem: { item: i } };
	};

	for (let i = 0; i < items.length; i++) {
		try {
			const settings = sinkSettings(this, i, 'append');
			const stream = checkStreamName(String(this.getNodeParameter('stream', i)).trim());
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

/** Records carried by the input items: each item a record, or an item with a `records` list. */
function recordsFromInput(items: INodeExecutionData[]): unknown[] {
	const records: unknown[] = [];
	for (const item of items) {
		if (Array.isArray(item.json.records)) records.push(...(item.json.records as unknown[]));
		else records.push(item.json);
	}
	return records;
}

function allPaired(items: INodeExecutionData[]) {
	return items.map((_, i) => ({ item: i }));
}

/** Verify and Report produce one item; they read their parameters from the first item. */
async function withReadSink<T>(
	ctx: IExecuteFunctions,
	operation: string,
	work: (sink: AuditSink | null, stream: string) => Promise<T>,
): Promise<T> {
	const stream = checkStreamName(String(ctx.getNodeParameter('stream', 0)).trim());
	const source = ctx.getNodeParameter('source', 0, 'sink') as string;
	if (source === 'input') return await work(null, stream);
	const sink = await openSink(ctx, sinkSettings(ctx, 0, operation), 0);
	try {
		return await work(sink, stream);
	} finally {
		await sink.close();
	}
}

async function single(
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

export async function verifyItems(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	return await single(this, items, async () => {
		const result = await withReadSink(this, 'verify', async (sink, stream) => {
			if (!sink) {
				const verifier = new ChainVerifier();
				verifier.pushAll(recordsFromInput(items));
				return { stream, ...verifier.result() };
			}
			return { stream, ...(await verifyStream(sink, stream)) };
		});
		return {
			json: { ...result, verifiedAt: new Date().toISOString() } as unknown as IDataObject,
			pairedItem: allPaired(items),
		};
	});
}

function reportWindow(ctx: IExecuteFunctions): TimeWindow {
	const kind = ctx.getNodeParameter('window', 0, 'lastDays') as string;
	if (kind === 'all') return {};
	if (kind === 'lastDays') {
		const days = Number(ctx.getNodeParameter('lastDays', 0, 7));
		if (!Number.isFinite(days) || days <= 0) {
			throw new NodeOperationError(ctx.getNode(), `Days must be a positive number, got "${days}"`, { itemIndex: 0 });
		}
		return lastDaysWindow(days);
	}
	const window: TimeWindow = {};
	for (const field of ['from', 'to'] as const) {
		const raw = ctx.getNodeParameter(field, 0, '') as unknown;
		if (raw === '' || raw === null || raw === undefined) continue;
		const date = new Date(String(raw));
		if (Number.isNaN(date.getTime())) {
			throw new NodeOperationError(ctx.getNode(), `"${field === 'from' ? 'From' : 'To'}" is not a date: "${String(raw)}"`, {
				itemIndex: 0,
			});
		}
		window[field] = date.toISOString();
	}
	return window;
}

export async function reportItems(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	return await single(this, items, async () => {
		const window = reportWindow(this);
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const report = await withReadSink(this, 'report', async (sink, stream) => {
			if (sink) return await reportStream(sink, stream, window);
			const builder = new ReportBuilder(stream, window);
			for (const record of recordsFromInput(items)) builder.push(record);
			return builder.result();
		});
		const title = typeof options.reportTitle === 'string' && options.reportTitle ? options.reportTitle : undefined;
		const html = renderReportHtml(report, title);
		const item: INodeExecutionData = {
			json: { ...(report as unknown as IDataObject), html },
			pairedItem: allPaired(items),
		};
		if (options.htmlAsBinary === true) {
			const property = typeof options.binaryPropertyName === 'string' && options.binaryPropertyName ? options.binaryPropertyName : 'data';
			item.binary = {
				[property]: await this.helpers.prepareBinaryData(Buffer.from(html, 'utf8'), 'report.html', 'text/html'),
			};
		}
		return item;
	});
}
