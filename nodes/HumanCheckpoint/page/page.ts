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
import {
	chooseShownFields,
	confidenceInWords,
	containsEvidence,
	formatTime,
	highlightEvidence,
	itemTitle,
	relativeTime,
	type ShownField,
} from './readable';

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
	/** classify with k samples: how many answers the agreement was measured over */
	samples?: number;
	/** the item's own fields shown first, as text (Fields to Show, or the automatic choice) */
	shown?: ShownField[];
	/** a one-line name for the item: its first shown field */
	title?: string;
	/** the item's other fields, shown folded */
	fields: Record<string, unknown>;
	/** set when the node gates an AI Agent's tool call (toolGate.ts) */
	toolCall?: ToolCall;
}

/**
 * What the page shows for one input item: its AI result (the latest, or `resultKey`) and its fields. `fieldsToShow`
 * names the fields shown first ('auto': the item's own text fields); without it every field stays folded.
 */
export function toReviewItem(
	json: Record<string, unknown>,
	index: number,
	resultKey?: string,
	fieldsToShow?: string[] | 'auto',
): ReviewItemView {
	const found = latestAiResult(json, resultKey || undefined);
	const fields: Record<string, unknown> = { ...json };
	delete fields.ai;
	const shown = fieldsToShow ? chooseShownFields(json, fieldsToShow) : [];
	// a top-level field shown first is not repeated in the folded rest
	for (const field of shown) delete fields[field.name];
	const named = shown.length ? { shown, title: itemTitle(shown) } : {};
	if (!found) return { index, fields, ...named };
	const { key, result } = found;
	const samples = (result as { samples?: unknown }).samples;
	return {
		index,
		key,
		answer: result.answer,
		...(result.answerSchema ? { answerSchema: result.answerSchema } : {}),
		step: result.step,
		confidence: result.confidence,
		confidenceMethod: result.confidenceMethod,
		...(typeof samples === 'number' ? { samples } : {}),
		reason: result.reason,
		evidence: result.evidence,
		needsReview: result.needsReview,
		reviewReason: result.reviewReason,
		fields,
		...named,
	};
}

const MAX_FIELDS_CHARS = 4000;

