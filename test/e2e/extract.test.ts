/**
 * The invoice-intake example inside a real n8n, installed from the packed tarball: Webhook → AI Extract →
 * If (large?) → Human Checkpoint → Audit Log. The model is the local provider server over real HTTP; its
 * schema-driven responder reads the `name: value` lines of the scripted invoice e-mails.
 */
import { autoResponder, type ProviderServer, startProviderServer } from '../provider-server';
import { nodeOutputs, sharedN8n, type N8n } from './harness';
import { loadExample, loadExampleAs } from './triage-helpers';

jest.setTimeout(10 * 60_000);

interface Invoice {
	id: string;
	from: string;
	subject: string;
	text: string;
	expected: Record<string, unknown>;
}

const invoices = loadExample('data/invoices.json') as Invoice[];
const SECRET = 'sk-e2e-never-shown-9f3k';
/** The examples with this file's webhook paths and audit stream: examples.test.ts runs them in the same shared n8n. */
const SUFFIX = 'extract';
const INTAKE_PATH = `invoice-intake-${SUFFIX}`;

let server: ProviderServer;
let n8n: N8n;

beforeAll(async () => {
	server = await startProviderServer();
	n8n = await sharedN8n();
	await n8n.importCredentials([
		{ id: 'localprovider', name: 'Local provider', type: 'governedAiOpenAiApi', data: { apiKey: SECRET, baseUrl: server.openaiBaseUrl } },
	]);
	// the checkpoint posts its signed link to the review-links example when it pauses: that one first
	await n8n.activate(await n8n.importWorkflow(loadExampleAs('review-links.json', SUFFIX)));
	await n8n.activate(await n8n.importWorkflow(loadExampleAs('invoice-intake.json', SUFFIX)));
});

afterAll(async () => {
	await n8n?.stop();
	await server?.close();
});

/** The execution started by the e-mail with this id, once it has finished or paused. */
async function executionFor(mailId: string): Promise<any> {
	return await n8n.waitForExecution(
		(e) =>
			['success', 'waiting', 'error'].includes(e.status) &&
			e.data?.resultData?.runData?.['Invoice E-mail']?.[0]?.data?.main?.[0]?.[0]?.json?.body?.id === mailId,
		120_000,
	);
}

/** The status with the run's error, so a failed run says why. */
function outcome(execution: any): { status: string; error: string | undefined } {
	const error = execution.data?.resultData?.error;
	return { status: execution.status, error: error ? `${error.node?.name ?? ''}: ${error.message}` : undefined };
}

async function post(invoice: Omit<Invoice, 'expected'>) {
	let res = await n8n.webhook(INTAKE_PATH, invoice);
	// n8n 2.x registers a published workflow's webhooks shortly after the API call returns
	for (let i = 0; res.status === 404 && i < 40; i++) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		res = await n8n.webhook(INTAKE_PATH, invoice);
	}
	if (res.status !== 200) throw new Error(`webhook: HTTP ${res.status} ${await res.text()}\n${n8n.logs().slice(-6000)}`);
}

test('the invoice-intake example extracts the scripted invoices and routes them', async () => {
	server.reset();
	server.setResponder(autoResponder);
	for (const { expected: _expected, ...mail } of invoices) await post(mail);

	for (const invoice of invoices) {
		const execution = await executionFor(invoice.id);
		const [extracted, review] = nodeOutputs(execution, 'AI Extract');
		const item = extracted[0] ?? review[0];
		const result = item.ai.extract;
		expect({ id: invoice.id, data: result.data }).toEqual({ id: invoice.id, data: invoice.expected });
		// every value that was found has a quote that occurs in the e-mail
		for (const [name, field] of Object.entries(result.fields as Record<string, any>)) {
			if (field.value === null) continue;
			expect({ name, supported: field.supported }).toEqual({ name, supported: true });
			expect(invoice.text).toContain(field.quote);
		}
		expect(result.confidenceMethod).toBe('evidence+estimate');
		expect(result.provider).toBe('openai');
		expect(result.usage.inputTokens).toBeGreaterThan(0);
		expect(result.promptHash).toMatch(/^[0-9a-f]{64}$/);
		expect(item.body.subject).toBe(invoice.subject);

		const total = invoice.expected.total as number;
		if (invoice.expected.invoice_number === null) {
			// a required field is missing: Needs Review, then the Human Checkpoint waits for a person
			expect(review).toHaveLength(1);
			expect(result.missing).toEqual(['invoice_number']);
			expect(outcome(execution)).toEqual({ status: 'waiting', error: undefined });
			expect(execution.data.resultData.lastNodeExecuted).toBe('Human Checkpoint');
		} else if (total > 5000) {
			expect(extracted).toHaveLength(1);
			expect(nodeOutputs(execution, 'Large Invoice?')[0]).toHaveLength(1);
			expect(outcome(execution)).toEqual({ status: 'waiting', error: undefined });
			expect(execution.data.resultData.lastNodeExecuted).toBe('Human Checkpoint');
		} else {
			expect(extracted).toHaveLength(1);
			expect(result.needsReview).toBe(false);
			expect(outcome(execution)).toEqual({ status: 'success', error: undefined });
			const [logged] = nodeOutputs(execution, 'Audit Log');
			expect(logged[0].audit.recordId).toEqual(expect.any(String));
			expect(logged[0].ai.extract.data.total).toBe(total);
		}
		expect(JSON.stringify(execution)).not.toContain(SECRET);
	}
	expect(server.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(invoices.length);
});

test('a fabricated total is flagged and sent to review inside n8n', async () => {
	server.reset();
	const mail = { id: 'mail-2001', from: 'x@example.com', subject: 'Invoice', text: 'Invoice number: Q-1\nSupplier: Quill & Co\nTotal: 120.00 EUR' };
	server.setResponder(() => ({
		json: {
			invoice_number: { value: 'Q-1', quote: 'Invoice number: Q-1', confidence: 0.9 },
			supplier: { value: 'Quill & Co', quote: 'Supplier: Quill & Co', confidence: 0.9 },
			// the model "remembers" a different total and cites words that are not in the e-mail
			total: { value: 12000, quote: 'Total: 12,000.00 EUR', confidence: 0.95 },
			currency: { value: 'EUR', quote: '120.00 EUR', confidence: 0.9 },
			due_date: { value: null, quote: '', confidence: 0.2 },
		},
	}));
	await post(mail);
	const execution = await executionFor(mail.id);
	const [extracted, review] = nodeOutputs(execution, 'AI Extract');
	expect(extracted).toHaveLength(0);
	expect(review).toHaveLength(1);
	const result = review[0].ai.extract;
	expect(result.fields.total).toMatchObject({ value: 12000, supported: false, confidence: 0, problem: 'the quote does not occur in the text' });
	expect(result.reviewReason).toBe('unsupported value: total');
	expect(execution.data.resultData.lastNodeExecuted).toBe('Human Checkpoint');
});
