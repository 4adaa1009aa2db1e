/**
 * Human Checkpoint as an AI Agent's "Human review" tool gate (n8n 2.x).
 *
 * n8n turns every node with `webhooks` and an `operation` option `sendAndWait` into a second node
 * type, `<type>HitlTool` (n8n `packages/cli/src/tool-generation/hitl-tools.ts`): one `ai_tool` input
 * (the gated tools), one `ai_tool` output (to the agent), our parameters plus a `message` parameter
 * ("The agent wants to run this tool: {{ $tool.name }} … Input: {{ $tool.parameters }}").
 *
 * When the model calls a gated tool, the engine runs the gate with one item per tool call (n8n-core
 * `requests-response.ts`): the agent's input item merged with `toolParameters` (the model's input for
 * the tool), the HITL parameters, `tool` (the tool's name, when n8n knows it) and `toolCallId`.
 * The gate's outputs are logged as `ai_tool` (`rewireOutputLogTo`), and the agent reads the decision
 * from `ai_tool[0][0].json.approved` only (@n8n/nodes-langchain
 * `utils/agent-execution/processHitlResponses.ts`): `true` runs the tool with the model's ORIGINAL
 * input (`hitl.originalInput`; an edited input would be ignored, so the page offers no edit), anything
 * else is a rejection. On a rejection `chatInput`, when present, is passed to the model as the user's
 * feedback; without it the model is told "User rejected the tool call … STOP …".
 *
 * So, for the gate: every decided item goes on the one output, shaped `{ approved, review, toolCall }`
 * (plus `chatInput` = the reviewer's comment on a rejection). The agent's input fields are not
 * passed on: an inherited `chatInput` (a Chat Trigger's message) would reach the model as if it were
 * the reviewer's feedback.
 */
import { NodeConnectionTypes, type INode } from 'n8n-workflow';
import type { OutputItem } from './outputs';

/** n8n names the generated gate node type `<node type>HitlTool`. */
export const HITL_TOOL_SUFFIX = 'HitlTool';

/** True when this node runs as an AI Agent's tool gate rather than in the main flow. */
export function isToolGate(node: Pick<INode, 'type'> & { rewireOutputLogTo?: string }): boolean {
	return node.type.endsWith(HITL_TOOL_SUFFIX) || node.rewireOutputLogTo === NodeConnectionTypes.AiTool;
}

/** The tool call a gate item stands for. */
export interface ToolCall {
	/** the tool's name as the model called it (null when n8n did not pass it) */
	name: string | null;
	/** the model's input for the tool */
	input: unknown;
	/** the model's tool call id */
	id: string | null;
	/** n8n's Message parameter of the gate, as evaluated for this item */
	message: string | null;
}

const MAX_MESSAGE_CHARS = 4000;

/** Reads the tool call from a gate item (see the file comment for the fields n8n sets). */
export function readToolCall(json: Record<string, unknown>, message?: unknown): ToolCall {
	const input = json.toolParameters ?? null;
	let text = typeof message === 'string' && message.trim() ? message.trim() : null;
	// n8n's default Message puts `{{ $tool.parameters }}` into text, which renders an object as
	// "[object Object]" (n8n 2.40): show the input itself there.
	if (text && typeof input === 'object' && input !== null) text = text.split('[object Object]').join(JSON.stringify(input));
	return {
		name: typeof json.tool === 'string' && json.tool ? json.tool : null,
		input,
		id: typeof json.toolCallId === 'string' && json.toolCallId ? json.toolCallId : null,
		message: text ? text.slice(0, MAX_MESSAGE_CHARS) : null,
	};
}

/** The tool's name from n8n's default message when the item does not carry it. */
function nameFromMessage(message: string | null): string | null {
	const match = message ? /wants to run this tool:\s*(\S+)/.exec(message) : null;
	return match ? match[1] : null;
}

export function toolNameOf(call: ToolCall): string | null {
	return call.name ?? nameFromMessage(call.message);
}

/** The gate item's fields that the page shows folded: the agent's input, without the tool call. */
export function agentInputFields(json: Record<string, unknown>): Record<string, unknown> {
	const fields: Record<string, unknown> = { ...json };
	for (const key of ['tool', 'toolParameters', 'toolCallId', 'ai']) delete fields[key];
	return fields;
}

/**
 * The gate's single output: every decided item, in input order, as the agent reads it.
 * `decided` is buildOutputs' result (No Response, Approved, Rejected).
 */
export function toGateOutput(decided: OutputItem[][], calls: ToolCall[]): OutputItem[][] {
	const items = decided.flat().sort((a, b) => a.pairedItem.item - b.pairedItem.item);
	return [
		items.map((item) => {
			const index = item.pairedItem.item;
			const call = calls[index];
			const approved = item.json.approved === true;
			const review = item.json.review as { comment?: string | null };
			const json: Record<string, unknown> = {
				approved,
				toolCall: { name: toolNameOf(call), input: call.input, id: call.id },
				review: item.json.review,
			};
			if (!approved && review.comment) json.chatInput = review.comment;
			return { json, pairedItem: { item: index } };
		}),
	];
}

/**
 * n8n's Message parameter, evaluated; null when it cannot be (it reads `$tool`, which n8n resolves
 * from the gate's input item). The message is only shown, so a failure here never stops a review.
 */
export function readGateMessage(evaluate: () => unknown): string | null {
	try {
		const value = evaluate();
		return typeof value === 'string' ? value : null;
	} catch {
		return null;
	}
}

/**
 * When the time limit passes, n8n does not call the gate again: it hands the gate's input to the
 * agent, which reads it like a decision. That input is the agent's own input item merged with the tool
 * call, so an `approved: true` inherited from an earlier checkpoint would run the tool, and a Chat
 * Trigger's `chatInput` would reach the model as the reviewer's feedback. The stored input is what n8n
 * hands on, so both are neutralised on it before the execution waits: a timeout reads as a rejection.
 */
export function neutraliseTimeoutInput(items: Array<{ json: Record<string, unknown> }>): void {
	for (const item of items) {
		item.json.approved = false;
		delete item.json.chatInput;
	}
}
