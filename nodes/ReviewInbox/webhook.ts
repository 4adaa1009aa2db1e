/**
 * The Review Inbox's webhook: every request of the page and of the JSON API (api.ts) lands here. Signs the
 * reviewer in or recognises them (identity.ts), answers, then resumes every pause whose items are now all
 * decided (resume.ts). What happened (claims, decisions, four-eyes steps, resumes, optionally views) leaves
 * the node as items, one per event, for an Audit Log node after it; a request with no event starts no
 * execution.
 */
import { randomBytes } from 'node:crypto';
import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { openReviewStore, type ReviewStore } from '../../shared/reviewStore';
import { readStoreSettings } from '../../shared/reviewStore/settings';
import { bulkApprove, claimItem, decideItem, eventItem, listFilter, listItems, mayReview, refusal, type ApiAnswer } from './api';
import {
	identify,
	parseDirectory,
	readCookie,
	SESSION_COOKIE,
	sessionCookie,
	signIn,
	signSession,
	type Identity,
	type IdentitySettings,
} from './identity';
import { INBOX_PAGE_CSP, renderInboxPage, renderSignInPage } from './page';
import { DUE_SOON_MS, escalateAndNotify } from './digest';
import { finishDecidedRounds, type ResumeAnswer } from './resume';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
	const value = headers[name];
	return Array.isArray(value) ? value[0] : value;
}

async function identitySettings(ctx: IWebhookFunctions): Promise<IdentitySettings> {
	const c = await ctx.getCredentials('governedAiReviewers');
	return {
		directory: parseDirectory(String(c.reviewers ?? ''), String(c.groups ?? '')),
		sessionSecret: String(c.sessionSecret ?? ''),
		trustedHeader: String(c.trustedHeader ?? ''),
		trustedProxies: String(c.trustedProxies ?? '').split(',').map((p) => p.trim()).filter(Boolean),
	};
}

function securityHeaders(ctx: IWebhookFunctions): void {
	const res = ctx.getResponseObject();
	res.setHeader('Cache-Control', 'no-store');
	res.setHeader('X-Content-Type-Options', 'nosniff');
	res.setHeader('Referrer-Policy', 'no-referrer');
	res.setHeader('X-Frame-Options', 'DENY');
}

function sendJson(ctx: IWebhookFunctions, answer: ApiAnswer): void {
	const res = ctx.getResponseObject();
	securityHeaders(ctx);
	res.status(answer.status);
	res.json(answer.body);
}

function sendPage(ctx: IWebhookFunctions, status: number, html: string, nonce: string): void {
	const res = ctx.getResponseObject();
	securityHeaders(ctx);
	res.status(status);
	res.setHeader('Content-Type', 'text/html; charset=utf-8');
	res.setHeader('Content-Security-Policy', INBOX_PAGE_CSP(nonce));
	res.end(html);
}

/** The page's own path (cookie path and form target), as the browser asked for it. */
function pagePath(ctx: IWebhookFunctions): string {
	const req = ctx.getRequestObject();
	const url = String(req.originalUrl ?? req.url ?? '/');
	return url.split('?')[0] || '/';
}

function isSecure(ctx: IWebhookFunctions): boolean {
	const req = ctx.getRequestObject();
	return Boolean((req as unknown as { secure?: boolean }).secure) || header(req.headers as Headers, 'x-forwarded-proto') === 'https';
}

