import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { testPgConnection, type PgConnection } from './sinks/pgSink';
import { router } from './actions/router';
import { versionDescription } from './description';

export class AuditLog implements INodeType {
	description: INodeTypeDescription = versionDescription;

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
		return await router.call(this);
	}
}
