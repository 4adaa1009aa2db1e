/**
 * The optional notification: POST `{ text, reviewUrl, items }` to a URL. Slack, Mattermost and
 * (legacy connector) Teams incoming webhooks read `text`; an n8n Webhook trigger in another workflow
 * receives all of it and can send the link with n8n's own Email or Slack node.
 * The payload carries the review link and a short summary per item, never credentials.
 */
import type { ReviewItemView } from './page/page';
import { toolNameOf } from './toolGate';
import { formatTime } from './page/readable';
import { MAX_NOTIFIED_ITEMS, type Notification, type NotificationItem } from './notificationSchema';

// the payload's shape is published (notificationSchema.ts); its types come from there
export type { Notification, NotificationItem };

const MAX_ANSWER_CHARS = 200;

function shortAnswer(answer: unknown): unknown {
	if (answer === undefined) return null;
	if (typeof answer === 'string') return answer.length > MAX_ANSWER_CHARS ? `${answer.slice(0, MAX_ANSWER_CHARS)}…` : answer;
	const text = JSON.stringify(answer);
	return text.length > MAX_ANSWER_CHARS ? `${text.slice(0, MAX_ANSWER_CHARS)}…` : answer;
}

const NAMED_IN_TEXT = 3;

/** "3 items waiting for review: “Refund please”, “Dashboard down” and 1 more" (items named by their first shown field). */
function waiting(items: ReviewItemView[]): string {
	const count = `${items.length} item${items.length === 1 ? '' : 's'} waiting for review`;
	const names = items.map((item) => item.title).filter((name): name is string => !!name);
	if (names.length === 0) return count;
	const listed = names.slice(0, NAMED_IN_TEXT).map((name) => `“${name.length > 60 ? `${name.slice(0, 59)}…` : name}”`);
	const more = items.length - listed.length;
	return `${count}: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** The payload; `timeZone` (the workflow's) is the zone the deadline is written in. */
export function buildNotification(title: string, reviewUrl: string, items: ReviewItemView[], until?: Date, timeZone?: string): Notification {
	const deadline = until ? ` (decide by ${formatTime(until, timeZone)})` : '';
	const tools = items.filter((item) => item.toolCall).map((item) => toolNameOf(item.toolCall!) ?? 'a tool');
	const what = tools.length ? `the AI Agent wants to run ${tools.join(', ')}` : waiting(items);
	return {
		text: `${title}: ${what}${deadline}. Open the review page: ${reviewUrl}`,
		reviewUrl,
		items: items.slice(0, MAX_NOTIFIED_ITEMS).map((item) => ({
			index: item.index,
			...(item.title ? { title: item.title } : {}),
			answer: shortAnswer(item.answer),
			confidence: item.confidence ?? null,
			reason: item.reason ?? null,
			...(item.toolCall
				? { tool: toolNameOf(item.toolCall), input: shortAnswer(item.toolCall.input), message: item.toolCall.message }
				: {}),
		})),
	};
}

/** Where a notification went, without the path or query (a Slack webhook URL is itself a secret). */
export function describeUrl(url: string): string {
	try {
		return new URL(url).host;
	} catch {
		return 'an invalid URL';
	}
}
