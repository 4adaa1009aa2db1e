/**
 * The answers recorded for the sample tickets (examples/data/recorded-answers.json), which `npm run demo`
 * replays without an API key and the e2e suite uses: right for the sample data, with a few unsure ones.
 */
import type { RecordedRequest } from '../provider-server';
import { recordedAnswer, RECORDED_PREFIX } from '../provider-server';
import { DECIDE_OUTPUTS, loadExample, recordedAnswers, recordedRoute, routedAsExpected, sampleTickets } from '../e2e/triage-helpers';

const categories: string[] = loadExample('support-triage.json')
	.nodes.find((n: any) => n.name === 'AI Classify')
	.parameters.categories.category.map((c: any) => c.name);

describe('the recorded answers for the sample tickets', () => {
	it('answer every sample ticket, and only those, with a category of the example and an action it offers', () => {
		expect(Object.keys(recordedAnswers.tickets).sort()).toEqual(sampleTickets.map((t) => t.id).sort());
		expect(recordedAnswers.about).toMatch(/recorded/i);
		for (const [id, { classify, decide }] of Object.entries(recordedAnswers.tickets)) {
			expect({ id, label: categories.includes(classify.label!) }).toEqual({ id, label: true });
			if (decide) expect({ id, action: DECIDE_OUTPUTS.slice(0, 4).includes(decide.action!) }).toEqual({ id, action: true });
		}
	});

	it('quote evidence that occurs word for word in the ticket', () => {
		for (const ticket of sampleTickets) {
			const { classify, decide } = recordedAnswers.tickets[ticket.id];
			const quotes = [...classify.evidence, ...(decide?.evidence ?? [])];
			expect(quotes.length).toBeGreaterThan(0);
			for (const quote of quotes) expect({ id: ticket.id, quote, found: `${ticket.subject}\n\n${ticket.text}`.includes(quote) }).toEqual({ id: ticket.id, quote, found: true });
		}
	});

	it('route at least 90 % of the sample tickets as expected, and send the others to a person', () => {
		const routes = sampleTickets.map((t) => ({ id: t.id, route: recordedRoute(t), expected: t.expected.route }));
		const asExpected = routes.filter((r, i) => routedAsExpected(sampleTickets[i], r.route));
		console.log(`recorded answers: ${asExpected.length} of ${routes.length} sample tickets routed as expected`);
		expect(asExpected.length / routes.length).toBeGreaterThanOrEqual(0.9);
		// no automatic action differs from the expected one: a miss goes to a person (review, reject, escalate)
		for (const r of routes.filter((r, i) => !routedAsExpected(sampleTickets[i], r.route))) expect(r.route).toMatch(/review|reject|escalate/);
	});

	it('include a few genuinely unsure or wrong answers for the gate, the review and the report', () => {
		const unsure = sampleTickets.filter((t) => /review|reject|escalate/.test(recordedRoute(t)));
		expect(unsure.length).toBeGreaterThanOrEqual(4);
		const wrongLabel = sampleTickets.filter((t) => recordedAnswers.tickets[t.id].classify.label !== t.expected.category);
		expect(wrongLabel.length).toBeGreaterThanOrEqual(1);
		// a wrong label is never confident: the gate sends it to a person
		for (const t of wrongLabel) expect(recordedAnswers.tickets[t.id].classify.confidence).toBeLessThan(0.8);
	});

	it('answer the sample leads the model is asked about with the action each expects, except an unsure one', () => {
		const leads: Array<{ id: string; message: string; expected: { action: string } }> = loadExample('data/leads.json');
		const recorded = recordedAnswers.leads ?? {};
		expect(Object.keys(recorded).length).toBeGreaterThanOrEqual(4);
		for (const [id, { decide }] of Object.entries(recorded)) {
			const lead = leads.find((l) => l.id === id)!;
			for (const quote of decide.evidence) expect({ id, quote, found: lead.message.includes(quote) }).toEqual({ id, quote, found: true });
			// the one whose action differs is below AI Decide's threshold (0.7): it escalates to a person
			if (decide.action !== lead.expected.action) expect(decide.confidence).toBeLessThan(0.7);
		}
		expect(Object.values(recorded).filter((r) => r.decide.confidence < 0.7)).toHaveLength(1);
	});

	it('are replayed by the provider server with a reason that says they are recorded', () => {
		const ticket = sampleTickets[0];
		const req = (properties: object) =>
			({ body: { messages: [{ role: 'user', content: `${ticket.subject}\n\n${ticket.text}` }] }, schema: { properties } }) as unknown as RecordedRequest;
		const classify: any = recordedAnswer(req({ label: {} }), recordedAnswers, sampleTickets);
		expect(classify.json).toMatchObject({ label: 'billing', reason: expect.stringMatching(new RegExp(`^${RECORDED_PREFIX}`)) });
		const decide: any = recordedAnswer(req({ action: { enum: DECIDE_OUTPUTS.slice(0, 4) } }), recordedAnswers, sampleTickets);
		expect(decide.json).toMatchObject({ action: 'refund', confidence: 0.92, reason: expect.stringMatching(/^Recorded answer: /) });
		// an action a rule withheld is not answered from the recording
		expect(recordedAnswer(req({ action: { enum: ['reply_with_article'] } }), recordedAnswers, sampleTickets)).toBeUndefined();
		// a lead quoting a ticket's subject word for word is answered as the lead (its longer message wins)
		const leads = loadExample('data/leads.json');
		const lead = leads.find((l: any) => l.id === 'L-303');
		const leadReq = { body: { messages: [{ role: 'user', content: JSON.stringify(lead) }] }, schema: { properties: { action: { enum: ['book_sales_call', 'route_to_partner_team', 'send_to_nurture', 'discard_as_spam'] } } } } as unknown as RecordedRequest;
		expect((recordedAnswer(leadReq, recordedAnswers, [...sampleTickets, ...leads]) as any).json).toMatchObject({ action: 'route_to_partner_team', confidence: 0.9 });
	});
});
