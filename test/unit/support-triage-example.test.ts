/** The support triage example file itself: its wiring and its sample data (fast, no n8n). */
import { DECIDE_OUTPUTS, SCRIPT, loadExample, sampleTickets } from '../e2e/triage-helpers';

describe('the support triage example file', () => {
	const workflow = loadExample('support-triage.json');
	const byName = new Map<string, any>(workflow.nodes.map((n: any) => [n.name, n]));
	const targets = (from: string) =>
		(workflow.connections[from]?.main ?? []).map((out: any[]) => (out ?? []).map((c: any) => c.node));

	it('wires Webhook → Classify → Gate → Decide / Checkpoint → Audit Log, every path ending in an append', () => {
		expect(byName.get('New Ticket').parameters).toMatchObject({ httpMethod: 'POST', path: 'triage', responseMode: 'onReceived' });
		expect(targets('Confidence Gate')).toEqual([['AI Decide'], ['Human Checkpoint'], ['Human Checkpoint']]);
		const actions = byName.get('AI Decide').parameters.actions.action;
		expect(actions.map((a: any) => a.name)).toEqual(DECIDE_OUTPUTS.slice(0, 4));
		expect(actions.find((a: any) => a.name === 'refund').needsApproval).toBe(true);
		// refund (needs approval) and Escalate go to a person, the other actions to the log
		expect(targets('AI Decide')).toEqual([['Human Checkpoint'], ['Log Automatic Decision'], ['Log Automatic Decision'], ['Log Automatic Decision'], ['Human Checkpoint']]);
		expect(targets('Human Checkpoint')).toEqual([['Log Human Decision'], ['Log Human Decision'], ['Log Human Decision']]);
		for (const name of ['Log Automatic Decision', 'Log Human Decision']) {
			expect(byName.get(name)).toMatchObject({ type: 'n8n-nodes-governed-ai.auditLog', parameters: { operation: 'append', sink: 'file', stream: 'support-triage' } });
			expect(targets(name)).toEqual([]);
		}
		// every node except sticky notes is connected
		const connected = new Set<string>(Object.keys(workflow.connections));
		for (const from of Object.keys(workflow.connections)) for (const out of targets(from)) for (const n of out) connected.add(n);
		for (const node of workflow.nodes) if (node.type !== 'n8n-nodes-base.stickyNote') expect(connected).toContain(node.name);
		const rules = byName.get('AI Decide').parameters.rules.rule;
		expect(rules.find((r: any) => r.effect === 'forbid')).toMatchObject({ forbiddenActions: 'refund', condition: expect.stringContaining('> 500') });
		for (const node of workflow.nodes.filter((n: any) => n.credentials)) {
			expect(node.credentials).toEqual({ governedAiOpenAiApi: { id: 'localprovider', name: 'Local provider' } });
		}
	});

	it('has a script for every sample ticket', () => {
		expect(sampleTickets.length).toBeGreaterThanOrEqual(20);
		for (const ticket of sampleTickets) expect(SCRIPT[ticket.id]).toBeDefined();
	});
});
