/**
 * Finishing decided rounds: for every pause whose items are all decided in the store and that is not resumed
 * yet, POST to its signed resume link (server-side; the browser never sees it) and mark it resumed. Run on
 * every inbox request, so a decision stored just before a crash is resumed by the next request, once:
 * `beginResume` lets one caller at a time try (a crashed caller's turn ends with its process, so a restarted
 * n8n does not wait for it), and n8n itself refuses a second resume of one execution.
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { ReadyRound, ReviewStore } from '../../shared/reviewStore';

/** The longest a caller that is still running keeps its turn (the resume call's own limit is 60 s). */
export const RESUME_LEASE_MS = 120_000;
/** Resumes in flight at once: a bulk approval of 200 pauses is not 200 resumes one after another. */
export const RESUMES_AT_ONCE = 4;
/** After a failed try (n8n unreachable, an unexpected answer), the next one waits this long. */
export const RESUME_RETRY_MS = 30_000;

export interface ResumeAnswer {
	statusCode: number;
	headers?: Record<string, unknown>;
	body?: unknown;
}

export type ResumeOutcome = 'resumed' | 'already' | 'retry';

/**
 * What n8n's answer means: our webhook answers `{ status: 'ok', resumed: true }`; n8n answers 409 when the
 * execution is running or failed, 404 when it no longer exists, and (for a send-and-wait node) an HTML
 * "no action required" page when it has finished. Anything else is tried again on a later request.
 */
export function resumeOutcome(answer: ResumeAnswer): ResumeOutcome {
	const body = answer.body as { status?: unknown; resumed?: unknown } | string | undefined;
	if (answer.statusCode === 200 && typeof body === 'object' && body?.resumed === true) return 'resumed';
	if (answer.statusCode === 409 || answer.statusCode === 404) return 'already';
	const type = String(answer.headers?.['content-type'] ?? '');
	if (answer.statusCode === 200 && type.includes('text/html')) return 'already';
	return 'retry';
}

/** POSTs the round's resume link once; an error never repeats the link. */
async function callResumeLink(
	url: string,
	request: (options: IHttpRequestOptions) => Promise<ResumeAnswer>,
): Promise<{ outcome: ResumeOutcome; detail: string }> {
	try {
		const answer = await request({
			method: 'POST',
			url,
			body: {},
			json: true,
			headers: { accept: 'application/json' },
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: 60_000,
		});
		return { outcome: resumeOutcome(answer), detail: `HTTP ${answer.statusCode}` };
	} catch (error) {
		return { outcome: 'retry', detail: String((error as Error).message).split(url).join('<resume link>') };
	}
}

export async function finishDecidedRounds(
	store: ReviewStore,
	inbox: string,
	request: (options: IHttpRequestOptions) => Promise<ResumeAnswer>,
	now: Date = new Date(),
): Promise<IDataObject[]> {
	const rounds = await store.readyRounds(inbox);
	const events: Array<IDataObject | undefined> = rounds.map(() => undefined);
	let next = 0;
	// a few resumes in flight at once, each round still under its own lease; events keep the rounds' order
	const worker = async (): Promise<void> => {
		for (let i = next++; i < rounds.length; i = next++) events[i] = await finishRound(store, rounds[i], request, now);
	};
	await Promise.all(Array.from({ length: Math.min(RESUMES_AT_ONCE, rounds.length) }, worker));
	return events.filter((event): event is IDataObject => event !== undefined);
}

async function finishRound(
	store: ReviewStore,
	round: ReadyRound,
	request: (options: IHttpRequestOptions) => Promise<ResumeAnswer>,
	now: Date,
): Promise<IDataObject | undefined> {
	if (!(await store.beginResume(round.roundKey, now, RESUME_LEASE_MS))) return undefined;
	let outcome: ResumeOutcome = 'retry';
	let detail = '';
	try {
		({ outcome, detail } = await callResumeLink(round.resumeUrl, request));
		if (outcome !== 'retry') await store.markResumed(round.roundKey);
	} finally {
		await store.endResume(round.roundKey, outcome === 'retry' ? new Date(now.getTime() + RESUME_RETRY_MS) : undefined);
	}
	const first = round.items[0];
	return {
		event: outcome === 'retry' ? 'resume-failed' : 'resumed',
		outcome,
		detail,
		workflowId: first.workflowId,
		workflowName: first.workflowName,
		executionId: first.executionId,
		node: first.nodeName,
		items: round.items.length,
	};
}
