/**
 * Issue #19: installed the way users install it. The package, packed as a maintainer publishes it (a plain
 * `npm pack`), is published to a real npm registry (Verdaccio, on loopback, see ./registry.ts) and installed
 * into an n8n that has nothing of ours through the REST calls n8n's Settings → Community Nodes screen makes:
 * install, run a workflow with the nodes; publish a patch version, see it offered, update; uninstall, and a
 * workflow that used the nodes is n8n's missing-node case while everything else keeps working (in the
 * editor too); then installed again by clicking through Settings → Community Nodes in Chromium.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { DEFAULT_OWNER, N8nExecutionError, nodeOutputs, packedTarball, REPO_ROOT, startN8nWithoutPackage, type N8n } from './harness';
import { manualSetWorkflow } from './harness-workflows';
import { launchBrowser, type GovernedBrowser } from './browser';
import { registryFront, startVerdaccio, type RegistryFront, type Verdaccio } from './registry';

jest.setTimeout(15 * 60_000);

const PACKAGE = 'n8n-nodes-governed-ai';
/** Every node the package's `n8n` block names, as n8n types them (class name with a lower-case first letter). */
const NODE_TYPES = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } }).n8n.nodes.map((file) => {
	const name = path.basename(file, '.node.js');
	return `${PACKAGE}.${name[0].toLowerCase()}${name.slice(1)}`;
});

let verdaccio: Verdaccio;
let front: RegistryFront;
let n8n: N8n;
let tarball: string;
let version: string;
let rest: (method: string, urlPath: string, body?: unknown) => Promise<{ status: number; json: any; text: string }>;
const timings: string[] = [];
let gateWorkflowId: string;
let browser: GovernedBrowser | undefined;

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
	const started = Date.now();
	try {
		return await work();
	} finally {
		timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
	}
}

/** The same package under another version, as `npm version patch && npm publish` would publish it. */
function withVersion(tgz: string, newVersion: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-patch-'));
	execFileSync('tar', ['-xzf', tgz, '-C', dir]);
	const pkgFile = path.join(dir, 'package', 'package.json');
	const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
	pkg.version = newVersion;
	fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
	const out = path.join(dir, `${PACKAGE}-${newVersion}.tgz`);
	execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
	return out;
}

function gateWorkflow() {
	const node = (name: string, type: string, typeVersion: number, parameters: object) => ({ id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters });
	return {
		name: `registry gate ${randomUUID().slice(0, 8)}`,
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Scores', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: JSON.stringify({ scores: [0.95, 0.6, 0.1] }), options: {} }),
			node('Split', 'n8n-nodes-base.splitOut', 1, { fieldToSplitOut: 'scores', options: {} }),
			node('Gate', `${PACKAGE}.confidenceGate`, 1, { source: 'expression', confidence: '={{ $json.scores }}', label: 'score', high: 0.9, low: 0.5 }),
		],
		connections: {
			Start: { main: [[{ node: 'Scores', type: 'main', index: 0 }]] },
			Scores: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: { main: [[{ node: 'Gate', type: 'main', index: 0 }]] },
		},
	};
}

async function expectGateRuns() {
	const { data } = await n8n.execute(gateWorkflowId);
	const [auto, review, reject] = nodeOutputs(data, 'Gate');
	expect([auto.length, review.length, reject.length]).toEqual([1, 1, 1]);
	expect(auto[0].scores).toBe(0.95);
}

