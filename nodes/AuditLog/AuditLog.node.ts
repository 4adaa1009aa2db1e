import {
	NodeConnectionTypes,
	type ICredentialTestFunctions,
	type ICredentialsDecrypted,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { DEFAULT_TABLE, testPgConnection, type PgConnection } from '../../shared/audit/pgSink';
import { appendItems, reportItems, verifyItems } from './execute';

const sinkShown = (sink: string, operations?: string[]) => ({
	show: { sink: [sink], ...(operations ? { operation: operations } : {}) },
});

export class AuditLog implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Audit Log',
		name: 'auditLog',
		icon: { light: 'file:auditLog.svg', dark: 'file:auditLog.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["stream"] }}',
		description:
			'Append a tamper-evident, hash-chained record of every AI and human decision; verify the chain; report accuracy, escalations and cost',
		defaults: { name: 'Audit Log' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'governedAiPostgres',
				required: true,
				testedBy: 'governedAiPostgresConnectionTest',
				displayOptions: { show: { sink: ['postgres'] } },
			},
			{
				name: 'httpHeaderAuth',
				required: true,
				displayOptions: { show: { sink: ['http'], httpAuthentication: ['headerAuth'] } },
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Append',
						value: 'append',
						action: 'Append a record per item',
						description: 'Write one record per item to the log and pass the items on with an `audit` stamp',
					},
					{
						name: 'Verify',
						value: 'verify',
						action: 'Verify the hash chain',
						description: 'Recompute the chain and name the first record that was edited, deleted, inserted or moved',
					},
					{
						name: 'Report',
						value: 'report',
						action: 'Report accuracy and cost',
						description: 'Volume, gate rates, human agreement, calibration, escalations, errors and cost for a time window, as JSON and HTML',
					},
				],
				default: 'append',
			},
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
						description: 'POST JSON batches to a SIEM or log platform (Append only)',
					},
				],
				default: 'file',
				description: 'Where the records are kept',
			},
			{
				displayName: 'Stream',
				name: 'stream',
				type: 'string',
				default: 'default',
				required: true,
				description:
					'Name of the log: each stream has its own sequence and hash chain. Letters, digits, dots, dashes and underscores.',
			},
			{
				displayName: 'Records From',
				name: 'source',
				type: 'options',
				options: [
					{ name: 'Sink', value: 'sink', description: 'Read the stream from the sink' },
					{
						name: 'Input Items',
						value: 'input',
						description:
							'Use the records in the input items (each item a record, or an item with a `records` list), e.g. fetched from a log platform',
					},
				],
				default: 'sink',
				displayOptions: { show: { operation: ['verify', 'report'] } },
				description: 'Where Verify and Report take the records from',
			},
			{
				displayName: 'File Path',
				name: 'filePath',
				type: 'string',
				default: '',
				placeholder: '/data/audit/{stream}.jsonl',
				displayOptions: sinkShown('file'),
				description:
					'JSON Lines file to write; {stream} is replaced by the stream name. Empty: &lt;n8n user folder&gt;/.n8n/governed-ai-audit/&lt;stream&gt;.jsonl. One stream per file.',
			},
			{
				displayName: 'Table Name',
				name: 'tableName',
				type: 'string',
				default: DEFAULT_TABLE,
				displayOptions: sinkShown('postgres'),
				description: 'Table that holds the records (table or schema.table); created when missing',
			},
			{
				displayName: 'URL',
				name: 'url',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'https://siem.example.com/ingest/n8n-audit',
				displayOptions: sinkShown('http', ['append']),
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
				displayOptions: sinkShown('http', ['append']),
				description: 'Whether to send a header (such as an API key) from a Header Auth credential',
			},
			{
				displayName: 'Include Redacted Input',
				name: 'includeInput',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['append'] } },
				description:
					"Whether to store a copy of the item's input fields in the record, with fields named like key/secret/token/password removed and e-mail addresses, phone, card and account numbers masked. Off: only a SHA-256 hash of the input is stored.",
			},
			{
				displayName: 'Time Window',
				name: 'window',
				type: 'options',
				options: [
					{ name: 'Last N Days', value: 'lastDays' },
					{ name: 'From / To', value: 'range' },
					{ name: 'Everything', value: 'all' },
				],
				default: 'lastDays',
				displayOptions: { show: { operation: ['report'] } },
				description: 'Which records the report covers, by the time they were logged',
			},
			{
				displayName: 'Days',
				name: 'lastDays',
				type: 'number',
				typeOptions: { minValue: 0.001 },
				default: 7,
				displayOptions: { show: { operation: ['report'], window: ['lastDays'] } },
				description: 'How many days back from now the report covers',
			},
			{
				displayName: 'From',
				name: 'from',
				type: 'dateTime',
				default: '',
				displayOptions: { show: { operation: ['report'], window: ['range'] } },
				description: 'Start of the window (inclusive); empty: from the first record',
			},
			{
				displayName: 'To',
				name: 'to',
				type: 'dateTime',
				default: '',
				displayOptions: { show: { operation: ['report'], window: ['range'] } },
				description: 'End of the window (exclusive); empty: up to now',
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
							'Which result under `ai` to record (e.g. classify). Empty: the most recent AI result on the item (`ai.latest`).',
					},
					{
						displayName: 'HTML as Binary File',
						name: 'htmlAsBinary',
						type: 'boolean',
						default: false,
						description: 'Whether Report also outputs the HTML page as a binary file report.html (for e-mail attachments or Write File)',
					},
					{
						displayName: 'Binary Property',
						name: 'binaryPropertyName',
						type: 'string',
						default: 'data',
						description: 'Name of the binary property that receives report.html',
					},
					{
						displayName: 'Report Title',
						name: 'reportTitle',
						type: 'string',
						default: 'AI decisions: audit report',
						description: 'Heading of the HTML report',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			// a database has no HTTP request to test with: connect and run SELECT 1
			async governedAiPostgresConnectionTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				try {
					await testPgConnection(credential.data as unknown as PgConnection);
					return { status: 'OK', message: 'Connection successful' };
				} catch (error) {
					return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0) as string;
		if (operation === 'verify') return await verifyItems.call(this);
		if (operation === 'report') return await reportItems.call(this);
		return await appendItems.call(this);
	}
}
