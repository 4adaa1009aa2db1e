/**
 * The webhook() half of Human Checkpoint: n8n routes GET and POST on the signed review link here
 * while the execution waits (after it has checked the link's signature).
 *
 * - GET shows the page and never decides (link-preview bots only ever GET).
 * - POST decides: it returns `workflowData` (one array per output), which n8n makes the node's
 *   outputs and the execution resumes. Every refusal answers without `workflowData`, so the
 *   execution stays paused. Nothing here may throw: n8n would resume the execution with the error.
 *
 * Where the items come from: webhook() has no getInputData(). The paused node's input is the
 * execution's waiting stack entry, which n8n hands to the webhook context as its input data, so
 * `$input.all()` evaluated here returns exactly the items execute() saw (checked against the
 * fingerprint in the signed link). That keeps every field and binary of each item without putting
 * item data in the link, and nothing is held in memory between requests (queue mode).
 */
import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { checkBasicAuth, checkHeaderSecret, isReviewerAllowed, parseAllowList } from './auth';
import {
	parseFormSubmission,
	parseJsonSubmission,
	resolveSubmission,
	ReviewInputError,
	type ResolvedReview,
} from './decisions';
import { isPlainObject } from './edits';
import { decisionsFromInbox, usesInbox } from './inbox';
import { checkLinkMatches, readLinkParams } from './link';
import { buildOutputs, type PausedItem } from './outputs';
import { REVIEW_PAGE_CSP, renderMessagePage, renderReviewPage, toGateReviewItem, toReviewItem } from './page/page';
import { fieldsToShowFrom } from './page/readable';
import { isToolGate, readGateMessage, toGateOutput } from './toolGate';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
	const value = headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** JSON answers for programmatic reviewers (JSON body or `Accept: application/json`), HTML otherwise. */
export function wantsJson(headers: Headers): boolean {
	const type = header(headers, 'content-type') ?? '';
	const accept = header(headers, 'accept') ?? '';
	return type.includes('application/json') || (accept.includes('application/json') && !accept.includes('text/html'));
}

/** The paused execution's input for this node, as stored (see the file comment). */
export function readPausedItems(ctx: IWebhookFunctions): PausedItem[] {
	const raw = ctx.evaluateExpression(
		'{{ JSON.stringify($input.all().map(item => ({ json: item.json, binary: item.binary }))) }}',
		0,
	);
	const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
	if (!Array.isArray(parsed) || !parsed.every((item) => isPlainObject(item) && isPlainObject(item.json))) {
		throw new Error('the paused items could not be read');
	}
	return parsed as PausedItem[];
}

interface Responder {
	page(status: number, html: string): IWebhookResponseData;
	message(status: number, title: string, message: string, extra?: IDataObject): IWebhookResponseData;
}

function responder(ctx: IWebhookFunctions, json: boolean): Responder {
	const res = ctx.getResponseObject();
	const page = (status: number, html: string): IWebhookResponseData => {
		res.status(status);
		res.setHeader('Content-Type', 'text/html; charset=utf-8');
		res.setHeader('Content-Security-Policy', REVIEW_PAGE_CSP);
		res.setHeader('Cache-Control', 'no-store');
		res.setHeader('X-Content-Type-Options', 'nosniff');
		res.setHeader('Referrer-Policy', 'no-referrer');
		res.end(html);
		return { noWebhookResponse: true };
	};
	const message = (status: number, title: string, text: string, extra: IDataObject = {}): IWebhookResponseData => {
		if (!json) return page(status, renderMessagePage(title, text));
		res.status(status);
		res.setHeader('Cache-Control', 'no-store');
		res.json({ status: status < 400 ? 'ok' : 'refused', message: `${title}. ${text}`, ...extra });
		return { noWebhookResponse: true };
	};
	return { page, message };
}

type AuthResult = { ok: true; user?: string } | { ok: false; response: IWebhookResponseData };

async function authenticate(ctx: IWebhookFunctions, reply: Responder): Promise<AuthResult> {
	const mode = ctx.getNodeParameter('authentication', 'none') as string;
	const headers = ctx.getHeaderData() as Headers;
	if (mode === 'basicAuth') {
		const creds = await ctx.getCredentials('httpBasicAuth');
		const user = checkBasicAuth(header(headers, 'authorization'), {
			user: String(creds.user ?? ''),
			password: String(creds.password ?? ''),
		});
		if (user === undefined) {
			ctx.getResponseObject().setHeader('WWW-Authenticate', 'Basic realm="Human Checkpoint review", charset="UTF-8"');
			return { ok: false, response: reply.message(401, 'Sign-in required', 'This review needs a user name and password.') };
		}
		return { ok: true, user };
	}
	if (mode === 'headerAuth') {
		const creds = await ctx.getCredentials('httpHeaderAuth');
		const ok = checkHeaderSecret(headers, { name: String(creds.name ?? ''), value: String(creds.value ?? '') });
		if (!ok) return { ok: false, response: reply.message(403, 'Not allowed', 'This review needs the agreed header secret.') };
	}
	return { ok: true };
}

