/**
 * `npm run demo`: a local n8n at http://localhost:5678 with this package installed from its npm pack, the
 * examples imported, and the example workflows run on the sample data, printing where each item went.
 * Without ANTHROPIC_API_KEY / OPENAI_API_KEY the bundled local provider server replays the answers recorded per
 * sample ticket and lead (examples/data/recorded-answers.json); the invoices get its scripted extraction.
 * Each ticket's route and each lead's action is compared with what its sample expects (`expected`).
 * Run through scripts/demo.sh (which builds, installs n8n once, and loads this file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { REPO_ROOT, nodeOutputs, startN8n, type N8n } from '../test/e2e/harness';
import { routedAsExpected, routeOf, type Ticket } from '../test/e2e/triage-helpers';

const PORT = Number(process.env.DEMO_PORT ?? 5678);
const USER_FOLDER = path.join(REPO_ROOT, '.cache', 'demo', 'n8n');
const OWNER = { email: 'demo@example.com', password: 'Governed-AI-demo-1', firstName: 'Demo', lastName: 'Owner' };
const EXAMPLES = path.join(REPO_ROOT, 'examples');
const PROVIDER_CLI = path.join(REPO_ROOT, 'test', 'provider-server', 'cli.ts');
const RECORDED_ANSWERS = path.join(EXAMPLES, 'data', 'recorded-answers.json');
const RECORDED_SAMPLES = ['tickets.json', 'leads.json'].map((f) => path.join(EXAMPLES, 'data', f)).join(',');
/** Credential ids the example workflows refer to. */
const OPENAI_CREDENTIAL = { id: 'localprovider', name: 'Local provider' };
const ANTHROPIC_CREDENTIAL = { id: 'localanthropic', name: 'Local provider (Anthropic)' };

/** Which example runs on which sample file (first match of each). */
const SAMPLE_RUNS = [
	{ example: /triage/i, data: /ticket/i, what: 'ticket' },
	{ example: /invoice/i, data: /invoice/i, what: 'invoice' },
	{ example: /lead/i, data: /lead/i, what: 'lead' },
];

type Provider = { kind: 'openai' | 'anthropic'; scripted: boolean; url?: string; stop?: () => void };

function log(line = '') {
	process.stdout.write(`${line}\n`);
}

