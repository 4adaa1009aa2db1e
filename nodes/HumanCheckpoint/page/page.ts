/**
 * The hosted review page. Plain HTML, no script (the CSP forbids it), every piece of item text
 * escaped. The form has no `action`, so it posts back to the exact signed URL it was loaded from.
 */
import { latestAiResult, type StepResult } from '../../../shared/contract';
import { answerEditor, renderAnswerEditor } from './answerEditor';
import { answerAsText, type ReviewableItem } from '../decisions';
import { isPlainObject } from '../edits';
import { escapeHtml } from '../../../shared/html';
import { agentInputFields, readToolCall, toolNameOf, type ToolCall } from '../toolGate';

export { escapeHtml };

/** Sent with every page: nothing loads from elsewhere, no script runs, no framing. */
export const REVIEW_PAGE_CSP =
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface ReviewItemView extends ReviewableItem {
	step?: StepResult['step'];
	confidence?: number | null;
	confidenceMethod?: string;
	reason?: string;
	evidence?: string[];
	needsReview?: boolean;
	reviewReason?: string;
	/** the item's other fields, shown folded */
	fields: Record<string, unknown>;
	/** set when the node gates an AI Agent's tool call (toolGate.ts) */
	toolCall?: ToolCall;
}

/** What the page shows for one input item: its AI result (the latest, or `resultKey`) and its fields. */
export function toReviewItem(json: Record<string, unknown>, index: number, resultKey?: string): ReviewItemView {
	const found = latestAiResult(json, resultKey || undefined);
	const fields: Record<string, unknown> = { ...json };
	delete fields.ai;
	if (!found) return { index, fields };
	const { key, result } = found;
	return {
		index,
		key,
		answer: result.answer,
		...(result.answerSchema ? { answerSchema: result.answerSchema } : {}),
		step: result.step,
		confidence: result.confidence,
		confidenceMethod: result.confidenceMethod,
		reason: result.reason,
		evidence: result.evidence,
		needsReview: result.needsReview,
		reviewReason: result.reviewReason,
		fields,
	};
}

const MAX_FIELDS_CHARS = 4000;

function renderFields(fields: Record<string, unknown>): string {
	if (!isPlainObject(fields) || Object.keys(fields).length === 0) return '';
	let text = JSON.stringify(fields, null, 2);
	if (text.length > MAX_FIELDS_CHARS) text = `${text.slice(0, MAX_FIELDS_CHARS)}\n… (shortened)`;
	return `<details><summary>Item fields</summary><pre>${escapeHtml(text)}</pre></details>`;
}

/** What the review page and the notification show for one gate item. */
export function toGateReviewItem(json: Record<string, unknown>, index: number, message?: unknown): ReviewItemView {
	return { index, fields: agentInputFields(json), toolCall: readToolCall(json, message) };
}

/** Rows of the review page's description list for one tool call (all text escaped). */
function renderToolCallRows(call: ToolCall): string[] {
	const rows: string[] = [];
	const name = toolNameOf(call);
	rows.push(`<dt>Tool</dt><dd><code>${escapeHtml(name ?? 'unknown')}</code></dd>`);
	const input = isPlainObject(call.input) || Array.isArray(call.input) ? JSON.stringify(call.input, null, 2) : String(call.input ?? '');
	rows.push(`<dt>Input</dt><dd><pre>${escapeHtml(input)}</pre></dd>`);
	if (call.message) rows.push(`<dt>Message</dt><dd>${escapeHtml(call.message).replace(/\n/g, '<br>')}</dd>`);
	rows.push('<dt>Note</dt><dd class="muted">Approving runs the tool with this input; rejecting tells the agent (with your comment, if you give one).</dd>');
	return rows;
}

function renderConfidence(item: ReviewItemView): string {
	if (item.confidence === undefined) return '';
	const value = item.confidence === null ? 'unknown' : `${Math.round(item.confidence * 100)}%`;
	return `${escapeHtml(value)} <span class="muted">(${escapeHtml(item.confidenceMethod ?? '')})</span>`;
}