export async function handleInboxRequest(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = this.getRequestObject();
	const headers = req.headers as Headers;
	const now = new Date();
	const query = this.getQueryData() as Record<string, unknown>;
	const isJsonBody = (header(headers, 'content-type') ?? '').includes('application/json');
	const wantsJson = isJsonBody || typeof query.api === 'string' || ((header(headers, 'accept') ?? '').includes('application/json') && !(header(headers, 'accept') ?? '').includes('text/html'));
	const nonce = randomBytes(16).toString('base64');
	const events: IDataObject[] = [];
	let store: ReviewStore | undefined;
	try {
		const settings = await readStoreSettings(
			(name, fallback) => this.getNodeParameter(name, fallback),
			async () => await this.getCredentials('governedAiPostgres'),
		);
		const idSettings = await identitySettings(this);
		const claimMs = Math.max(1, Number(this.getNodeParameter('claimMinutes', 30)) || 30) * 60_000;
		const recordViews = this.getNodeParameter('recordViews', false) as boolean;
		store = openReviewStore(settings);
		const path = pagePath(this);
		const body = (this.getBodyData() ?? {}) as IDataObject;
		const who: Identity | undefined = identify(idSettings, headers, req.socket?.remoteAddress, now);

		const signInWith = (name: unknown, password: unknown): string | undefined =>
			typeof name === 'string' && typeof password === 'string' && idSettings.sessionSecret
				? signIn(idSettings.directory, name, password)
				: undefined;

		const openStore = store;
		/** Resumes the rounds decided in the store (through their signed links, server-side) and records each as an event. */
		const finishDecided = async (at: Date) => {
			const resumed = await finishDecidedRounds(openStore, settings.inbox, async (options) => (await this.helpers.httpRequest(options)) as ResumeAnswer, at);
			events.push(...resumed.map((event) => ({ inbox: { ...event, inbox: settings.inbox } })));
			return resumed;
		};

		// overdue items are escalated (once) and their groups notified, whoever's request comes first
		// version 2: new items and items due soon too, only on the periodic call, once per item (store.takeForDigest)
		const escalated = await store.escalateDue(settings.inbox, now);
		const notificationUrl = String(this.getNodeParameter('notificationUrl', '') ?? '').trim();
		const periodic = req.method === 'GET' && query.api === 'escalate';
		const listsNewAndDueSoon = this.getNode().typeVersion >= 2;
		const digest = periodic && notificationUrl && listsNewAndDueSoon ? await store.takeForDigest(settings.inbox, now, DUE_SOON_MS) : { fresh: [], dueSoon: [] };
		if (escalated.length || digest.fresh.length || digest.dueSoon.length) {
			const inboxUrl = String(this.getNodeWebhookUrl('default') ?? path);
			events.push(...(await escalateAndNotify(escalated, inboxUrl, notificationUrl, async (options) => await this.helpers.httpRequest(options), digest)));
		}

		if (req.method === 'GET' && query.api === 'escalate') {
			// the periodic call also finishes rounds decided before a crash (it decides nothing new)
			await finishDecided(now);
			sendJson(this, { status: 200, body: { status: 'ok', escalated: escalated.length, ...(listsNewAndDueSoon ? { newItems: digest.fresh.length, dueSoon: digest.dueSoon.length } : {}) } });
		} else if (req.method === 'POST' && !isJsonBody) {
			// the sign-in form
			const name = signInWith(body.name, body.password);
			if (!name) {
				sendPage(this, 401, renderSignInPage({ path, error: 'Wrong name or password.', nonce }), nonce);
			} else {
				const res = this.getResponseObject();
				res.setHeader('Set-Cookie', sessionCookie(signSession(name, idSettings.sessionSecret, now), path, isSecure(this)));
				securityHeaders(this);
				res.status(303);
				res.setHeader('Location', path);
				res.end();
				events.push(eventItem({ event: 'signed-in', at: now.toISOString(), reviewer: name, via: 'password', inbox: settings.inbox }, undefined));
			}
		} else if (req.method === 'POST' && body.action === 'signIn') {
			const name = signInWith(body.name, body.password);
			if (!name) sendJson(this, { status: 401, body: { status: 'refused', reason: 'sign_in', message: 'Wrong name or password.' } });
			else {
				this.getResponseObject().setHeader('Set-Cookie', sessionCookie(signSession(name, idSettings.sessionSecret, now), path, isSecure(this)));
				sendJson(this, { status: 200, body: { status: 'ok', reviewer: name } });
				events.push(eventItem({ event: 'signed-in', at: now.toISOString(), reviewer: name, via: 'password', inbox: settings.inbox }, undefined));
			}
		} else if (req.method === 'POST' && body.action === 'signOut') {
			this.getResponseObject().setHeader('Set-Cookie', sessionCookie('', path, isSecure(this), 0));
			sendJson(this, { status: 200, body: { status: 'ok' } });
		} else if (!who) {
			if (wantsJson) sendJson(this, { status: 401, body: { status: 'refused', reason: 'sign_in', message: 'Sign in first (session cookie or trusted header).' } });
			else sendPage(this, 200, renderSignInPage({ path, nonce, signedOut: readCookie(header(headers, 'cookie'), SESSION_COOKIE) !== undefined }), nonce);
		} else if (req.method === 'POST') {
			const id = typeof body.id === 'string' ? body.id : '';
			let answer: ApiAnswer;
			switch (body.action) {
				case 'claim':
				case 'release':
					answer = await claimItem(store, id, who, now, claimMs, body.action === 'release', events);
					break;
				case 'decide':
					answer = await decideItem(store, id, { decision: body.decision, answer: body.answer, edits: body.edits, comment: body.comment }, who, now, events);
					break;
				case 'bulkApprove':
					answer = await bulkApprove(store, body.ids, body.comment, who, now, events);
					break;
				default:
					answer = { status: 400, body: { status: 'refused', reason: 'invalid', message: 'action must be signIn, signOut, claim, release, decide or bulkApprove' } };
			}
			// decisions first, then the resumes they complete (the answer is sent after both)
			const resumed = await finishDecided(new Date());
			sendJson(this, { status: answer.status, body: { ...answer.body, resumed: resumed.filter((e) => e.event === 'resumed').length } });
		} else {
			// GET: shows, never decides (a decision already stored may be resumed, which decides nothing new)
			await store.expire(settings.inbox, now);
			await finishDecided(now);
			if (query.api === 'item') {
				const item = await store.get(String(query.id ?? ''));
				if (!item || item.inbox !== settings.inbox) sendJson(this, refusal('not_found'));
				else if (!mayReview(item, who)) sendJson(this, refusal('forbidden'));
				else {
					sendJson(this, { status: 200, body: { status: 'ok', item: (await listItems(store, { inbox: settings.inbox, states: [item.state] }, who)).find((i) => i.id === item.id) ?? {} } });
					if (recordViews) events.push(eventItem({ event: 'viewed', at: now.toISOString(), reviewer: who.name, via: who.via, itemId: item.id, inbox: settings.inbox }, item));
				}
			} else {
				const items = await listItems(store, listFilter(settings.inbox, query, who, now), who);
				if (wantsJson) sendJson(this, { status: 200, body: { status: 'ok', reviewer: who.name, via: who.via, groups: who.groups, items } });
				else sendPage(this, 200, renderInboxPage({ reviewer: who.name, via: who.via, items, path, nonce, now: now.toISOString() }), nonce);
				if (recordViews) events.push({ inbox: { event: 'viewed-list', at: now.toISOString(), reviewer: who.name, via: who.via, inbox: settings.inbox, items: items.length } });
			}
		}
	} catch (error) {
		const message = `The inbox could not answer (${(error as Error).message}).`;
		if (!this.getResponseObject().headersSent) {
			if (wantsJson) sendJson(this, { status: 500, body: { status: 'error', message } });
			else sendPage(this, 500, renderSignInPage({ path: pagePath(this), nonce, error: message }), nonce);
		}
	} finally {
		await store?.close().catch(() => undefined);
	}
	if (events.length === 0) return { noWebhookResponse: true };
	return { noWebhookResponse: true, workflowData: [events.map((json) => ({ json }))] } as unknown as IWebhookResponseData;
}