beforeAll(async () => {
	tarball = await timed('npm pack (as published)', () => packedTarball());
	version = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })).version;
	verdaccio = await timed('Verdaccio start', () => startVerdaccio());
	await timed('npm publish', () => verdaccio.publish(tarball));
	front = await registryFront(verdaccio);
	n8n = await timed('n8n start (no community package)', () => startN8nWithoutPackage({ env: front.env }));

	const browserId = randomUUID();
	const login = await fetch(`${n8n.baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'browser-id': browserId },
		body: JSON.stringify({ emailOrLdapLoginId: DEFAULT_OWNER.email, password: DEFAULT_OWNER.password }),
	});
	if (login.status !== 200) throw new Error(`login: HTTP ${login.status} ${await login.text()}`);
	const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('n8n-auth='))!;
	rest = async (method, urlPath, body) => {
		const res = await fetch(`${n8n.baseUrl}/rest${urlPath}`, {
			method,
			headers: { cookie, 'browser-id': browserId, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		let json: any;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		return { status: res.status, json, text };
	};
});

afterAll(async () => {
	console.log(`[registry] timings: ${timings.join(', ')}`);
	await browser?.close();
	await n8n?.stop();
	await front?.stop();
	await verdaccio?.stop();
});

const failure = (what: string, res: { status: number; text: string }) =>
	`${what}: HTTP ${res.status} ${res.text.slice(0, 2000)}\n--- n8n\n${n8n.logs().slice(-8000)}\n--- front served ${front.served.join(', ')}; refused ${front.refused.join(', ')}`;

test('n8n starts with no community package; the screen installs ours from the registry, its nodes load and a workflow runs', async () => {
	const before = await rest('GET', '/community-packages');
	expect(before.json?.data).toEqual([]);
	expect(fs.existsSync(path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE))).toBe(false);

	// What the screen's Install dialog sends for a package typed by name (unverified: no checksum).
	const res = await timed('install through POST /rest/community-packages', () => rest('POST', '/community-packages', { name: PACKAGE }));
	if (res.status !== 200) throw new Error(failure('install', res));
	const installed = res.json.data;
	expect(installed.packageName).toBe(PACKAGE);
	expect(installed.installedVersion).toBe(version);
	expect(installed.installedNodes.map((n: any) => n.type).sort()).toEqual([...NODE_TYPES].sort());
	// It came from the registry: n8n's npm asked registry.npmjs.org (served by Verdaccio) for ours and its dependencies.
	expect(front.served).toEqual(expect.arrayContaining([`GET /${PACKAGE}`, expect.stringMatching(new RegExp(`^GET /${PACKAGE}/-/${PACKAGE}-${version}\\.tgz`))]));
	expect(front.served.some((s) => s.startsWith('GET /@anthropic-ai%2fsdk') || s.startsWith('GET /@anthropic-ai/sdk'))).toBe(true);

	const list = await rest('GET', '/community-packages');
	expect(list.json.data).toEqual([expect.objectContaining({ packageName: PACKAGE, installedVersion: version, failedLoading: false })]);

	gateWorkflowId = await n8n.importWorkflow(gateWorkflow());
	await timed('workflow run after install', () => expectGateRuns());
});

test('a patch version published to the registry is offered on the screen and the update installs it', async () => {
	const [major, minor, patch] = version.split('.').map(Number);
	const next = `${major}.${minor}.${patch + 1}`;
	await verdaccio.publish(withVersion(tarball, next));

	const list = await timed('update check (GET /rest/community-packages)', () => rest('GET', '/community-packages'));
	expect(list.json.data).toEqual([expect.objectContaining({ packageName: PACKAGE, installedVersion: version, updateAvailable: next })]);

	// The screen's Update button.
	const res = await timed('update through PATCH /rest/community-packages', () => rest('PATCH', '/community-packages', { name: PACKAGE, version: next }));
	if (res.status !== 200) throw new Error(failure('update', res));
	expect(res.json.data).toEqual(expect.objectContaining({ packageName: PACKAGE, installedVersion: next }));
	const onDisk = JSON.parse(fs.readFileSync(path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE, 'package.json'), 'utf8'));
	expect(onDisk.version).toBe(next);
	const after = await rest('GET', '/community-packages');
	expect(after.json.data).toEqual([expect.objectContaining({ installedVersion: next, failedLoading: false })]);
	expect(after.json.data[0].updateAvailable).toBeUndefined();
	await expectGateRuns();
});

test('after the uninstall a workflow that used the nodes is n8n\'s missing-node case, and nothing else breaks', async () => {
	const res = await timed('uninstall through DELETE /rest/community-packages', () => rest('DELETE', `/community-packages?name=${PACKAGE}`));
	if (res.status !== 200) throw new Error(failure('uninstall', res));
	expect((await rest('GET', '/community-packages')).json.data).toEqual([]);
	expect(fs.existsSync(path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE))).toBe(false);

	// The workflow is still there, whole: the editor opens it with its nodes (shown as not installed).
	const wf = await rest('GET', `/workflows/${gateWorkflowId}`);
	expect(wf.status).toBe(200);
	const gate = wf.json.data.nodes.find((n: any) => n.name === 'Gate');
	expect(gate).toEqual(expect.objectContaining({ type: `${PACKAGE}.confidenceGate`, parameters: expect.objectContaining({ high: 0.9, low: 0.5 }) }));
	// Running it fails on the missing node by its type, not on anything else.
	const error = await n8n.execute(gateWorkflowId).then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(N8nExecutionError);
	expect(String((error as Error).message)).toMatch(new RegExp(`${PACKAGE}\\.confidenceGate`));

	// Everything else keeps working.
	const otherId = await n8n.importWorkflow(manualSetWorkflow('registry: after the uninstall'));
	const { data } = await n8n.execute(otherId);
	expect(nodeOutputs(data, 'Set')[0].length).toBeGreaterThan(0);
	expect((await fetch(`${n8n.baseUrl}/healthz/readiness`)).status).toBe(200);
	expect((await rest('GET', '/workflows')).status).toBe(200);
});

test('in the editor the uninstalled node is n8n\'s "not installed" node; clicking through Settings → Community Nodes installs the package again', async () => {
	browser = await launchBrowser();
	const page = await browser.signedInPage(n8n);

	// The workflow opens; its Gate is the node n8n says is not installed, naming our package.
	await page.goto(`${n8n.baseUrl}/workflow/${gateWorkflowId}`);
	const gate = page.getByTestId('canvas-node').filter({ hasText: 'Gate' });
	await gate.dblclick();
	await page.getByText('This node is not currently installed', { exact: false }).first().waitFor();
	await page.getByText(PACKAGE, { exact: false }).first().waitFor();
	await browser.screenshot(page, 'registry-missing-node');
	await page.keyboard.press('Escape');

	// Settings → Community Nodes → Install a community node → name, the risk checkbox, Install.
	await page.goto(`${n8n.baseUrl}/settings/community-nodes`);
	await page.getByRole('button', { name: 'Install a community node' }).click();
	const dialog = page.getByRole('dialog').filter({ hasText: 'Install community nodes' });
	await dialog.getByPlaceholder('e.g. n8n-nodes-chatwork').fill(PACKAGE);
	await dialog.getByText('I understand the risks of installing unverified code from a public source.').click();
	await timed('install by clicking through the screen', async () => {
		await dialog.getByRole('button', { name: 'Install', exact: true }).click();
		await page.getByTestId('community-package-card').filter({ hasText: PACKAGE }).first().waitFor({ timeout: 5 * 60_000 });
	});
	await browser.screenshot(page, 'registry-installed-through-the-screen');

	const list = await rest('GET', '/community-packages');
	expect(list.json.data).toEqual([expect.objectContaining({ packageName: PACKAGE, failedLoading: false })]);
	expect(list.json.data[0].installedNodes).toHaveLength(NODE_TYPES.length);
	// The workflow that lost its node runs again.
	await expectGateRuns();
});
