/**
 * How a well-behaved model reads a several-items request of AI Classify's "Items per Request"
 * (shared/batch/fence.ts): the items in their fences, unescaped. An escaped text cannot hold a fence, so the
 * first close ends an item.
 */
import { unescapeFenced } from '../../shared/batch/fence';

const FENCED = /<item id="([a-z0-9]{10})">\n([\s\S]*?)\n<\/item>/g;

export function readFencedItems(message: string): Array<{ id: string; text: string }> {
	return [...message.matchAll(FENCED)].map((m) => ({ id: m[1], text: unescapeFenced(m[2]) }));
}
