/**
 * Issue #19: a maintainer's `npm pack` from a clean clone ships a package n8n loads. Clones the committed
 * HEAD into a temporary folder, `npm ci` there, then `npm pack` with no flags (the repository's .npmrc and
 * `prepack` decide what happens), checks the tarball and installs it into a real n8n, where a workflow with
 * one of its nodes runs.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { nodeOutputs, REPO_ROOT, startN8n, type N8n } from './harness';

const execFileAsync = promisify(execFile);
jest.setTimeout(20 * 60_000);

let dir: string;
let n8n: N8n | undefined;

afterAll(async () => {
	await n8n?.stop();
	if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function sh(cmd: string, args: string[], cwd: string) {
	// The caller's npm settings stay out, as on a maintainer's machine: no npm_config_* from a parent npm run.
	const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
	try {
		return await execFileAsync(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
	} catch (error) {
		const e = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${cmd} ${args.join(' ')} in ${cwd} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
	}
}

test('from a clean clone, `npm pack` with no flags builds and ships every file n8n needs, and n8n loads it', async () => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-clean-clone-'));
	const repo = path.join(dir, 'repo');
	await sh('git', ['clone', '--quiet', REPO_ROOT, repo], dir);
	expect(fs.existsSync(path.join(repo, 'dist'))).toBe(false);
	await sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], repo);

	const { stdout } = await sh('npm', ['pack'], repo);
	const tgz = path.join(repo, stdout.trim().split('\n').pop()!.trim());
	expect(fs.existsSync(tgz)).toBe(true);
	const files = (await sh('tar', ['-tzf', tgz], dir)).stdout.split('\n').filter(Boolean);
	const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
	for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) expect(files).toContain(`package/${file}`);
	expect(files.filter((f) => /^package\/(nodes|credentials|shared|test|bench|scripts)\//.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)))).toEqual([]);
	// the same check `prepack` ran, on the tarball itself
	await sh('node', [path.join(repo, 'scripts', 'check-pack.js'), tgz], repo);

	n8n = await startN8n({ tarball: tgz });
	const node = (name: string, type: string, typeVersion: number, parameters: object) => ({ id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters });
	const id = await n8n.importWorkflow({
		name: 'clean clone pack',
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, {}),
			node('Score', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: '{"score": 0.97}', options: {} }),
			node('Gate', 'n8n-nodes-governed-ai.confidenceGate', 1, { source: 'expression', confidence: '={{ $json.score }}', label: 'score', high: 0.9, low: 0.5 }),
		],
		connections: { Start: { main: [[{ node: 'Score', type: 'main', index: 0 }]] }, Score: { main: [[{ node: 'Gate', type: 'main', index: 0 }]] } },
	});
	const { data } = await n8n.execute(id);
	expect(nodeOutputs(data, 'Gate')[0]).toEqual([expect.objectContaining({ score: 0.97 })]);
});
