/** Report: volume, gate rates, human agreement, calibration, escalations, errors and cost for a time window. */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { fromVersion } from '../../../shared/node/versions';
import { buildRecommendationDraft, type RecordedRecommendation } from '../record';
import { ReportBuilder, lastDaysWindow, reportStream, type AuditReport, type TrustOptions } from '../report/report';
import { DEFAULT_TARGET_PRECISION } from '../report/recommend';
import { renderReportHtml } from '../report/reportHtml';
import { type TimeWindow } from '../sinks/sink';
import { allPaired, showOnlyFor } from './common';
import { readProperties, recordsFromInput, single, withReadSink } from './read';

export const properties: INodeProperties[] = showOnlyFor({ operation: ['report'] }, [
	...readProperties('report'),
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
		description: 'Which records the report covers, by the time they were logged',
	},
	{
		displayName: 'Days',
		name: 'lastDays',
		type: 'number',
		typeOptions: { minValue: 0.001 },
		default: 7,
		displayOptions: { show: { window: ['lastDays'] } },
		description: 'How many days back from now the report covers',
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { window: ['range'] } },
		description: 'Start of the window (inclusive); empty: from the first record',
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { window: ['range'] } },
		description: 'End of the window (exclusive); empty: up to now',
	},
	// version 2: the report recommends thresholds, measures calibration per confidence method and counts savings
	fromVersion(2, {
		displayName: 'Target Precision',
		name: 'targetPrecision',
		type: 'number',
		typeOptions: { minValue: 0.5, maxValue: 0.9999, numberPrecision: 4 },
		default: DEFAULT_TARGET_PRECISION,
		description:
			"Share of auto-routed answers that must be right. Per label the report recommends the lowest confidence threshold whose reviewed items meet it by their 95 % lower bound (Wilson), and exports it under recommendation.thresholds for a Confidence Gate.",
	}),
	fromVersion(2, {
		displayName: 'Cost per Review (USD)',
		name: 'reviewCostUsd',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: 0,
		description: "What one person's review costs (their time), to show the cost auto-routing saved; 0 shows counts only",
	}),
	// version 3: the recommendation can be recorded in the stream, for Confidence Gates that route by it
	fromVersion(3, {
		displayName: 'Record Recommendation',
		name: 'recordRecommendation',
		type: 'boolean',
		default: false,
		displayOptions: { show: { source: ['sink'] } },
		description:
			'Whether to append the recommended thresholds to the stream as a recommendation record. A Confidence Gate (version 3) with "Thresholds From: Latest Recommendation" on the same stream routes by the latest one.',
	}),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'HTML as Binary File',
				name: 'htmlAsBinary',
				type: 'boolean',
				default: false,
				description: 'Whether to also output the HTML page as a binary file report.html (for e-mail attachments or Write File)',
			},
			{
				displayName: 'Binary Property',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				description: 'Name of the binary property that receives report.html (with HTML as Binary File)',
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
]);

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

/** Version 2's parameters; none before it (the report keeps its version 1 shape). */
function trustOptions(ctx: IExecuteFunctions): TrustOptions | undefined {
	if (ctx.getNode().typeVersion < 2) return undefined;
	const targetPrecision = Number(ctx.getNodeParameter('targetPrecision', 0, DEFAULT_TARGET_PRECISION));
	if (!Number.isFinite(targetPrecision) || targetPrecision <= 0 || targetPrecision >= 1) {
		throw new NodeOperationError(ctx.getNode(), `Target Precision must be a number between 0 and 1, got "${targetPrecision}"`, {
			itemIndex: 0,
		});
	}
	const reviewCostUsd = Number(ctx.getNodeParameter('reviewCostUsd', 0, 0));
	if (!Number.isFinite(reviewCostUsd) || reviewCostUsd < 0) {
		throw new NodeOperationError(ctx.getNode(), `Cost per Review must be a number of 0 or more, got "${reviewCostUsd}"`, { itemIndex: 0 });
	}
	// version 3 adds each label's stage (an added output key: version 2 reports keep their shape)
	return { targetPrecision, reviewCostUsd, stages: ctx.getNode().typeVersion >= 3 };
}

/** The part of the report's recommendation a gate needs, with each label's reviewed count and why it has none. */
export function recordedRecommendation(report: AuditReport, reportNode: string): RecordedRecommendation {
	const recommendation = report.recommendation;
	if (!recommendation) throw new Error('the report has no recommendation (Audit Log version 2 or later makes one)');
	return {
		targetPrecision: recommendation.targetPrecision,
		criterion: recommendation.criterion,
		window: report.window,
		thresholds: recommendation.thresholds,
		labels: Object.fromEntries(
			Object.entries(recommendation.byLabel).map(([label, r]) => [
				label,
				{ threshold: r.threshold, reviewed: r.reviewedTotal, lowerBound: r.lowerBound, ...(r.reason ? { reason: r.reason } : {}) },
			]),
		),
		reportNode,
	};
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	return await single(this, items, async () => {
		const window = reportWindow(this);
		const trust = trustOptions(this);
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const record = this.getNode().typeVersion >= 3 && this.getNodeParameter('recordRecommendation', 0, false) === true;
		const report = await withReadSink(this, 'report', async (sink, stream) => {
			if (sink) {
				const made = await reportStream(sink, stream, window, undefined, trust);
				if (!record) return made;
				// after the report's read: the record is chained after the records it was computed from
				const [stored] = await sink.append(stream, [
					buildRecommendationDraft(recordedRecommendation(made, this.getNode().name), {
						workflowId: this.getWorkflow().id ? String(this.getWorkflow().id) : null,
						executionId: this.getExecutionId() ? String(this.getExecutionId()) : null,
						nodeName: this.getNode().name,
						now: new Date(made.generatedAt),
					}),
				]);
				return { ...made, recordedRecommendation: { recordId: stored.recordId, sequence: stored.sequence, at: stored.at } };
			}
			const builder = new ReportBuilder(stream, window, trust);
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
