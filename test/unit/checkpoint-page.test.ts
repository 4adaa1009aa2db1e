import { escapeHtml, renderMessagePage, renderReviewPage, toReviewItem, REVIEW_PAGE_CSP } from '../../nodes/HumanCheckpoint/page/page';
import { withAiResult } from '../../shared/contract';
import { aiResult, classifiedItem, extractedItem } from './checkpoint-fixtures';

const EVIL = `<script>alert("x")</script><img src=x onerror='y'>&amp;`;

describe('review page', () => {
	it('escapes the five HTML-special characters', () => {
		expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
	});

	it('escapes every piece of item text, the title and the instructions', () => {
		const json = withAiResult({ note: EVIL, [EVIL]: 1 }, 'classify', aiResult('classify', EVIL, { reason: EVIL, evidence: [EVIL], needsReview: true, reviewReason: EVIL }));
		const html = renderReviewPage({ title: EVIL, instructions: EVIL, items: [toReviewItem(json, 0)], until: EVIL });
		expect(html).not.toContain('<script>');
		expect(html).not.toContain('<img');
		expect(html).not.toMatch(/onerror='/);
		// the text is still there, escaped
		expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
		expect(html).toContain('&amp;amp;');
	});

	it('cannot be broken out of by an answer that closes the textarea or the input', () => {
		const closing = withAiResult({}, 'extract', aiResult('extract', { x: '</textarea><script>1</script>' }));
		const quoting = classifiedItem('t', `" autofocus onfocus="alert(1)`);
		const html = renderReviewPage({ title: 't', items: [toReviewItem(closing, 0), toReviewItem(quoting, 1)] });
		// one answer textarea and two comment textareas: the answer's own </textarea> is escaped
		expect(html.match(/<\/textarea>/g)).toHaveLength(3);
		expect(html).toContain('value="&quot; autofocus onfocus=&quot;alert(1)"');
		expect(html).not.toContain(`onfocus="alert`);
	});

	it('shows each item with its AI result and a decision, answer and comment field', () => {
		const items = [classifiedItem('refund please', 'billing'), extractedItem({ total: 12.5, currency: 'EUR' })];
		const html = renderReviewPage({ title: 'Check', items: items.map((json, i) => toReviewItem(json, i)) });
		for (const i of [0, 1]) {
			expect(html).toContain(`name="decision_${i}" value="approve" required`);
			expect(html).toContain(`name="decision_${i}" value="reject"`);
			expect(html).toContain(`name="comment_${i}"`);
		}
		expect(html).toContain('<input type="text" id="answer_0" name="answer_0" value="billing">');
		expect(html).toMatch(/<textarea id="answer_1" name="answer_1"[^>]*>\{\n {2}&quot;total&quot;: 12.5,/);
		expect(html).toContain('72%');
		// the method in plain words (it read "(logprobs)" before issue #14)
		expect(html).toContain('measured by the model&#39;s token probabilities');
		expect(html).toContain('please refund invoice 42');
		expect(html).toContain('name="reviewer"');
		// posts back to the signed URL it came from
		expect(html).toMatch(/<form method="post"(?![^>]*action)/);
		expect(html).not.toMatch(/<script/i);
	});

	it('shows an item without an AI result without an answer editor', () => {
		const html = renderReviewPage({ title: 't', items: [toReviewItem({ plain: true }, 0)] });
		expect(html).toContain('none on this item');
		expect(html).not.toContain('name="answer_0"');
	});

	it('names the signed-in reviewer instead of asking', () => {
		const html = renderReviewPage({ title: 't', items: [toReviewItem(classifiedItem('a', 'b'), 0)], authenticatedReviewer: '<ada>' });
		expect(html).toContain('Reviewing as <strong>&lt;ada&gt;</strong>');
		expect(html).not.toContain('name="reviewer"');
	});

	it('reads a named result when a key is given, the latest otherwise', () => {
		const both = withAiResult(classifiedItem('x', 'billing'), 'extract', aiResult('extract', { a: 1 }));
		expect(toReviewItem(both, 0).key).toBe('extract');
		expect(toReviewItem(both, 0, 'classify')).toMatchObject({ key: 'classify', answer: 'billing' });
		expect(toReviewItem(both, 0, 'missing').key).toBeUndefined();
		expect(toReviewItem(both, 0).fields).toEqual({ ticket: 'x', customer: 'ACME' });
	});

	it('escapes message pages and forbids scripts through the CSP', () => {
		expect(renderMessagePage('<b>', '<i>')).toContain('&lt;b&gt;');
		expect(REVIEW_PAGE_CSP).toContain("default-src 'none'");
		expect(REVIEW_PAGE_CSP).not.toContain('script-src');
	});
});
