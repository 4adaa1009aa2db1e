import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * PostgreSQL connection for the Audit Log's PostgreSQL sink. Its own name (not `postgres`, which would
 * replace n8n's). A database cannot be tested with an HTTP request, so the Audit Log node tests it by
 * connecting (`methods.credentialTest`, as n8n's own Postgres node does).
 */
export class GovernedAiPostgres implements ICredentialType {
	name = 'governedAiPostgres';

	displayName = 'Governed AI PostgreSQL';

	documentationUrl = 'https://www.postgresql.org/docs/current/libpq-connect.html';

	icon = { light: 'file:../nodes/AuditLog/auditLog.svg', dark: 'file:../nodes/AuditLog/auditLog.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			required: true,
			description: 'Host name or IP address of the PostgreSQL server',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 5432,
			description: 'Port the PostgreSQL server listens on',
		},
		{
			displayName: 'Database',
			name: 'database',
			type: 'string',
			default: 'postgres',
			required: true,
			description: 'Database that holds the audit table',
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: 'postgres',
			required: true,
			description: 'User to connect as; needs CREATE on first use (the table is created when missing), then INSERT and SELECT',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Password of the user; leave empty for trust or peer authentication',
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Disable', value: 'disable', description: 'Plain connection' },
				{ name: 'Require', value: 'require', description: 'Encrypted, and the server certificate must be valid' },
				{
					name: 'Require (Do Not Verify Certificate)',
					value: 'requireNoVerify',
					description: 'Encrypted, but any server certificate is accepted (self-signed)',
				},
			],
			default: 'disable',
			description: 'Whether and how to encrypt the connection',
		},
	];
}
