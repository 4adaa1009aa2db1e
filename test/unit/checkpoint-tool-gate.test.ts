/**
 * Human Checkpoint as an AI Agent's tool gate: how it knows, what the page and the notification show,
 * the one output the agent reads, the timeout guard, and the audit record of a gate decision.
 */
import { buildDraft } from '../../nodes/AuditLog/record';
import { reviewSchema } from '../../shared/contract';
import { parseFormSubmission, resolveSubmission, ReviewInputError } from '../../nodes/HumanCheckpoint/decisions';
import { buildNotification } from '../../nodes/HumanCheckpoint/notify';
import { buildOutputs } from '../../nodes/HumanCheckpoint/outputs';
import { renderReviewPage, toGateReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import {
	isToolGate,
	neutraliseTimeoutInput,
	readGateMessage,
	readToolCall,
	toGateOutput,
} from '../../nodes/HumanCheckpoint/toolGate';

/** A gate item as n8n's engine builds it: the agent's input merged with the tool call. */
function gateItem(orderId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		chatInput: 'Where is my order?',
		approved: true,
		toolParameters: { orderId },
		tool: 'lookup_order',
		toolCallId: `call_${orderId}`,
		...extra,
	};
}

const MESSAGE = 'The agent wants to run this tool: lookup_order\n\nInput:\n[object Object]';

describe('knowing it runs as a tool gate', () => {
	it('by the node type n8n generates, or by the ai_tool rewiring', () => {
		expect(isToolGate({ type: 'n8n-nodes-governed-ai.humanCheckpointHitlTool' })).toBe(true);
		expect(isToolGate({ type: 'CUSTOM.humanCheckpointHitlTool' })).toBe(true);
		expect(isToolGate({ type: 'n8n-nodes-governed-ai.humanCheckpoint', rewireOutputLogTo: 'ai_tool' })).toBe(true);
		expect(isToolGate({ type: 'n8n-nodes-governed-ai.humanCheckpoint' })).toBe(false);
		expect(isToolGate({ type: 'n8n-nodes-governed-ai.humanCheckpoint', rewireOutputLogTo: 'main' })).toBe(false);
	});
});

describe('the tool call', () => {
	it('reads the tool, its input, the call id and the Message, with the input in place of "[object Object]"', () => {
		expect(readToolCall(gateItem('A-1'), MESSAGE)).toEqual({
			name: 'lookup_order',
			input: { orderId: 'A-1' },
			id: 'call_A-1',
			message: 'The agent wants to run this tool: lookup_order\n\nInput:\n{"orderId":"A-1"}',
		});
		expect(readToolCall({ toolParameters: 'raw text' }, '  ')).toEqual({ name: null, input: 'raw text', id: null, message: null });
	});

	it('a Message that cannot be evaluated is left out, never an error', () => {
		expect(readGateMessage(() => { throw new Error('no $tool here'); })).toBeNull();
		expect(readGateMessage(() => 42)).toBeNull();
		expect(readGateMessage(() => 'hi')).toBe('hi');
	});

	it('the page shows tool, input and Message (escaped), no "AI result none", and no answer editor', () => {
		const evil = gateItem('<script>alert(1)</script>');
		const html = renderReviewPage({ title: 'Tool call', items: [toGateReviewItem(evil, 0, 'The agent wants to run this tool: lookup_order <b>')] });
		expect(html).toContain('<code>lookup_order</code>');
		expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
		expect(html).not.toContain('<script>');
		expect(html).toContain('The agent wants to run this tool: lookup_order &lt;b&gt;');
		expect(html).not.toContain('none on this item');
		expect(html).not.toContain('name="answer_0"');
		expect(html).toContain('name="decision_0"');
		// the agent's own input is shown folded, without the tool call fields
		expect(html).toContain('Where is my order?');
	});

	it('the notification names the tool, its input and the Message', () => {
		const view = toGateReviewItem(gateItem('A-1'), 0, MESSAGE);
		const note = buildNotification('Approve the tool call', 'https://n8n.example/review', [view]);
		expect(note.text).toBe('Approve the tool call: the AI Agent wants to run lookup_order. Open the review page: https://n8n.example/review');
		expect(note.items).toEqual([
			{
				index: 0,
				answer: null,
				confidence: null,
				reason: null,
				tool: 'lookup_order',
				input: { orderId: 'A-1' },
				message: 'The agent wants to run this tool: lookup_order\n\nInput:\n{"orderId":"A-1"}',
			},
		]);
	});

	it('edited tool input is refused: n8n runs the tool with the model’s original input', () => {
		const views = [toGateReviewItem(gateItem('A-1'), 0)];
		expect(() =>
			resolveSubmission({ reviewer: 'ada', items: [{ index: 0, decision: 'approve', answer: { orderId: 'Z-9' } }] }, views, 'ada'),
		).toThrow(ReviewInputError);
		// a form answer field for it is ignored (the page has none)
		const submission = parseFormSubmission({ decision_0: 'approve', answer_0: '{"orderId":"Z-9"}' }, views);
		expect(submission.items[0].answer).toBeUndefined();
	});
});

