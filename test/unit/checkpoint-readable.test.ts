/**
 * The review page speaks to reviewers (issue #14): the item's own fields first, as text, with the AI's evidence
 * marked; the suggestion and how sure in plain words; large choices; the deadline in the workflow's time zone;
 * the notification names each item; and from version 2 a decided AI result says a person settled it.
 */
import { buildNotification } from '../../nodes/HumanCheckpoint/notify';
import { resolveSubmission } from '../../nodes/HumanCheckpoint/decisions';
import { buildOutputs } from '../../nodes/HumanCheckpoint/outputs';
import { renderReviewPage, toReviewItem } from '../../nodes/HumanCheckpoint/page/page';
import {
	chooseShownFields,
	confidenceInWords,
	fieldsToShowFrom,
	formatTime,
	highlightEvidence,
	relativeTime,
} from '../../nodes/HumanCheckpoint/page/readable';
import { reviewNotificationJsonSchema } from '../../nodes/HumanCheckpoint/notificationSchema';
import { withAiResult } from '../../shared/contract';
import { aiResult } from './checkpoint-fixtures';

/** A support ticket as AI Classify leaves it: subject, text, and the gate's and the AI's own fields. */
function ticket(subject: string, text: string, extra: Parameters<typeof aiResult>[2] = {}): Record<string, unknown> {
	return withAiResult(
		{ id: 7, subject, text, customer: { name: 'ACME' }, gate: { band: 'review' } },
		'classify',
		aiResult('classify', 'billing', { confidence: 0.94, confidenceMethod: 'k-sample', samples: 5, evidence: ['charged twice'], reason: 'a double charge', needsReview: true, reviewReason: 'below threshold', ...extra } as Parameters<typeof aiResult>[2]),
	);
}

const pageOf = (json: Record<string, unknown>, show: string[] | 'auto' = ['subject', 'text'], options: Partial<Parameters<typeof renderReviewPage>[0]> = {}) =>
	renderReviewPage({ title: 'Review tickets', items: [toReviewItem(json, 0, undefined, show)], ...options });

describe('the review page, as a reviewer reads it', () => {
	const json = ticket('Refund for invoice 42', 'I was charged twice for invoice 42.\nPlease refund one.');

	it('shows the named fields first, as text, with the evidence marked, then the suggestion, then the choices', () => {
		const html = pageOf(json);
		const text = html.indexOf('I was <mark>charged twice</mark> for invoice 42.\nPlease refund one.');
		const suggested = html.indexOf('Suggested: <strong>billing</strong>');
		const choice = html.indexOf('name="decision_0" value="approve"');
		const folded = html.indexOf('<summary>Other fields</summary>');
		expect(text).toBeGreaterThan(0);
		expect(suggested).toBeGreaterThan(text);
		expect(choice).toBeGreaterThan(suggested);
		expect(folded).toBeGreaterThan(choice);
		// named by its subject, not "Item 1 (index 0)"; no contract words
		expect(html).toContain('<legend>Refund for invoice 42 <span class="muted">(item 1)</span></legend>');
		for (const engineer of ['index 0', 'ai.classify', 'k-sample', '(classify', 'Item fields']) expect(html).not.toContain(engineer);
		// the shown fields are not repeated in the folded rest, which keeps the others
		const rest = html.slice(folded);
		expect(rest).toContain('ACME');
		expect(rest).not.toContain('charged twice for invoice');
	});

	it('says how sure in plain words, with the reason', () => {
		const html = pageOf(json);
		expect(html).toContain('How sure: high (94%) — measured by agreement across 5 answers');
		expect(html).toContain('Why: a double charge');
		expect(html).toContain('Sent for review because: below threshold');
		expect(confidenceInWords(0.72, 'logprobs')).toBe("medium (72%) — measured by the model's token probabilities");
		expect(confidenceInWords(0.4, 'model-estimate')).toBe("low (40%) — measured by the model's own estimate (least reliable)");
		expect(confidenceInWords(1, 'rule')).toBe('high (100%) — measured by a hard rule');
		expect(confidenceInWords(null, 'none')).toBe('unknown (not measured)');
	});

	it('chooses the item\'s own text fields when none are named, never the package\'s', () => {
		expect(fieldsToShowFrom('  ')).toBe('auto');
		expect(fieldsToShowFrom('subject, customer.name,')).toEqual(['subject', 'customer.name']);
		const withReview = { ...json, review: { comment: 'x' }, audit: 'y', approved: 'z', blob: 'A'.repeat(6000) };
		expect(chooseShownFields(withReview, 'auto').map((f) => f.name)).toEqual(['subject', 'text']);
		// a named record field reaches in; a named field the item lacks is left out
		expect(chooseShownFields(json, ['customer.name', 'missing', 'constructor'])).toEqual([{ name: 'customer.name', text: 'ACME' }]);
		expect(pageOf(json, 'auto')).toContain('<legend>Refund for invoice 42');
	});

	it('falls back to "Item 1" without a field to name it by', () => {
		const html = pageOf(withAiResult({ n: 1 }, 'classify', aiResult('classify', 'billing')), 'auto');
		expect(html).toContain('<legend>Item 1</legend>');
	});

	it('keeps a field\'s <script> and evidence with < escaped, marks included', () => {
		const evil = ticket('<script>alert(1)</script>', 'if a < b && "x" then <b>bold</b>', { evidence: ['a < b', '<b>bold</b>'] });
		const html = pageOf(evil);
		expect(html).not.toMatch(/<script/i);
		expect(html).not.toContain('<b>bold');
		expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
		expect(html).toContain('if <mark>a &lt; b</mark> &amp;&amp; &quot;x&quot; then <mark>&lt;b&gt;bold&lt;/b&gt;</mark>');
	});

	it('marks exact, case-sensitive matches only, each once where quotes overlap', () => {
		expect(highlightEvidence('Charged twice, charged twice', ['charged twice'])).toBe('Charged twice, <mark>charged twice</mark>');
		expect(highlightEvidence('abcdef', ['abcd', 'cdef', ''])).toBe('<mark>abcd</mark><mark>ef</mark>');
		expect(highlightEvidence('no match', ['nothing'])).toBe('no match');
	});

	it('has choices large enough to tap and nothing wider than a phone', () => {
		const html = pageOf(json);
		expect(html).toMatch(/\.choice label\{[^}]*min-height:44px/);
		expect(html).toMatch(/fieldset\{[^}]*min-width:0/);
		expect(html).toMatch(/pre\{[^}]*overflow:auto/);
		expect(html).toMatch(/body\{[^}]*overflow-wrap:anywhere/);
		expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
	});

	it('gives the deadline in the workflow\'s time zone and how far off it is', () => {
		const now = new Date('2026-12-04T11:00:00.000Z');
		const until = '2026-12-04T14:00:00.000Z';
		expect(pageOf(json, 'auto', { until, now })).toContain('Decide by <strong>4 Dec 2026, 14:00 UTC</strong>, in 3 hours.');
		expect(pageOf(json, 'auto', { until, now, timeZone: 'Europe/Berlin' })).toContain('<strong>4 Dec 2026, 15:00 CET (Europe/Berlin)</strong>, in 3 hours.');
		expect(formatTime(new Date(until), 'Not/AZone')).toBe('4 Dec 2026, 14:00 UTC');
		expect(relativeTime(new Date(until), new Date('2026-12-04T13:35:00.000Z'))).toBe('in 25 minutes');
		expect(relativeTime(new Date(until), new Date('2026-12-06T14:00:00.000Z'))).toBe('2 days ago');
	});
});

