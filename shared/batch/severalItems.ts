/**
 * "Items per Request": the items of a run asked in groups, one request per group. The run hands each group of
 * consecutive items one `SeveralItems`; an item that asks joins it, an item that ends without asking (an
 * error, an answer it reuses) leaves it, and once every member has done one or the other, the items that asked
 * with the same prompt and schema go out as one request (an item alone goes out as a request of its own, as
 * without the option). Each item gets its own answer back, validated with its own schema; an item whose answer
 * is missing or invalid is asked again alone, with the single-item prompt.
 */
import { z } from 'zod/v4';

import { addUsage, emptyUsage } from '../cost';
import { promptHash } from '../hash';
import type { ModelClient, ModelRequest } from '../providers/types';
import { type Answer, askStructured, type CallPolicy, InvalidAnswerError, toModelSchema } from '../structured';
import { type AskedItem, type ItemPart, severalAnswersSchema, severalAnswersShape, splitAnswer, splitUsage } from './answers';
import { fenceItem, newItemIds, severalItemsRules } from './fence';

export type ItemRequest = Omit<ModelRequest, 'corrections' | 'schema'>;

/** The most "Items per Request" may be: beyond it one answer gets long enough to risk the model's output limit. */
export const MAX_ITEMS_PER_REQUEST = 20;
/** The answer's token budget grows with the items, up to this (what current models accept as max_tokens). */
const MAX_TOKENS = 16_384;

interface Waiting {
	request: ItemRequest;
	schema: z.ZodObject;
	resolve(answer: Answer<unknown>): void;
	reject(error: unknown): void;
}

interface Group {
	client: ModelClient;
	policy: CallPolicy;
	members: Waiting[];
}

export class SeveralItems {
	private readonly expected: Set<number>;
	private readonly groups = new Map<string, Group>();
	private readonly clientIds = new Map<ModelClient, number>();
	private sent = false;

	constructor(members: number[]) {
		this.expected = new Set(members);
	}

	/** Whether a request can share: a text, and an answer that is one object (each item's entry). */
	static accepts(schema: z.ZodType): schema is z.ZodObject {
		return schema instanceof z.ZodObject;
	}

	/** The item's answer, once the group's request (or its own re-ask) has it. */
	async ask<S extends z.ZodObject>(itemIndex: number, client: ModelClient, policy: CallPolicy, request: ItemRequest, schema: S): Promise<Answer<z.infer<S>>> {
		if (this.sent || !this.expected.has(itemIndex)) return await askStructured(client, request, schema, policy);
		if (!this.clientIds.has(client)) this.clientIds.set(client, this.clientIds.size);
		// items share a request when everything but their text is the same
		const key = `${this.clientIds.get(client)}\u0000${promptHash({ ...request, input: '', schema: toModelSchema(schema) })}`;
		const answer = new Promise<Answer<unknown>>((resolve, reject) => {
			let group = this.groups.get(key);
			if (!group) this.groups.set(key, (group = { client, policy, members: [] }));
			group.members.push({ request, schema, resolve, reject });
		});
		this.leave(itemIndex);
		return (await answer) as Answer<z.infer<S>>;
	}

	/** The item will not ask (it failed, or reuses another item's answer): the group need not wait for it. */
	leave(itemIndex: number): void {
		if (!this.expected.delete(itemIndex) || this.expected.size > 0 || this.sent) return;
		this.sent = true;
		for (const group of this.groups.values()) void send(group);
	}
}

async function send({ client, policy, members }: Group): Promise<void> {
	if (members.length === 1) {
		const [only] = members;
		await askStructured(client, only.request, only.schema, policy).then(only.resolve, only.reject);
		return;
	}
	const count = members.length;
	const ids = newItemIds(count);
	const asked: AskedItem[] = members.map((m, i) => ({ id: ids[i], schema: m.schema, fenced: fenceItem(ids[i], m.request.input) }));
	const first = members[0].request;
	const modelSchema = severalAnswersSchema(members[0].schema);
	const request: ItemRequest = {
		...first,
		instructions: first.instructions + severalItemsRules(count),
		input: asked.map((a) => a.fenced).join('\n'),
		schemaName: `${first.schemaName}s`,
		schemaDescription: `${first.schemaDescription}, one per item`,
		maxTokens: Math.min(MAX_TOKENS, first.maxTokens * count),
	};
	let parts: Array<ItemPart<unknown>>;
	let attempts: number;
	try {
		const answer = await askStructured(client, request, severalAnswersShape, policy, undefined, modelSchema);
		attempts = answer.attempts;
		parts = splitAnswer(answer, asked, request.instructions.length + JSON.stringify(modelSchema).length);
	} catch (error) {
		if (!(error instanceof InvalidAnswerError)) {
			// the request itself failed (after its retries): every item fails as it would have alone
			for (const member of members) member.reject(error);
			return;
		}
		// no usable answer at all: every item is asked alone, carrying its share of what the request cost
		attempts = error.attempts ?? 0;
		const usages = splitUsage(error.usage ?? emptyUsage(), asked.map((a) => a.fenced.length), asked.map(() => 1));
		parts = usages.map((usage) => ({ problem: error.problems, usage }));
	}
	await Promise.all(
		members.map(async (member, i) => {
			const part = parts[i];
			if ('answer' in part) {
				member.resolve({ ...part.answer, batch: { items: count } });
				return;
			}
			try {
				const alone = await askStructured(client, member.request, member.schema, policy);
				member.resolve({
					...alone,
					usage: addUsage(part.usage, alone.usage),
					attempts: attempts + alone.attempts,
					batch: { items: count, askedAlone: true },
				});
			} catch (error) {
				if (error instanceof InvalidAnswerError) {
					error.usage = addUsage(part.usage, error.usage ?? emptyUsage());
					error.attempts = attempts + (error.attempts ?? 0);
				}
				member.reject(error);
			}
		}),
	);
}
