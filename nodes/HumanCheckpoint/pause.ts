/**
 * The execute() half of Human Checkpoint: build the signed review link, optionally notify, then
 * put the execution to wait. The node's input is what n8n keeps for the webhook half and what it
 * sends to output 0 ("No Response") if the time limit passes.
 */
import {
	NodeOperationError,
	WAIT_INDEFINITELY,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import { validateResultKey } from '../../shared/contract';
import { recordInInbox, roundKeyOf, UNIT_MS, usesInbox } from './inbox';
import { appendLinkParams, buildLinkParams, type LinkParams } from './link';
import { buildNotification, describeUrl } from './notify';
import { toGateReviewItem, toReviewItem } from './page/page';
import { fieldsToShowFrom } from './page/readable';
import { isToolGate, neutraliseTimeoutInput, readGateMessage } from './toolGate';


/** The wait limit, or undefined for none. Node-level settings are read for the first item. */
export function readTimeLimit(ctx: IExecuteFunctions, now: Date): Date | undefined {
	if (!(ctx.getNodeParameter('limitWaitTime', 0, false) as boolean)) return undefined;
	const amount = Number(ctx.getNodeParameter('resumeAmount', 0, 1));
	const unit = ctx.getNodeParameter('resumeUnit', 0, 'hours') as string;
	if (!Number.isFinite(amount) || amount <= 0 || !UNIT_MS[unit]) {
		throw new NodeOperationError(ctx.getNode(), `Time limit must be a positive number of minutes, hours or days (got ${amount} ${unit})`, {
			itemIndex: 0,
			description: 'Check the "Amount" and "Unit" parameters of the time limit.',
		});
	}
	return new Date(now.getTime() + amount * UNIT_MS[unit]);
}

type MaybeSigning = { getSignedResumeUrl?: (parameters?: Record<string, string>) => string };

/**
 * The review link. n8n ≥ 1.8x/2.x: `getSignedResumeUrl` (HMAC over execution, node and our
 * parameters; checked by n8n because this node's operation is `sendAndWait`). Older n8n has no
 * signing: fall back to `$execution.resumeUrl` + `/<node id>`, which is unsigned (use reviewer
 * authentication there).
 */
export function buildReviewUrl(ctx: IExecuteFunctions, params: LinkParams): string {
	const signer = (ctx as unknown as MaybeSigning).getSignedResumeUrl;
	const query: Record<string, string> = { ...params } as unknown as Record<string, string>;
	if (typeof signer === 'function') return signer.call(ctx, query);
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	const url = new URL(resumeUrl);
	url.pathname = `${url.pathname.replace(/\/$/, '')}/${encodeURIComponent(ctx.getNode().id)}`;
	return appendLinkParams(url.toString(), params);
}

export async function pauseForReview(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resultKey = (this.getNodeParameter('resultKey', 0, '') as string).trim();
	if (resultKey) {
		const problem = validateResultKey(resultKey);
		if (problem) {
			throw new NodeOperationError(this.getNode(), `AI Result Key "${resultKey}" ${problem}`, { itemIndex: 0 });
		}
	}
	const gate = isToolGate(this.getNode());
	// Evaluated before the input is neutralised, so the Message sees the item as n8n made it.
	const messages = gate ? items.map((_, i) => readGateMessage(() => this.getNodeParameter('message', i, ''))) : [];
	if (gate) neutraliseTimeoutInput(items);
	const now = new Date();
	const until = readTimeLimit(this, now);
	const params = buildLinkParams(
		items.map((item) => item.json),
		now,
		until,
	);
	if (usesInbox(this.getNode(), this.getNodeParameter('reviewIn', 0, 'link'))) {
		// the link carries its round so the webhook finds the decisions; it is kept server-side, never sent
		const round = roundKeyOf(this.getExecutionId(), this.getNode().id, params.pausedAt);
		const resumeUrl = buildReviewUrl(this, { ...params, round } as LinkParams);
		const show = fieldsToShowFrom(this.getNodeParameter('fieldsToShow', 0, ''));
		const views = items.map((item, i) =>
			gate ? toGateReviewItem(item.json, i, messages[i]) : toReviewItem(item.json, i, resultKey, show),
		);
		await recordInInbox(this, items, views, params, resumeUrl, until);
		await this.putExecutionToWait(until ?? WAIT_INDEFINITELY);
		return [items];
	}
	const reviewUrl = buildReviewUrl(this, params);

	const notifyUrl = (this.getNodeParameter('notificationUrl', 0, '') as string).trim();
	if (notifyUrl) {
		const title = this.getNodeParameter('title', 0, 'Review AI results') as string;
		const show = fieldsToShowFrom(this.getNodeParameter('fieldsToShow', 0, ''));
		const views = items.map((item, i) =>
			gate ? toGateReviewItem(item.json, i, messages[i]) : toReviewItem(item.json, i, resultKey, show),
		);
		try {
			await this.helpers.httpRequest({
				method: 'POST',
				url: notifyUrl,
				body: buildNotification(title, reviewUrl, views, until, this.getTimezone()),
				json: true,
				timeout: 15_000,
			});
		} catch (error) {
			// Fail rather than wait for a review nobody was told about. The URL is not repeated:
			// for Slack and Teams it is itself a secret.
			throw new NodeOperationError(
				this.getNode(),
				`Could not send the review notification to ${describeUrl(notifyUrl)}: ${String((error as Error).message).split(notifyUrl).join('<notification URL>')}`,
				{ itemIndex: 0, description: 'Check the "Notification URL" parameter, or clear it to rely on another way of sending the link.' },
			);
		}
	}

	await this.putExecutionToWait(until ?? WAIT_INDEFINITELY);
	return [items];
}