async function startProvider(): Promise<Provider> {
	if (process.env.OPENAI_API_KEY) return { kind: 'openai', scripted: false };
	if (process.env.ANTHROPIC_API_KEY) return { kind: 'anthropic', scripted: false };
	if (!fs.existsSync(PROVIDER_CLI)) {
		throw new Error(`no provider: set OPENAI_API_KEY or ANTHROPIC_API_KEY, or add the local provider server (${PROVIDER_CLI})`);
	}
	const child: ChildProcess = spawn(process.execPath, ['-r', path.join(__dirname, 'register-ts.js'), PROVIDER_CLI, '--port', '0', '--latency-ms', '150', '--recorded', RECORDED_ANSWERS, '--samples', RECORDED_SAMPLES], {
		cwd: REPO_ROOT,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const url = await new Promise<string>((resolve, reject) => {
		const lines = readline.createInterface({ input: child.stdout! });
		lines.on('line', (line) => {
			const match = /^PROVIDER_SERVER_URL=(\S+)/.exec(line);
			if (match) resolve(match[1]);
		});
		child.on('exit', (code) => reject(new Error(`the local provider server exited (code ${code}) before printing its URL`)));
		setTimeout(() => reject(new Error('the local provider server did not print PROVIDER_SERVER_URL within 30 s')), 30_000).unref();
	});
	return { kind: 'openai', scripted: true, url, stop: () => child.kill('SIGTERM') };
}

function credentialsFor(provider: Provider) {
	if (provider.scripted) {
		return [
			{ ...OPENAI_CREDENTIAL, type: 'governedAiOpenAiApi', data: { apiKey: 'demo-key', baseUrl: `${provider.url}/v1` } },
			{ ...ANTHROPIC_CREDENTIAL, type: 'governedAiAnthropicApi', data: { apiKey: 'demo-key', baseUrl: provider.url } },
		];
	}
	if (provider.kind === 'openai') {
		return [{ ...OPENAI_CREDENTIAL, type: 'governedAiOpenAiApi', data: { apiKey: process.env.OPENAI_API_KEY!, baseUrl: 'https://api.openai.com/v1' } }];
	}
	return [{ ...ANTHROPIC_CREDENTIAL, type: 'governedAiAnthropicApi', data: { apiKey: process.env.ANTHROPIC_API_KEY!, baseUrl: 'https://api.anthropic.com' } }];
}

/** With only an Anthropic key, the examples' OpenAI steps are switched to Anthropic (default model). */
function adaptToProvider(workflow: any, provider: Provider) {
	if (provider.kind !== 'anthropic') return workflow;
	for (const node of workflow.nodes ?? []) {
		if (!node.credentials?.governedAiOpenAiApi) continue;
		node.parameters = { ...node.parameters, provider: 'anthropic' };
		delete node.parameters.model;
		delete node.credentials.governedAiOpenAiApi;
		node.credentials.governedAiAnthropicApi = ANTHROPIC_CREDENTIAL;
	}
	return workflow;
}

function stableId(file: string): string {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
	return Array.from(createHash('sha256').update(`demo:${file}`).digest().subarray(0, 16), (b) => alphabet[b % alphabet.length]).join('');
}

function isActivatable(workflow: any): boolean {
	// Anything started by something other than a person clicking (webhook, schedule, …) is activated.
	return (workflow.nodes ?? []).some(
		(n: any) => /trigger|webhook/i.test(n.type) && n.type !== 'n8n-nodes-base.manualTrigger' && !n.disabled,
	);
}

function webhookPath(workflow: any): string | undefined {
	return workflow.nodes?.find((n: any) => n.type === 'n8n-nodes-base.webhook')?.parameters?.path;
}

/** The name of a node's output, as the editor shows it, from the node's parameters. */
function outputName(node: any, index: number): string {
	const p = node?.parameters ?? {};
	const type = String(node?.type ?? '').replace(/^n8n-nodes-governed-ai\./, '');
	const named: Record<string, () => string[]> = {
		aiClassify: () => (p.routing === 'single' ? ['Classified'] : [...(p.categories?.category ?? []).map((c: any) => c.name), 'Needs Review']),
		aiExtract: () => ['Extracted', 'Needs Review'],
		aiDecide: () => [...(p.actions?.action ?? []).map((a: any) => a.name), 'Escalate'],
		confidenceGate: () => ['Auto', 'Review', 'Reject'],
		humanCheckpoint: () => ['No Response', 'Approved', 'Rejected'],
		'n8n-nodes-base.if': () => ['true', 'false'],
	};
	return named[type]?.()[index] ?? `output ${index}`;
}

/** "AI Classify → billing (0.93)" style summary of what the run did with one item. */
function describeRoute(execution: any, workflow: any): string {
	const runData = execution?.data?.resultData?.runData ?? {};
	const order = Object.entries(runData)
		.map(([name, runs]: [string, any]) => ({ name, index: runs[0]?.executionIndex ?? 0 }))
		.sort((a, b) => a.index - b.index);
	const steps: string[] = [];
	let last: any;
	for (const { name } of order) {
		let outputs: any[][];
		try {
			outputs = nodeOutputs(runData, name);
		} catch {
			steps.push(`${name} (failed)`);
			continue;
		}
		const used = outputs.map((items, i) => (items.length ? i : -1)).filter((i) => i >= 0);
		const node = workflow.nodes?.find((n: any) => n.name === name);
		if (outputs.length > 1 && used.length) steps.push(`${name} [${used.map((i) => outputName(node, i)).join(', ')}]`);
		else steps.push(name);
		for (const items of outputs) if (items.length) last = items[0];
	}
	const facts: string[] = [];
	for (const [key, result] of Object.entries<any>(last?.ai ?? {})) {
		if (key === 'latest' || !result || typeof result !== 'object') continue;
		const answer = typeof result.answer === 'object' ? JSON.stringify(result.answer) : String(result.answer);
		const confidence = typeof result.confidence === 'number' ? ` (confidence ${result.confidence.toFixed(2)}, ${result.confidenceMethod})` : '';
		facts.push(`${key}: ${answer.slice(0, 120)}${confidence}`);
	}
	if (last?.gate) facts.push(`gate: ${last.gate.band}${last.gate.sampled ? ' (audit sample)' : ''}`);
	if (last?.review) facts.push(`review: ${last.review.decision}`);
	if (last?.audit) facts.push(`audit #${last.audit.sequence} in stream "${last.audit.stream}"`);
	const status = execution.status === 'waiting' ? ' — WAITING for a person (see Executions in the editor)' : execution.status !== 'success' ? ` — ${execution.status}` : '';
	return `${steps.join(' → ')}${status}\n      ${facts.join('; ') || '(no AI result on the item)'}`;
}

/** Where a sample went: a ticket's route through the triage example, or the action AI Decide chose for a lead. */
function routeTaken(execution: any, workflow: any, sample: any): string {
	try {
		if (sample.expected?.route) return routeOf(execution);
		const decide = workflow.nodes.find((n: any) => n.type === 'n8n-nodes-governed-ai.aiDecide');
		const used = nodeOutputs(execution?.data?.resultData?.runData ?? {}, decide.name).findIndex((items) => items.length > 0);
		return outputName(decide, used).toLowerCase();
	} catch {
		return `(no route: ${execution.status})`;
	}
}

/** "✓ route auto → refund, as expected" or "✗ …, expected …" for one sample, counted in `checked`. */
function checkRoute(execution: any, workflow: any, sample: any, checked: { asExpected: number; toPerson: number; of: number }): string {
	const route = routeTaken(execution, workflow, sample);
	const expected: string = sample.expected.route ?? sample.expected.action;
	checked.of++;
	if (sample.expected.route ? routedAsExpected(sample as Ticket, route) : route === expected) {
		checked.asExpected++;
		const sampled = route === 'review (sampled)' ? ' (a confident answer drawn for the audit sample: a person checks it)' : '';
		return `✓ route ${route}, as expected${sampled}`;
	}
	const toPerson = /review|reject|escalate/.test(route);
	if (toPerson) checked.toPerson++;
	return `✗ route ${route}, expected ${expected}${toPerson ? ' (not acted on: a person decides)' : ''}`;
}

async function runSamples(n8n: N8n, imported: Array<{ file: string; id: string; workflow: any }>) {
	const dataDir = path.join(EXAMPLES, 'data');
	const dataFiles = fs.existsSync(dataDir) ? fs.readdirSync(dataDir).filter((f) => f.endsWith('.json')) : [];
	let ran = 0;
	for (const run of SAMPLE_RUNS) {
		const example = imported.find((w) => run.example.test(w.file));
		const dataFile = dataFiles.find((f) => run.data.test(f));
		const hook = example && webhookPath(example.workflow);
		if (!example || !dataFile || !hook) continue;
		const samples: any[] = JSON.parse(fs.readFileSync(path.join(dataDir, dataFile), 'utf8'));
		log(`\n▶ ${example.workflow.name}: ${samples.length} sample ${run.what}s from examples/data/${dataFile}`);
		// the triage example's routes and the lead routing's actions are compared with what each sample expects
		const checked = run.what === 'ticket' || run.what === 'lead' ? { asExpected: 0, toPerson: 0, of: 0 } : undefined;
		for (const [i, sample] of samples.entries()) {
			const before = new Set((await n8n.executions(example.id)).map((e) => e.id));
			const res = await n8n.webhook(hook, sample);
			if (!res.ok) {
				log(`  ${i + 1}. ${sample.id ?? ''} HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
				continue;
			}
			const execution = await n8n.waitForExecution(
				(e) => e.workflowId === example.id && !before.has(e.id) && (e.finished || ['success', 'error', 'waiting', 'crashed'].includes(e.status)),
				120_000,
			);
			const label = sample.subject ?? sample.title ?? sample.company ?? sample.text ?? sample.body ?? sample.message ?? '';
			log(`  ${i + 1}. ${sample.id ? `${sample.id} ` : ''}"${String(label).slice(0, 70)}"`);
			log(`      ${describeRoute(execution, example.workflow)}`);
			if (checked && sample.expected) log(`      ${checkRoute(execution, example.workflow, sample, checked)}`);
		}
		if (checked?.of) {
			log(`\n  ${checked.asExpected} of ${checked.of} ${run.what}s routed as expected` +
				(checked.of > checked.asExpected ? `; of the other ${checked.of - checked.asExpected}, ${checked.toPerson} went to a person (review, reject or escalate)` : '') + '.');
		}
		ran++;
	}
	if (!ran) log('\n(no example with sample data to run yet: examples/*triage*.json + examples/data/*ticket*.json)');
}

async function main() {
	const provider = await startProvider();
	let n8n: N8n | undefined;
	const shutdown = async (code: number) => {
		log('\nStopping n8n …');
		await n8n?.stop();
		provider.stop?.();
		process.exit(code);
	};
	process.on('SIGINT', () => void shutdown(0));
	process.on('SIGTERM', () => void shutdown(0));

	log(provider.scripted
		? `Provider: the bundled local provider server at ${provider.url} — NO MODEL IS CALLED. It replays the answers RECORDED per sample ticket and lead in examples/data/recorded-answers.json (written in advance to show what a good model answers, a few deliberately unsure); the invoices get its SCRIPTED extraction (read from the "Label: value" lines). Set OPENAI_API_KEY or ANTHROPIC_API_KEY for a real model.`
		: `Provider: the real ${provider.kind === 'openai' ? 'OpenAI' : 'Anthropic'} API (your API key; calls cost money).`);
	log(`Starting n8n on http://localhost:${PORT} (user folder ${path.relative(REPO_ROOT, USER_FOLDER)}) …`);
	try {
		n8n = await startN8n({ port: PORT, userFolder: USER_FOLDER, owner: OWNER, publicUrl: `http://localhost:${PORT}/` });
	} catch (error) {
		provider.stop?.();
		throw error;
	}

	await n8n.importCredentials(credentialsFor(provider));
	const files = fs.existsSync(EXAMPLES) ? fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort() : [];
	const imported: Array<{ file: string; id: string; workflow: any }> = [];
	for (const file of files) {
		const workflow = adaptToProvider(JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')), provider);
		// A stable id per file: a second demo run updates its workflows instead of adding copies whose
		// webhook paths would clash with the first ones.
		workflow.id ??= stableId(file);
		try {
			const id = await n8n.importWorkflow(workflow);
			if (isActivatable(workflow)) await n8n.activate(id);
			imported.push({ file, id, workflow });
			log(`  imported examples/${file} → "${workflow.name}"${isActivatable(workflow) ? ' (active)' : ''}`);
		} catch (error) {
			log(`  could not import/activate examples/${file}: ${(error as Error).message.split('\n')[0]}`);
		}
	}
	await runSamples(n8n, imported);

	log(`
────────────────────────────────────────────────────────────────
 n8n editor:  http://localhost:${PORT}
 log in:      ${OWNER.email} / ${OWNER.password}
 audit log:   ${path.relative(REPO_ROOT, path.join(USER_FOLDER, '.n8n', 'governed-ai-audit'))}/<stream>.jsonl (File sink default)
 ${provider.scripted ? 'answers:     RECORDED per sample ticket and lead (examples/data/recorded-answers.json), scripted for invoices; no real model' : `answers:     real ${provider.kind} model`}
 Ctrl-C stops n8n${provider.scripted ? ' and the provider server' : ''}.
────────────────────────────────────────────────────────────────`);
	// Keep running until Ctrl-C (the handlers above stop everything).
	await new Promise(() => undefined);
}

main().catch((error) => {
	process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
	process.exit(1);
});
