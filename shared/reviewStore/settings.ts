/**
 * The review store as the editor shows it (Human Checkpoint's "Review In: Review Inbox" and the Review Inbox
 * node name the same inbox and store), and reading those parameters back into store settings.
 */
import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

import type { PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { checkInboxName } from './fileStore';
import { DEFAULT_REVIEW_TABLE } from './pgStore';
import type { ReviewStoreSettings } from './index';

type Show = NonNullable<NonNullable<INodeProperties['displayOptions']>['show']>;

/** Inbox name, store and table, shown under `show`. */
export function storeProperties(show: Show = {}): INodeProperties[] {
	return [
		{
			displayName: 'Inbox Name',
			name: 'inboxName',
			type: 'string',
			default: 'default',
			displayOptions: { show },
			description: 'Which inbox: the Human Checkpoints and the Review Inbox node that share a name (and a store) share their waiting items. Letters, digits, dot, dash, underscore.',
		},
		{
			displayName: 'Review Store',
			name: 'reviewStore',
			type: 'options',
			options: [
				{ name: 'Embedded File (One n8n)', value: 'file', description: 'A JSON file in the n8n user folder; no setup' },
				{ name: 'PostgreSQL (Queue Mode)', value: 'postgres', description: 'Tables in PostgreSQL, shared by every main and worker' },
			],
			default: 'file',
			displayOptions: { show },
			description: 'Where waiting items, claims and decisions are kept. The checkpoint and the inbox must use the same store.',
		},
		{
			displayName: 'Table Name',
			name: 'reviewTable',
			type: 'string',
			default: DEFAULT_REVIEW_TABLE,
			displayOptions: { show: { ...show, reviewStore: ['postgres'] } },
			description: 'Table for the items (a second one, &lt;name&gt;_rounds, holds the resume links); created when missing. Optionally schema.table.',
		},
	];
}

/** The credential entry for the PostgreSQL store. */
export function storeCredential(show: Record<string, string[]> = {}): INodeCredentialDescription {
	return { name: 'governedAiPostgres', required: true, displayOptions: { show: { ...show, reviewStore: ['postgres'] } } };
}

export async function readStoreSettings(
	parameter: (name: string, fallback: unknown) => unknown,
	credentials: () => Promise<Record<string, unknown>>,
): Promise<ReviewStoreSettings> {
	const inbox = checkInboxName(String(parameter('inboxName', 'default') ?? 'default'));
	const kind = parameter('reviewStore', 'file') === 'postgres' ? 'postgres' : 'file';
	if (kind === 'file') return { kind, inbox };
	const c = await credentials();
	const connection: PgConnection = {
		host: String(c.host ?? 'localhost'),
		port: Number(c.port ?? 5432),
		database: String(c.database ?? 'postgres'),
		user: String(c.user ?? 'postgres'),
		password: c.password ? String(c.password) : undefined,
		ssl: (c.ssl as PgConnection['ssl']) ?? 'disable',
	};
	return { kind, inbox, connection, tableName: String(parameter('reviewTable', DEFAULT_REVIEW_TABLE) || DEFAULT_REVIEW_TABLE) };
}
