/**
 * Escalation: items past their due time are marked escalated once (store.escalateDue), after which their
 * escalation group sees them too, and one digest per group is POSTed to the inbox's Notification URL (a
 * Slack / Teams / Mattermost incoming webhook, or an n8n Webhook that e-mails it): the same mechanism as the
 * checkpoint's notification, but with the inbox's address, never a resume link. Runs on every inbox request
 * (a Schedule Trigger + HTTP Request GET `<inbox>?api=escalate` makes it periodic).
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { StoredItem } from '../../shared/reviewStore';

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

/** One digest per group that must now look at the items: the escalation group, else the item's own group. */
export function buildDigests(items: StoredItem[], inboxUrl: string): Digest[] {
	const byGroup = new Map<string, StoredItem[]>();
	for (const item of items) {
		const group = item.escalationGroup ?? item.group ?? 'everyone';
		byGroup.set(group, [...(byGroup.get(group) ?? []), item]);
	}
	return [...byGroup.entries()].map(([group, list]) => ({
		text: `${list.length} overdue item${list.length === 1 ? '' : 's'} escalated to ${group} in the Review Inbox: ${inboxUrl}`,
		group,
		inboxUrl,
		items: list.map((item) => ({
			id: item.id,
			title: titleOf(item),
			label: item.label,
			workflowName: item.workflowName,
			dueAt: item.dueAt,
			originalGroup: item.group,
		})),
	}));
}

export async function escalateAndNotify(
	escalated: StoredItem[],
	inboxUrl: string,
	notificationUrl: string,
	request: (options: IHttpRequestOptions) => Promise<unknown>,
): Promise<IDataObject[]> {
	if (!escalated.length) return [];
	const digests = buildDigests(escalated, inboxUrl);
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
		events.push({ inbox: { event: 'escalated', group: digest.group, items: digest.items.map((i) => i.id), notified } });
	}
	return events;
}