function renderFields(fields: Record<string, unknown>): string {
	if (!isPlainObject(fields) || Object.keys(fields).length === 0) return '';
	let text = JSON.stringify(fields, null, 2);
	if (text.length > MAX_FIELDS_CHARS) text = `${text.slice(0, MAX_FIELDS_CHARS)}\n… (shortened)`;
	return `<details><summary>Other fields</summary><pre>${escapeHtml(text)}</pre></details>`;
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

/** The item's own fields, evidence marked; the first is left out when the heading already shows all of it. */
function renderShown(item: ReviewItemView): string {
	const shown = (item.shown ?? []).filter(
		(field, k) => !(k === 0 && field.text.replace(/\s+/g, ' ').trim() === item.title && !containsEvidence(field.text, item.evidence)),
	);
	if (shown.length === 0) return '';
	const rows = shown.map(
		(field) => `<div class="field"><div class="field-name">${escapeHtml(field.name)}</div><div class="field-text">${highlightEvidence(field.text, item.evidence)}</div></div>`,
	);
	return `<div class="shown">${rows.join('')}</div>`;
}

/** The AI's answer as a reviewer reads it: a label or action as is, several joined, a record as indented JSON. */
function renderSuggestion(answer: unknown): string {
	if (answer === null || answer === undefined) return '<span class="muted">no answer</span>';
	if (typeof answer === 'string') return `<strong>${escapeHtml(answer)}</strong>`;
	if (Array.isArray(answer) && answer.every((value) => typeof value === 'string')) {
		return answer.length ? `<strong>${escapeHtml(answer.join(', '))}</strong>` : '<span class="muted">none of the categories</span>';
	}
	return `<pre>${escapeHtml(answerAsText(answer))}</pre>`;
}

/** Suggested answer, how sure, why, and what the AI quoted (marked in the fields above when it is there). */
function renderAiResult(item: ReviewItemView): string {
	const lines: string[] = [];
	lines.push(`<p class="suggested">Suggested: ${renderSuggestion(item.answer)}</p>`);
	if (item.confidence !== undefined) lines.push(`<p>How sure: ${escapeHtml(confidenceInWords(item.confidence, item.confidenceMethod, item.samples))}</p>`);
	if (item.reason) lines.push(`<p>Why: ${escapeHtml(item.reason)}</p>`);
	if (item.needsReview && item.reviewReason) lines.push(`<p>Sent for review because: ${escapeHtml(item.reviewReason)}</p>`);
	const quotes = item.evidence ?? [];
	if (quotes.length) {
		const marked = (item.shown ?? []).some((field) => containsEvidence(field.text, quotes));
		const heading = marked ? 'Evidence the AI quoted (marked above)' : 'Evidence the AI quoted';
		lines.push(`<p class="muted">${heading}:</p><ul>${quotes.map((e) => `<li>&ldquo;${escapeHtml(e)}&rdquo;</li>`).join('')}</ul>`);
	}
	return `<div class="ai">${lines.join('')}</div>`;
}

function renderItem(item: ReviewItemView): string {
	const i = item.index;
	let summary: string;
	if (item.toolCall) {
		summary = `<dl>${renderToolCallRows(item.toolCall).join('')}</dl>`;
	} else if (item.key !== undefined) {
		summary = renderAiResult(item);
	} else {
		summary = '<p class="muted">AI suggestion: none on this item. Approve or reject it as it is.</p>';
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
	// the heading names the item by what it is about (e.g. its subject); the number stays for "Item 2: …" messages
	const heading = item.title ? `${escapeHtml(item.title)} <span class="muted">(item ${i + 1})</span>` : `Item ${i + 1}`;
	return `<fieldset class="item">
<legend>${heading}</legend>
${renderShown(item)}
${summary}
<div class="choice decision">
<label><input type="radio" name="decision_${i}" value="approve" required> Approve</label>
<label><input type="radio" name="decision_${i}" value="reject"> Reject</label>
</div>
${editor}
<label for="comment_${i}">Comment <span class="muted">(optional)</span></label>
<textarea id="comment_${i}" name="comment_${i}" rows="2"></textarea>
${renderFields(item.fields)}
</fieldset>`;
}

// Readable at 390 px: nothing wider than the screen (fieldsets shrink, long words wrap, code scrolls inside
// itself), and every choice at least 44 px high to tap.
const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:860px;margin:24px auto;padding:0 12px;color:#1f2328;background:#f6f8fa;overflow-wrap:anywhere;line-height:1.45}
h1{font-size:22px}.muted{color:#6e7781;font-weight:normal}fieldset{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:0 0 16px;padding:12px 16px;min-width:0}
legend{font-weight:600;padding:0 4px;font-size:17px}dl{display:grid;grid-template-columns:minmax(0,7em) minmax(0,1fr);gap:4px 12px;margin:8px 0}dt{color:#6e7781}dd{margin:0;min-width:0}
ul{margin:0;padding-left:18px}pre{white-space:pre-wrap;overflow:auto;max-width:100%;background:#f6f8fa;padding:8px;border-radius:4px;margin:4px 0}
.shown .field{margin:4px 0 12px}.field-name{color:#6e7781;font-size:13px;text-transform:capitalize}.field-text{white-space:pre-wrap;font-size:16px}
mark{background:#fff3b0;padding:0 1px}.ai{border-top:1px solid #eaeef2;padding-top:8px}.ai p{margin:4px 0}.suggested{font-size:17px}
input[type=text],input[type=email],textarea,select{width:100%;box-sizing:border-box;font:inherit;padding:8px;border:1px solid #d0d7de;border-radius:4px;min-height:44px}
label{display:block;margin-top:8px}.choice{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}.choice label{display:inline-flex;align-items:center;gap:8px;min-height:44px;margin:0;padding:0 16px;border:1px solid #d0d7de;border-radius:8px;cursor:pointer}
.decision label{min-width:120px;font-weight:600}input[type=radio],input[type=checkbox]{width:22px;height:22px;margin:0}
button{font:inherit;min-height:48px;padding:10px 24px;border:0;border-radius:6px;background:#1f883d;color:#fff;cursor:pointer}
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
	/** the workflow's time zone (n8n's workflow setting), for the deadline */
	timeZone?: string;
	/** for the "in 3 hours" of the deadline */
	now?: Date;
}

/** "Decide by 4 Dec 2026, 14:00 UTC, in 3 hours": no script may read the browser's zone, so the workflow's. */
function renderDeadline(until: string, timeZone: string | undefined, now: Date): string {
	const date = new Date(until);
	const when = Number.isNaN(date.getTime())
		? `<strong>${escapeHtml(until)}</strong>`
		: `<strong>${escapeHtml(formatTime(date, timeZone))}</strong>, ${relativeTime(date, now)}`;
	return `<p class="deadline">Decide by ${when}. After that the items go on unreviewed to "No Response".</p>`;
}

export function renderReviewPage(options: ReviewPageOptions): string {
	const { title, instructions, items, authenticatedReviewer, until, timeZone, now = new Date() } = options;
	const reviewerField = authenticatedReviewer
		? `<p>Reviewing as <strong>${escapeHtml(authenticatedReviewer)}</strong></p>`
		: `<label for="reviewer">Your name or e-mail</label><input type="text" id="reviewer" name="reviewer" required autocomplete="email" maxlength="320">`;
	const deadline = until ? renderDeadline(until, timeZone, now) : '';
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