export async function handleReviewRequest(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = this.getRequestObject();
	const headers = req.headers as Headers;
	const reply = responder(this, wantsJson(headers));
	try {
		const params = readLinkParams(this.getQueryData() as Record<string, unknown>);
		if (!params) return reply.message(400, 'Invalid review link', 'This link is missing its review parameters.');

		const paused = readPausedItems(this);
		const mismatch = checkLinkMatches(params, paused.map((item) => item.json));
		if (mismatch) return reply.message(409, 'Review link not valid', mismatch);

		const inbox = usesInbox(this.getNode(), this.getNodeParameter('reviewIn', 'link'));
		const auth: AuthResult = inbox ? { ok: true } : await authenticate(this, reply);
		if (!auth.ok) return auth.response;

		const resultKey = (this.getNodeParameter('resultKey', '') as string).trim();
		// As an AI Agent's tool gate, each item is a tool call (see toolGate.ts).
		const gate = isToolGate(this.getNode());
		const message = gate ? readGateMessage(() => this.getNodeParameter('message', '')) : null;
		const show = fieldsToShowFrom(this.getNodeParameter('fieldsToShow', ''));
		const views = paused.map((item, i) =>
			gate ? toGateReviewItem(item.json, i, message) : toReviewItem(item.json, i, resultKey, show),
		);

		if (inbox) {
			// The link of a checkpoint that reviews in an inbox is never shown to anyone: only the Review Inbox
			// calls it, server-side, once the store holds a decision for every item. The decisions are read
			// from the store, not from the request.
			const round = (this.getQueryData() as Record<string, unknown>).round;
			if (req.method !== 'POST' || typeof round !== 'string') {
				return reply.message(200, 'Reviewed in the Review Inbox', 'These items are reviewed in the Review Inbox; nothing was decided here.');
			}
			const review = await decisionsFromInbox(this, views, round);
			const outputs = buildOutputs(paused, review, {
				keys: views.map((view) => view.key),
				decidedAt: new Date(),
				pausedAt: new Date(params.pausedAt),
				markReviewed: true,
			});
			reply.message(200, 'Decisions recorded', 'The execution resumes.', { resumed: true, approved: outputs[1].length, rejected: outputs[2].length });
			const workflowData = gate ? toGateOutput(outputs, views.map((view) => view.toolCall!)) : outputs;
			return { noWebhookResponse: true, workflowData: workflowData as unknown as IWebhookResponseData['workflowData'] };
		}

		if (req.method !== 'POST') {
			const title = this.getNodeParameter('title', 'Review AI results') as string;
			const instructions = this.getNodeParameter('instructions', '') as string;
			return reply.page(
				200,
				renderReviewPage({
					title,
					instructions,
					items: views,
					authenticatedReviewer: auth.user,
					until: params.until,
					timeZone: this.getTimezone(),
				}),
			);
		}

		if (params.until && Date.now() > Date.parse(params.until)) {
			return reply.message(410, 'Time limit passed', 'The items have gone (or are about to go) to "No Response"; this decision was not recorded.');
		}

		const body = this.getBodyData();
		const isJsonBody = (header(headers, 'content-type') ?? '').includes('application/json');
		const submission = isJsonBody ? parseJsonSubmission(body) : parseFormSubmission(body as Record<string, unknown>, views);
		// With basic auth the signed-in user is the reviewer: a typed-in name cannot override it.
		const reviewer = (auth.user ?? submission.reviewer ?? '').trim();
		if (!reviewer) throw new ReviewInputError('Give your name or e-mail as the reviewer');
		const allowList = parseAllowList(this.getNodeParameter('allowedReviewers', '') as string);
		if (!isReviewerAllowed(reviewer, allowList)) {
			return reply.message(403, 'Not allowed', `"${reviewer}" is not on this review's list of reviewers.`);
		}
		const review: ResolvedReview = resolveSubmission(submission, views, reviewer);
		const outputs = buildOutputs(paused, review, {
			keys: views.map((view) => view.key),
			decidedAt: new Date(),
			pausedAt: new Date(params.pausedAt),
			// version 2: the person's decision settles the AI result's needsReview (outputs.ts)
			markReviewed: this.getNode().typeVersion >= 2,
		});
		const approved = outputs[1].length;
		const rejected = outputs[2].length;
		const edited = outputs[1].filter((item) => (item.json.review as { decision: string }).decision === 'edited').length;
		reply.message(200, 'Decisions recorded', `${approved} approved (${edited} edited), ${rejected} rejected. You can close this page.`, {
			approved,
			edited,
			rejected,
		});
		// The agent reads a tool gate's decision from its first output only.
		const workflowData = gate ? toGateOutput(outputs, views.map((view) => view.toolCall!)) : outputs;
		return { noWebhookResponse: true, workflowData: workflowData as unknown as IWebhookResponseData['workflowData'] };
	} catch (error) {
		if (error instanceof ReviewInputError) return reply.message(400, 'Review not recorded', error.message);
		return reply.message(500, 'Review not recorded', `The review could not be processed (${(error as Error).message}). Nothing was decided.`);
	}
}