describe('the notification names each item', () => {
	it('by its first shown field, in the items and the text', () => {
		const items = ['Refund for invoice 42', 'Dashboard returns 502', 'Partner program?', 'Invoice address'].map((subject, i) =>
			toReviewItem(ticket(subject, 'body'), i, undefined, ['subject', 'text']),
		);
		const note = buildNotification('Review tickets', 'https://n8n.example/review', items, new Date('2026-12-04T14:00:00.000Z'), 'Europe/Berlin');
		expect(note.items.map((item) => item.title)).toEqual(['Refund for invoice 42', 'Dashboard returns 502', 'Partner program?', 'Invoice address']);
		expect(note.text).toBe(
			'Review tickets: 4 items waiting for review: “Refund for invoice 42”, “Dashboard returns 502”, “Partner program?” and 1 more (decide by 4 Dec 2026, 15:00 CET (Europe/Berlin)). Open the review page: https://n8n.example/review',
		);
		expect(Object.keys(reviewNotificationJsonSchema.properties.items.items.properties)).toContain('title');
	});
});

describe('version 2: a decided AI result says a person settled it', () => {
	const inputs = [{ json: ticket('a', 'x') }, { json: ticket('b', 'y', { needsReview: false }) }, { json: ticket('c', 'z') }, { json: { plain: true } }];
	const views = inputs.map((item, i) => toReviewItem(item.json, i));
	const review = resolveSubmission(
		{
			reviewer: 'ada@example.com',
			items: [
				{ index: 0, decision: 'approve' },
				{ index: 1, decision: 'reject' },
				{ index: 2, decision: 'approve', edits: 'refund' },
				{ index: 3, decision: 'approve' },
			],
		},
		views,
		'ada@example.com',
	);
	const build = (markReviewed: boolean) => buildOutputs(inputs, review, { keys: views.map((v) => v.key), decidedAt: new Date(), markReviewed });
	const classifyOf = (item: { json: Record<string, unknown> }) => (item.json.ai as Record<string, Record<string, unknown>>).classify;

	it('approved (as is or corrected): needsReview false, reviewedBy the reviewer', () => {
		const [approved, edited] = build(true)[1];
		expect(classifyOf(approved)).toMatchObject({ needsReview: false, reviewedBy: 'ada@example.com', answer: 'billing' });
		expect(classifyOf(edited)).toMatchObject({ needsReview: false, reviewedBy: 'ada@example.com', answer: 'refund' });
		// why it was sent for review stays readable
		expect(classifyOf(approved).reviewReason).toBe('below threshold');
	});

	it('rejected: needsReview true (the answer was refused), reviewedBy the reviewer', () => {
		const [rejected] = build(true)[2];
		expect(classifyOf(rejected)).toMatchObject({ needsReview: true, reviewedBy: 'ada@example.com' });
	});

	it('leaves an item without an AI result and the paused input alone', () => {
		const plain = build(true)[1][2];
		expect(plain.json).toMatchObject({ plain: true, approved: true });
		expect(plain.json.ai).toBeUndefined();
		expect(classifyOf(inputs[0])).not.toHaveProperty('reviewedBy');
		expect(classifyOf(inputs[0]).needsReview).toBe(true);
	});

	it('version 1 keeps the AI result as it was', () => {
		const [approved] = build(false)[1];
		expect(classifyOf(approved).needsReview).toBe(true);
		expect(classifyOf(approved)).not.toHaveProperty('reviewedBy');
	});
});
