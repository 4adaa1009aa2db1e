/** Opens the review store a checkpoint or an inbox is configured with. */
import type { PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import { FileReviewStore } from './fileStore';
import { PgReviewStore } from './pgStore';
import type { ReviewStore } from './types';

export type ReviewStoreKind = 'file' | 'postgres';

export interface ReviewStoreSettings {
	kind: ReviewStoreKind;
	inbox: string;
	/** file store: the folder (default: the n8n user folder) */
	folder?: string;
	/** PostgreSQL store */
	connection?: PgConnection;
	tableName?: string;
}

export function openReviewStore(settings: ReviewStoreSettings): ReviewStore {
	if (settings.kind === 'postgres') {
		if (!settings.connection) throw new Error('The PostgreSQL review store needs a Governed AI PostgreSQL credential');
		return new PgReviewStore(settings.connection, settings.tableName || undefined);
	}
	return new FileReviewStore(settings.inbox, settings.folder || undefined);
}

export * from './types';
