/**
 * Earned mode's one read per run: the trust summary of the audit store the gate is pointed at (file or
 * PostgreSQL, through the Audit Log's sinks), the trust changes the numbers call for (trust.ts), recorded as
 * trust-change records in the same stream, and the stages that result. Cached for the run by store and
 * settings, so a run reads each store once whatever its number of items; nothing outlives the run.
 */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { openSink, type SinkSettings } from '../AuditLog/actions/common';
import { buildTrustChangeDraft, type TrustChange } from '../AuditLog/record';
import { checkStreamName } from '../AuditLog/sinks/sink';
import { foldRecord, MAX_AUDITS_KEPT, MAX_WINDOW_DAYS, type LatestRecommendation, type TrustSummary } from '../AuditLog/trust/summary';
import type { GateTrust } from './gateItem';
import { labelState, trustChanges, type EarnedSettings } from './trust';

export interface EarnedRun {
	settings: EarnedSettings;
	summary: TrustSummary;
	/** the changes this run recorded, by label, with their record ids */
	changed: Map<string, { change: TrustChange; recordId: string }>;
	now: Date;
}

export type EarnedCache = Map<string, Promise<EarnedRun>>;

function numberParameter(ctx: IExecuteFunctions, name: string, itemIndex: number, fallback: number, check: (n: number) => boolean, rule: string): number {
	const value = Number(ctx.getNodeParameter(name, itemIndex, fallback));
	if (!Number.isFinite(value) || !check(value)) {
		throw new NodeOperationError(ctx.getNode(), `Parameter "${name}" must be ${rule}, got ${JSON.stringify(value)}`, { itemIndex });
	}
	return value;
}

export function earnedSettingsOf(ctx: IExecuteFunctions, itemIndex: number): EarnedSettings {
	return {
		target: numberParameter(ctx, 'target', itemIndex, 0.9, (n) => n > 0 && n < 1, 'above 0 and below 1'),
		minReviewed: numberParameter(ctx, 'minReviewed', itemIndex, 200, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
		windowDays: numberParameter(ctx, 'windowDays', itemIndex, 30, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_WINDOW_DAYS, `a whole number from 1 to ${MAX_WINDOW_DAYS}`),
		auditWindow: numberParameter(ctx, 'auditWindow', itemIndex, 20, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_AUDITS_KEPT, `a whole number from 1 to ${MAX_AUDITS_KEPT}`),
	};
}

function storeOf(ctx: IExecuteFunctions, itemIndex: number): SinkSettings & { stream: string } {
	const kind = ctx.getNodeParameter('sink', itemIndex, 'file') as string;
	if (kind !== 'file' && kind !== 'postgres') {
		throw new NodeOperationError(ctx.getNode(), `Audit store "${kind}" cannot be read back: use File or PostgreSQL`, { itemIndex });
	}
	let stream: string;
	try {
		stream = checkStreamName(String(ctx.getNodeParameter('stream', itemIndex, 'default')).trim());
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message, { itemIndex, description: 'Check the parameter "Stream".' });
	}
	return {
		kind,
		stream,
		filePath: kind === 'file' ? String(ctx.getNodeParameter('filePath', itemIndex, '')) : '',
		tableName: kind === 'postgres' ? String(ctx.getNodeParameter('tableName', itemIndex, '')) : '',
		url: '',
		auth: '',
	};
}

async function readAndStep(ctx: IExecuteFunctions, itemIndex: number, store: SinkSettings & { stream: string }, settings: EarnedSettings): Promise<EarnedRun> {
	const sink = await openSink(ctx, store, itemIndex);
	try {
		const now = new Date();
		const summary = await sink.trustSummary!(store.stream);
		const changes = trustChanges(summary, settings, now);
		const changed = new Map<string, { change: TrustChange; recordId: string }>();
		if (changes.length) {
			const workflowId = ctx.getWorkflow().id;
			const executionId = ctx.getExecutionId();
			const gateNode = ctx.getNode().name;
			const drafts = changes.map((change) =>
				buildTrustChangeDraft(
					{ ...change, gateNode },
					{ workflowId: workflowId ? String(workflowId) : null, executionId: executionId ? String(executionId) : null, nodeName: gateNode, now },
				),
			);
			const records = await sink.append(store.stream, drafts);
			records.forEach((record, n) => {
				foldRecord(summary, record);
				changed.set(changes[n].label, { change: changes[n], recordId: record.recordId });
			});
		}
		return { settings, summary, changed, now };
	} catch (error) {
		if (error instanceof NodeOperationError) throw error;
		// the store's own words in the description: n8n rewrites some messages (e.g. a path that is a folder)
		throw new NodeOperationError(ctx.getNode(), `Could not read the audit store for Earned mode (stream "${store.stream}")`, {
			itemIndex,
			description: `${(error as Error).message}. Check the parameters "Audit Store", "Stream" and "File Path" or "Table Name".`,
		});
	} finally {
		await sink.close();
	}
}

/** The run's trust state for the store and settings of this item: read (and stepped) once per run. */
export async function earnedRunFor(ctx: IExecuteFunctions, itemIndex: number, cache: EarnedCache): Promise<EarnedRun> {
	const store = storeOf(ctx, itemIndex);
	const settings = earnedSettingsOf(ctx, itemIndex);
	const key = JSON.stringify([store, settings]);
	let run = cache.get(key);
	if (!run) {
		run = readAndStep(ctx, itemIndex, store, settings);
		cache.set(key, run);
	}
	return await run;
}

export type SummaryCache = Map<string, Promise<TrustSummary>>;

async function readSummary(ctx: IExecuteFunctions, itemIndex: number, store: SinkSettings & { stream: string }): Promise<TrustSummary> {
	const sink = await openSink(ctx, store, itemIndex);
	try {
		return await sink.trustSummary!(store.stream);
	} catch (error) {
		if (error instanceof NodeOperationError) throw error;
		throw new NodeOperationError(ctx.getNode(), `Could not read the latest recommendation from the audit store (stream "${store.stream}")`, {
			itemIndex,
			description: `${(error as Error).message}. Check the parameters "Audit Store", "Stream" and "File Path" or "Table Name".`,
		});
	} finally {
		await sink.close();
	}
}

/**
 * Thresholds From: Latest Recommendation (version 3): the stream's latest recommendation, from the same kept
 * summary Earned mode reads (in Earned mode, that very read), so it costs one look-up per run and store.
 */
export async function latestRecommendationFor(
	ctx: IExecuteFunctions,
	itemIndex: number,
	earned: EarnedCache | null,
	cache: SummaryCache,
): Promise<LatestRecommendation | null> {
	if (earned) return (await earnedRunFor(ctx, itemIndex, earned)).summary.recommendation ?? null;
	const store = storeOf(ctx, itemIndex);
	const key = JSON.stringify(store);
	let summary = cache.get(key);
	if (!summary) {
		summary = readSummary(ctx, itemIndex, store);
		cache.set(key, summary);
	}
	return (await summary).recommendation ?? null;
}

/** The stage of a label in this run, for the item's gate result. */
export function gateTrustOf(run: EarnedRun, label: string): GateTrust {
	const state = labelState(run.summary, label, run.settings, run.now);
	const changed = run.changed.get(label);
	return {
		label,
		stage: state.stage,
		reviewed: state.reviewed,
		agreed: state.agreed,
		audits: state.audits,
		auditsAgreed: state.auditsAgreed,
		changed: changed ? { from: changed.change.from, to: changed.change.to, reason: changed.change.reason, recordId: changed.recordId } : null,
	};
}
