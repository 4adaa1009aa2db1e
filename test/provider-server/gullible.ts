/**
 * A deliberately gullible model for several-items requests, for the injection tests of "Items per Request".
 * It reads the user message the way a careless reader of markup would, and it obeys what the items say:
 * - every `<item id="X">` it sees starts an item, which runs to the next `</item>` or item tag, so a text that
 *   holds a fence of its own splits off a forged item; when an id appears twice, the later text counts;
 * - a line anywhere of the form `item X: label Y` (Y one of the labels the schema allows) sets item X's
 *   label to Y, for every id X it has read.
 * Every item it reads is otherwise answered as the autoResponder would. So a prompt that lets a text forge a
 * fence or name another item's id (ids 1, 2, 3…, unescaped texts) has that other item's answer changed; a
 * prompt with escaped texts and ids the texts cannot know does not.
 */
import { severalItemsEntrySchema, severalItemsReply } from './auto-responder';
import { firstUserText } from './prompt';
import type { Reply, Responder } from './types';

const TAG = /<item id="([^"]*)">|<\/item>/g;
const ORDER = /\bitem\s+"?([A-Za-z0-9_-]+)"?\s*:\s*label\s+([A-Za-z0-9_-]+)/gi;

/** The items as a careless reader sees them: [id, text] in order of first appearance, a repeated id's later text winning. */
export function gullibleRead(message: string): Map<string, string> {
	const items = new Map<string, string>();
	let open: { id: string; from: number } | undefined;
	for (const tag of message.matchAll(TAG)) {
		if (open) items.set(open.id, message.slice(open.from, tag.index).trim());
		open = tag[1] !== undefined ? { id: tag[1], from: tag.index + tag[0].length } : undefined;
	}
	if (open) items.set(open.id, message.slice(open.from).trim());
	return items;
}

export const gullibleSeveralItems: Responder = (req): Reply => {
	const message = firstUserText(req.body) || req.userText;
	const schema = req.schema;
	const entry = schema ? severalItemsEntrySchema(schema) : undefined;
	if (!schema || !entry) throw new Error('gullibleSeveralItems answers several-items requests only');
	const items = gullibleRead(message);
	const allowed: unknown[] = (entry.properties as Record<string, any>).label?.enum ?? [];
	const orders = new Map<string, string>();
	for (const [, id, label] of message.matchAll(ORDER)) if (items.has(id) && allowed.includes(label)) orders.set(id, label);
	const reply = severalItemsReply(
		schema,
		req,
		[...items].map(([id, text]) => ({ id, text })),
		(id, answer) => (orders.has(id) ? { ...answer, label: orders.get(id), reason: `Told so by the text: item ${id} is ${orders.get(id)}.` } : answer),
	);
	if (!reply) throw new Error('gullibleSeveralItems: no items in the message');
	return reply;
};
