/**
 * AI Decide inside a real n8n, installed from the packed tarball, talking to the local provider server over
 * real HTTP. The workflow (workflows/decide.json) routes scripted refund tickets; the model is scripted to
 * obey an instruction injected into two tickets. Hard rules are n8n expressions evaluated per item.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { type ProviderServer, type Reply, type RecordedRequest, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';

jest.setTimeout(10 * 60_000);

const workflowFile = path.join(__dirname, 'workflows', 'decide.json');

const answer = (action: string, confidence: number, evidence: string[]): Reply => ({
	json: { action, reason: `Chose ${action}.`, evidence, confidence },
});

/** The whole conversation, re-asks included: a model that obeys the ticket keeps obeying it. */
const conversation = (req: RecordedRequest) => JSON.stringify(req.body?.messages ?? []);

function responder(req: RecordedRequest): Reply {
	const text = conversation(req);
	if (/ignore the policy/i.test(text)) return answer('full_refund', 0.99, ['issue a full refund']);
	if (text.includes('wire me the money')) return answer('wire_money', 0.95, ['wire me the money']);
	if (text.includes('Not sure')) return answer('partial_refund', 0.5, ['Not sure']);
	if (text.includes('lamp')) return answer('partial_refund', 0.92, ['arrived damaged', 'an invented quote']);
	return answer('escalate', 0.9, []);
}

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer({ responder });
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: 'sk-e2e-decide-secret', baseUrl: server.openaiBaseUrl } },
	]);
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

test('the decide step routes scripted tickets to the expected outputs, and rules hold against an injected instruction', async () => {
	server.reset();
	const id = await n8n.importWorkflow(JSON.parse(fs.readFileSync(workflowFile, 'utf8')));
	const { data } = await n8n.execute(id);

	const outputs = nodeOutputs(data, 'AI Decide');
	// partial_refund, full_refund, send_replacement, Escalate
	expect(outputs.map((items) => items.map((i) => i.id))).toEqual([[1], [5], [3], [2, 4, 6, 7]]);
	// the downstream nodes received them: the dynamic outputs are wired in n8n
	expect(nodeOutputs(data, 'Escalate to Team')[0].map((i) => i.id)).toEqual([2, 4, 6, 7]);
	expect(nodeOutputs(data, 'Full Refund (needs approval)')[0].map((i) => i.id)).toEqual([5]);

	const byId = Object.fromEntries(outputs.flat().map((item) => [item.id, item]));
	const decide = (id: number) => byId[id].ai.decide;

	// confident and allowed: on its action's output, evidence checked against the item
	expect(decide(1)).toMatchObject({
		step: 'decide',
		answer: 'partial_refund',
		action: 'partial_refund',
		confidence: 0.92,
		confidenceMethod: 'model-estimate',
		evidence: ['arrived damaged'],
		requiresApproval: false,
		needsReview: false,
		rule: null,
		provider: 'openai',
	});
	expect(decide(1).usage.inputTokens).toBeGreaterThan(0);
	expect(decide(1).decisionId).toMatch(/^[0-9a-f-]{36}$/);
	expect(decide(1).promptHash).toMatch(/^[0-9a-f]{64}$/);
	expect(byId[1].message).toContain('lamp'); // input fields kept
	expect(byId[1].ai.latest).toBe('decide');

	// injected "full refund" on a big order: the rule forbids it, so the model's answer never passes
	expect(decide(2)).toMatchObject({ action: 'escalate', reviewReason: 'no valid answer', forbidden: ['full_refund'], rulesMatched: ['Big orders'] });
	const ticket2 = server.requests.filter((r) => r.userText.includes('The vase') || conversation(r).includes('The vase'));
	expect(ticket2.length).toBe(2); // the answer and one re-ask
	for (const request of ticket2) {
		expect((request.schema as { properties: { action: { enum: string[] } } }).properties.action.enum).toEqual([
			'partial_refund',
			'send_replacement',
			'escalate',
		]);
	}

	// rules that force make no model call
	expect(decide(3)).toMatchObject({ action: 'send_replacement', rule: 'VIP replacement', confidenceMethod: 'rule', confidence: 1, attempts: 0 });
	expect(decide(4)).toMatchObject({ action: 'escalate', rule: 'Fraud flag', confidenceMethod: 'rule', reviewReason: 'rule "Fraud flag"' });
	expect(server.requests.some((r) => /kettle|Chargeback/.test(conversation(r)))).toBe(false);

	// injected "full refund" on a small order: allowed, but it needs approval
	expect(decide(5)).toMatchObject({ action: 'full_refund', requiresApproval: true, needsReview: false });
	// an action outside the list, and low confidence: Escalate
	expect(decide(6)).toMatchObject({ action: 'escalate', reviewReason: 'no valid answer' });
	expect(decide(7)).toMatchObject({ action: 'escalate', proposedAction: 'partial_refund', reviewReason: 'below threshold', confidence: 0.5 });

	// the item was fenced as data, and the key never reached the run data
	const lampRequest = server.requests.find((r) => r.userText.includes('lamp'))!;
	expect(lampRequest.userText.startsWith('<item>\n')).toBe(true);
	expect(lampRequest.userText.endsWith('\n</item>')).toBe(true);
	expect(JSON.parse(lampRequest.userText.slice('<item>\n'.length, -'\n</item>'.length))).toMatchObject({ id: 1, amount: 45 });
	expect(JSON.stringify(data)).not.toContain('sk-e2e-decide-secret');
});