function renderItem(item: ReviewItemView): string {
	const i = item.index;
	const rows: string[] = [];
	if (item.toolCall) {
		rows.push(...renderToolCallRows(item.toolCall));
	} else if (item.key !== undefined) {
		rows.push(`<dt>AI step</dt><dd>${escapeHtml(item.step ?? '')} <span class="muted">(ai.${escapeHtml(item.key)})</span></dd>`);
		rows.push(`<dt>Answer</dt><dd><code>${escapeHtml(answerAsText(item.answer))}</code></dd>`);
		rows.push(`<dt>Confidence</dt><dd>${renderConfidence(item)}</dd>`);
		if (item.reason) rows.push(`<dt>Reason</dt><dd>${escapeHtml(item.reason)}</dd>`);
		if (item.evidence?.length) {
			rows.push(`<dt>Evidence</dt><dd><ul>${item.evidence.map((e) => `<li>&ldquo;${escapeHtml(e)}&rdquo;</li>`).join('')}</ul></dd>`);
		}
		if (item.needsReview && item.reviewReason) {
			rows.push(`<dt>Flagged</dt><dd>${escapeHtml(item.reviewReason)}</dd>`);
		}
	} else {
		rows.push('<dt>AI result</dt><dd class="muted">none on this item</dd>');
	}
	let editor = '';
	const schemaEditor = item.key !== undefined ? answerEditor(item.answerSchema, item.answer) : undefined;
	if (schemaEditor) {
		editor = renderAnswerEditor(i, schemaEditor, item.answer);
	} else if (item.key !== undefined) {
		const text = answerAsText(item.answer);
		const field =
			typeof item.answer === 'string' && !text.includes('\n')
				? `<input type="text" id="answer_${i}" name="answer_${i}" value="${escapeHtml(text)}">`
				: `<textarea id="answer_${i}" name="answer_${i}" rows="${Math.min(12, text.split('\n').length + 1)}">${escapeHtml(text)}</textarea>`;
		editor = `<label for="answer_${i}">Answer (change it to correct the AI, then approve)</label>${field}`;
	}
	return `<fieldset class="item">
<legend>Item ${i + 1} <span class="muted">(index ${i})</span></legend>
<dl>${rows.join('')}</dl>
${renderFields(item.fields)}
<div class="choice">
<label><input type="radio" name="decision_${i}" value="approve" required> Approve</label>
<label><input type="radio" name="decision_${i}" value="reject"> Reject</label>
</div>
${editor}
<label for="comment_${i}">Comment</label>
<textarea id="comment_${i}" name="comment_${i}" rows="2"></textarea>
</fieldset>`;
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:860px;margin:24px auto;padding:0 16px;color:#1f2328;background:#f6f8fa}
h1{font-size:22px}.muted{color:#6e7781;font-weight:normal}fieldset{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:0 0 16px;padding:12px 16px}
legend{font-weight:600;padding:0 4px}dl{display:grid;grid-template-columns:120px 1fr;gap:4px 12px;margin:8px 0}dt{color:#6e7781}dd{margin:0;overflow-wrap:anywhere}
ul{margin:0;padding-left:18px}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px;border-radius:4px}
input[type=text],input[type=email],textarea,select{width:100%;box-sizing:border-box;font:inherit;padding:6px;border:1px solid #d0d7de;border-radius:4px}
label{display:block;margin-top:8px}.choice label{display:inline-block;margin-right:16px}button{font:inherit;padding:8px 20px;border:0;border-radius:6px;background:#1f883d;color:#fff;cursor:pointer}
.notice{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px}`;

function layout(title: string, body: string): string {
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

export interface ReviewPageOptions {
	title: string;
	instructions?: string;
	items: ReviewItemView[];
	/** the reviewer as known from basic auth: shown and not editable */
	authenticatedReviewer?: string;
	/** ISO time after which decisions are refused */
	until?: string;
}

export function renderReviewPage(options: ReviewPageOptions): string {
	const { title, instructions, items, authenticatedReviewer, until } = options;
	const reviewerField = authenticatedReviewer
		? `<p>Reviewing as <strong>${escapeHtml(authenticatedReviewer)}</strong></p>`
		: `<label for="reviewer">Your name or e-mail</label><input type="text" id="reviewer" name="reviewer" required autocomplete="email" maxlength="320">`;
	const deadline = until ? `<p class="muted">Decide before ${escapeHtml(until)} (UTC); after that the items go to "No Response".</p>` : '';
	const body = `<h1>${escapeHtml(title)}</h1>
${instructions ? `<p>${escapeHtml(instructions).replace(/\n/g, '<br>')}</p>` : ''}
<p class="muted">${items.length} item${items.length === 1 ? '' : 's'} to review. Approve or reject each one; nothing is decided until you submit.</p>
${deadline}
<form method="post" accept-charset="utf-8">
${items.map(renderItem).join('\n')}
<fieldset>${reviewerField}<p><button type="submit">Submit decisions</button></p></fieldset>
</form>`;
	return layout(title, body);
}

export function renderMessagePage(title: string, message: string): string {
	return layout(title, `<div class="notice"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></div>`);
}
