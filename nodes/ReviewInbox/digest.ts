/**
 * Digests: one message per group per run, POSTed to the inbox's Notification URL (a Slack / Teams / Mattermost
 * incoming webhook, or an n8n Webhook that e-mails it): the same mechanism as the checkpoint's notification,
 * but with the inbox's address, never a resume link.
 * - Escalation: items past their due time are marked escalated once (store.escalateDue), after which their
 *   escalation group sees them too. Runs on every inbox request.
 * - New items and items due within the hour (store.takeForDigest: each item is listed once as new and once as
 *   due soon, ever). Runs only on the periodic call, GET `<inbox>?api=escalate` from a Schedule Trigger +
 *   HTTP Request, so a busy inbox sends a reviewer one message per group per schedule, not one per request.
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { DigestItems, StoredItem } from '../../shared/reviewStore';

/** "Due soon": within the hour, the same window as the page's "Due within an hour" filter. */
export const DUE_SOON_MS = 3_600_000;

export interface Digest extends IDataObject {
	text: string;
	group: string;
	inboxUrl: string;
	items: IDataObject[];
}

function titleOf(item: StoredItem): string {
	const view = item.view as { title?: unknown; shown?: Array<{ text?: unknown }> };
	const title = typeof view.title === 'string' ? view.title : typeof view.shown?.[0]?.text === 'string' ? view.shown[0].text : `Item ${item.itemIndex + 1}`;
	return title.length > 120 ? `${title.slice(0, 117)}…` : title;
}

function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

/**
 * One digest per group of the escalated, new and due-soon items: `items` lists them all, each with `why`
 * (escalated, new, due soon); an item both new and due soon is listed once, as due soon.
 */
export function buildDigests(parts: { escalated: StoredItem[] } & Partial<DigestItems>, inboxUrl: string): Digest[] {
	const soonIds = new Set((parts.dueSoon ?? []).map((item) => item.id));
	const entries: Array<[StoredItem, 'escalated' | 'new' | 'due soon', string]> = [
		...parts.escalated.map((item) => [item, 'escalated', item.escalationGroup ?? item.group ?? 'everyone'] as [StoredItem, 'escalated', string]),
		...(parts.dueSoon ?? []).map((item) => [item, 'due soon', item.group ?? 'everyone'] as [StoredItem, 'due soon', string]),
		...(parts.fresh ?? []).filter((item) => !soonIds.has(item.id)).map((item) => [item, 'new', item.group ?? 'everyone'] as [StoredItem, 'new', string]),
	];
	const byGroup = new Map<string, typeof entries>();
	for (const entry of entries) byGroup.set(entry[2], [...(byGroup.get(entry[2]) ?? []), entry]);
	return [...byGroup.entries()].map(([group, list]) => {
		const count = (why: string) => list.filter((e) => e[1] === why).length;
		const said = [
			count('escalated') ? `${plural(count('escalated'), 'overdue item')} escalated to ${group}` : '',
			count('new') ? `${plural(count('new'), 'new item')} for ${group}` : '',
			count('due soon') ? `${plural(count('due soon'), 'item')} due within the hour for ${group}` : '',
		].filter(Boolean);
		return {
			text: `${said.join('; ')} in the Review Inbox: ${inboxUrl}`,
			group,
			inboxUrl,
			items: list.map(([item, why]) => ({
				id: item.id,
				why,
				title: titleOf(item),
				label: item.label,
				workflowName: item.workflowName,
				dueAt: item.dueAt,
				originalGroup: item.group,
			})),
		};
	});
}

export async function escalateAndNotify(
	escalated: StoredItem[],
	inboxUrl: string,
	notificationUrl: string,
	request: (options: IHttpRequestOptions) => Promise<unknown>,
	digest: Partial<DigestItems> = {},
): Promise<IDataObject[]> {
	if (!escalated.length && !digest.fresh?.length && !digest.dueSoon?.length) return [];
	const digests = buildDigests({ escalated, ...digest }, inboxUrl);
	const events: IDataObject[] = [];
	for (const digest of digests) {
		let notified: boolean | string = false;
		if (notificationUrl) {
			try {
				await request({ method: 'POST', url: notificationUrl, body: digest, json: true, timeout: 15_000 });
				notified = true;
			} catch (error) {
				// the URL is itself a secret for Slack and Teams: never repeated
				notified = String((error as Error).message).split(notificationUrl).join('<notification URL>');
			}
		}
		const ids = (why: string) => digest.items.filter((i) => i.why === why).map((i) => i.id);
		events.push(
			digest.items.every((i) => i.why === 'escalated')
				? { inbox: { event: 'escalated', group: digest.group, items: ids('escalated'), notified } }
				: { inbox: { event: 'digest', group: digest.group, escalated: ids('escalated'), new: ids('new'), dueSoon: ids('due soon'), notified } },
		);
	}
	return events;
}
