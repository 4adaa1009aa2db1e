import type { ICredentialType, INodeProperties } from 'n8n-workflow';

import { GovernedAiPostgres } from './GovernedAiPostgres.credentials';

/**
 * PostgreSQL connection for AI Classify's and AI Extract's result cache: the same fields as the Governed AI
 * PostgreSQL credential, as a type of its own because n8n asks for a node's credential by type, and the
 * nodes ask for this one only when the cache is kept in PostgreSQL (the other one only when Learn From
 * Corrections reads PostgreSQL). Tested by connecting, in the Audit Log node (a database has no HTTP test).
 */
export class GovernedAiCachePostgres implements ICredentialType {
	name = 'governedAiCachePostgres';

	displayName = 'Governed AI PostgreSQL (Result Cache)';

	documentationUrl = 'https://www.postgresql.org/docs/current/libpq-connect.html';

	icon = { light: 'file:../nodes/AuditLog/auditLog.svg', dark: 'file:../nodes/AuditLog/auditLog.dark.svg' } as const;

	properties: INodeProperties[] = new GovernedAiPostgres().properties;
}
