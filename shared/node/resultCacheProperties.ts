/**
 * "Result Cache" (AI Classify and AI Extract from version 4; see shared/resultCache/): the switch, the store
 * (a file in the n8n user folder, or a PostgreSQL table), and how long an answer is used. Read once per run,
 * from the first item.
 */
import { NodeOperationError, type INodeCredentialDescription, type INodeProperties } from 'n8n-workflow';

import type { AiRun } from '../aiStep';
import { aiCredentialsWithCorrections } from './correctionsProperties';
import { pgCredentialTest, type PgConnection } from '../../nodes/AuditLog/sinks/pgSink';
import type { ResultCacheSettings, RunCache } from '../resultCache';
import { cacheFilePath, FileResultCache } from '../resultCache/fileCache';
import { DEFAULT_CACHE_TABLE, PgResultCache } from '../resultCache/pgCache';
import { fromVersion } from './versions';

export const RESULT_CACHE_VERSION = 4;
/** The credential of the PostgreSQL store: a type of its own, so it is asked for exactly when this store is chosen. */
export const CACHE_CREDENTIAL = 'governedAiCachePostgres';

const whenOn = { resultCache: [true] };

export function resultCacheProperties(step: 'classify' | 'extract'): INodeProperties[] {
	const properties: INodeProperties[] = [
		{
			displayName: 'Result Cache',
			name: 'resultCache',
			type: 'boolean',
			default: false,
			description: `Whether answers are kept for a time and a later run with the same text and settings uses them instead of asking the model again (no request, no cost; the result says ai.${step}.cached). The store keeps a hash of the request and the answer, never the text.`,
		},
		{
			displayName: 'Cache Store',
			name: 'resultCacheStore',
			type: 'options',
			options: [
				{ name: 'Embedded File (Default)', value: 'file', description: 'A JSON Lines file in the n8n user folder; for one n8n' },
				{ name: 'PostgreSQL', value: 'postgres', description: 'A table shared by every main and worker (queue mode)' },
			],
			default: 'file',
			displayOptions: { show: whenOn },
			description: 'Where the answers are kept',
		},
		{
			displayName: 'Cache File Path',
			name: 'resultCacheFilePath',
			type: 'string',
			default: '',
			placeholder: '/data/governed-ai-cache/results.jsonl',
			displayOptions: { show: { ...whenOn, resultCacheStore: ['file'] } },
			description: 'The file; empty: .n8n/governed-ai-cache/results.jsonl in the n8n user folder',
		},
		{
			displayName: 'Cache Table',
			name: 'resultCacheTable',
			type: 'string',
			default: DEFAULT_CACHE_TABLE,
			displayOptions: { show: { ...whenOn, resultCacheStore: ['postgres'] } },
			description: 'The table (table or schema.table); created when missing',
		},
		{
			displayName: 'Time to Live (Hours)',
			name: 'resultCacheTtlHours',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 4 },
			default: 24,
			displayOptions: { show: whenOn },
			description: 'How long a stored answer is used; after that the model is asked again. Fractions allowed (0.5 = 30 minutes).',
		},
	];
	return properties.map((property) => fromVersion(RESULT_CACHE_VERSION, property));
}

/**
 * The PostgreSQL credential, asked for only when the cache is on and kept in PostgreSQL. Through `hide`, not
 * `show`: n8n's editor takes a parameter that credentials `show` on for the node's main auth field and hides it.
 */
export const resultCacheCredential: INodeCredentialDescription = {
	name: CACHE_CREDENTIAL,
	required: true,
	testedBy: 'governedAiCachePostgresConnectionTest',
	displayOptions: { hide: { '@version': [1, 2, 3], resultCache: [false], resultCacheStore: ['file'] } },
};

/** AI Classify's and AI Extract's credentials: the provider's, Learn From Corrections' and the cache's PostgreSQL ones. */
export const aiCredentialsWithStores = [...aiCredentialsWithCorrections, resultCacheCredential];

/** The nodes' `methods`: the test of the cache's credential. */
export const resultCacheMethods = { credentialTest: { governedAiCachePostgresConnectionTest: pgCredentialTest } };

/** The settings, or undefined when the node's version or the switch says no. */
export function readResultCacheSettings(run: AiRun): ResultCacheSettings | undefined {
	const { ctx, param } = run;
	if (ctx.getNode().typeVersion < RESULT_CACHE_VERSION) return undefined;
	if (param<boolean>('resultCache', 0, false) !== true) return undefined;
	const hours = Number(param('resultCacheTtlHours', 0, 24));
	if (!Number.isFinite(hours) || hours <= 0) {
		throw new NodeOperationError(ctx.getNode(), `Time to Live (Hours) must be a number above 0, got "${String(hours)}"`, { itemIndex: 0 });
	}
	return {
		store: param<string>('resultCacheStore', 0, 'file') === 'postgres' ? 'postgres' : 'file',
		filePath: String(param('resultCacheFilePath', 0, '') ?? '').trim(),
		tableName: String(param('resultCacheTable', 0, DEFAULT_CACHE_TABLE) ?? '').trim() || DEFAULT_CACHE_TABLE,
		ttlMs: Math.round(hours * 3_600_000),
	};
}

/**
 * The run's cache, or undefined without one. Settings that cannot work (a table name that is not one, no
 * credential) stop the run with an error naming the parameter; a store that fails later only warns.
 */
export async function openRunCache(run: AiRun): Promise<RunCache | undefined> {
	const { ctx } = run;
	const settings = readResultCacheSettings(run);
	if (!settings) return undefined;
	// once per kind of failure and run, not once per item
	const warned = new Set<string>();
	const warn = (message: string) => {
		if (!warned.has(message.slice(0, 60))) ctx.logger.warn(`${ctx.getNode().name}: ${message}`);
		warned.add(message.slice(0, 60));
	};
	try {
		if (settings.store === 'file') return { store: new FileResultCache(cacheFilePath(settings.filePath), settings), warn };
		const connection = (await ctx.getCredentials(CACHE_CREDENTIAL, 0)) as unknown as PgConnection;
		return { store: new PgResultCache(connection, settings.tableName, settings), warn };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Could not open the result cache: ${error instanceof Error ? error.message : String(error)}`, {
			itemIndex: 0,
			description: `Check "Cache Store", "Cache ${settings.store === 'postgres' ? 'Table" and its credential' : 'File Path"'}.`,
		});
	}
}