describe('the one output the agent reads', () => {
	const jsons = [gateItem('A-1'), gateItem('B-2'), gateItem('C-3')];
	const views = jsons.map((json, i) => toGateReviewItem(json, i, MESSAGE));
	const review = resolveSubmission(
		{
			reviewer: 'ada@example.com',
			items: [
				{ index: 0, decision: 'approve' },
				{ index: 1, decision: 'reject', comment: 'Ask for the invoice number first' },
				{ index: 2, decision: 'reject' },
			],
		},
		views,
		'ada@example.com',
	);
	const decided = buildOutputs(jsons.map((json) => ({ json })), review, { keys: views.map(() => undefined), decidedAt: new Date('2026-01-01T00:01:00Z'), pausedAt: new Date('2026-01-01T00:00:00Z') });
	const outputs = toGateOutput(decided, views.map((v) => v.toolCall!));

	it('puts every decided item, in input order, on the first output', () => {
		expect(outputs).toHaveLength(1);
		expect(outputs[0].map((item) => item.pairedItem.item)).toEqual([0, 1, 2]);
		expect(outputs[0].map((item) => item.json.approved)).toEqual([true, false, false]);
	});

	it('carries the review and the tool call, and not the agent’s input', () => {
		const [approved, withComment, bare] = outputs[0].map((item) => item.json);
		expect(approved.toolCall).toEqual({ name: 'lookup_order', input: { orderId: 'A-1' }, id: 'call_A-1' });
		expect(reviewSchema.parse(approved.review)).toMatchObject({ decision: 'approved', reviewer: 'ada@example.com', waitedMs: 60_000 });
		// the reviewer's comment on a rejection is what n8n passes to the model as the user's feedback
		expect(withComment.chatInput).toBe('Ask for the invoice number first');
		expect(withComment.review).toMatchObject({ decision: 'rejected', comment: 'Ask for the invoice number first' });
		// an inherited chatInput (the user's chat message) never poses as the reviewer's feedback
		expect(bare.chatInput).toBeUndefined();
		expect(approved.chatInput).toBeUndefined();
		expect(Object.keys(approved).sort()).toEqual(['approved', 'review', 'toolCall']);
	});

	it('gives the Audit Log a record with the decision, the reviewer and the tool call', () => {
		const draft = buildDraft(outputs[0][1].json, { workflowId: 'w', executionId: '7', nodeName: 'Audit Log', itemIndex: 0, includeInput: true });
		expect(draft.review).toMatchObject({ decision: 'rejected', reviewer: 'ada@example.com', comment: 'Ask for the invoice number first' });
		expect(draft.input).toMatchObject({ approved: false, toolCall: { name: 'lookup_order', input: { orderId: 'B-2' }, id: 'call_B-2' } });
		expect(draft.step).toBeNull();
	});
});

describe('the time limit', () => {
	it('neutralises the waiting input, so n8n handing it to the agent reads as a rejection', () => {
		const items = [{ json: gateItem('A-1') }, { json: { toolParameters: {} } as Record<string, unknown> }];
		neutraliseTimeoutInput(items);
		expect(items.map((item) => item.json.approved)).toEqual([false, false]);
		expect(items[0].json.chatInput).toBeUndefined();
		expect(items[0].json.toolParameters).toEqual({ orderId: 'A-1' });
	});
});
