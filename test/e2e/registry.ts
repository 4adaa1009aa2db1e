/**
 * A real npm registry for the end-to-end suite: Verdaccio (installed by install-verdaccio.sh into the cache,
 * run by the harness's Node 24) on a free loopback port, its storage in a temporary folder; and the way to
 * put it in front of n8n.
 *
 * n8n 2.40 takes a registry other than https://registry.npmjs.org (N8N_COMMUNITY_PACKAGES_REGISTRY) only with
 * an Enterprise licence (CommunityPackagesService.getNpmRegistry → FeatureNotLicensedError), and it passes
 * `--registry=https://registry.npmjs.org` to every npm command it runs, which beats any npm config. So the
 * registry is put where n8n looks: `registryFront()` is an HTTPS proxy that n8n and its npm reach through
 * HTTPS_PROXY, which answers for registry.npmjs.org with a certificate of a throw-away CA (NODE_EXTRA_CA_CERTS)
 * and serves Verdaccio there, and refuses every other host (recorded, so a test can see what n8n asked for).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { freePort, n8nInstall } from './harness';

const execFileAsync = promisify(execFile);
const INSTALL_SCRIPT = path.join(__dirname, 'install-verdaccio.sh');
export const NPMJS_HOST = 'registry.npmjs.org';

export interface Verdaccio {
	url: string;
	/** npm publish <tarball> as a registered user */
	publish(tarball: string): Promise<void>;
	/** what Verdaccio printed (for failure messages) */
	logs(): string;
	stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startVerdaccio(): Promise<Verdaccio> {
	const { stdout } = await execFileAsync('bash', [INSTALL_SCRIPT], { maxBuffer: 16 * 1024 * 1024 });
	const dir = stdout.trim().split('\n').pop()!;
	const bin = path.join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
	const { node } = await n8nInstall();
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-verdaccio-'));
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	fs.writeFileSync(
		path.join(tmp, 'config.yaml'),
		[
			`storage: ${path.join(tmp, 'storage')}`,
			'auth:',
			'  htpasswd:',
			`    file: ${path.join(tmp, 'htpasswd')}`,
			'    max_users: 10',
			'uplinks:',
			'  npmjs:',
			'    url: https://registry.npmjs.org/',
			'    timeout: 60s',
			'packages:',
			// ours only from here; everything else (the package's runtime dependencies) from npmjs
			"  'n8n-nodes-governed-ai':",
			'    access: $all',
			'    publish: $authenticated',
			"  '**':",
			'    access: $all',
			'    publish: $authenticated',
			'    proxy: npmjs',
			'log: { type: stdout, format: pretty, level: warn }',
			'',
		].join('\n'),
	);
	let output = '';
	// Tarball links point at https://registry.npmjs.org/…: the front (below) serves them.
	// --use-system-ca: the uplink to npmjs trusts what this machine's curl and npm trust (Node 24's own CA list otherwise).
	const child: ChildProcess = spawn(node, ['--use-system-ca', bin, '--config', path.join(tmp, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
		cwd: tmp,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, VERDACCIO_PUBLIC_URL: `https://${NPMJS_HOST}/` },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
	child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
	let exited = false;
	child.on('exit', () => (exited = true));
	const stop = async () => {
		if (!exited && child.pid) {
			try {
				process.kill(-child.pid, 'SIGTERM');
			} catch {
				// gone already
			}
			for (let i = 0; i < 50 && !exited; i++) await sleep(100);
			if (!exited) process.kill(-child.pid, 'SIGKILL');
		}
		fs.rmSync(tmp, { recursive: true, force: true });
	};
	try {
		const deadline = Date.now() + 120_000;
		for (;;) {
			if (exited) throw new Error(`Verdaccio exited:\n${output}`);
			const ok = await fetch(`${url}/-/ping`).then((r) => r.ok, () => false);
			if (ok) break;
			if (Date.now() > deadline) throw new Error(`Verdaccio not answering on ${url} after 120 s:\n${output}`);
			await sleep(300);
		}
		const res = await fetch(`${url}/-/user/org.couchdb.user:maintainer`, {
			method: 'PUT',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ name: 'maintainer', password: 'maintainer-password-1', email: 'maintainer@example.com', type: 'user' }),
		});
		const body = (await res.json()) as { token?: string };
		if (!res.ok || !body.token) throw new Error(`Verdaccio adduser: HTTP ${res.status} ${JSON.stringify(body)}`);
		const npmrc = path.join(tmp, 'publish.npmrc');
		fs.writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${body.token}\n`, { mode: 0o600 });
		return {
			url,
			logs: () => output,
			stop,
			async publish(tarball) {
				// From an empty folder: no project .npmrc, only this registry and its token.
				const cwd = fs.mkdtempSync(path.join(tmp, 'publish-'));
				try {
					await execFileAsync('npm', ['publish', tarball, '--userconfig', npmrc, '--registry', `${url}/`, '--provenance=false', '--loglevel=error'], {
						cwd,
						env: { PATH: process.env.PATH, HOME: process.env.HOME },
					});
				} catch (error) {
					const e = error as { stdout?: string; stderr?: string; message: string };
					throw new Error(`npm publish ${tarball} to Verdaccio failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${output}`);
				}
			},
		};
	} catch (error) {
		await stop();
		throw error;
	}
}

export interface RegistryFront {
	/** env for n8n: the proxy, the CA, an npm cache of its own */
	env: Record<string, string>;
	/** request paths served for registry.npmjs.org, in order */
	served: string[];
	/** CONNECT targets refused (every host but registry.npmjs.org) */
	refused: string[];
	stop(): Promise<void>;
}

/** Serves `verdaccio` as https://registry.npmjs.org to whoever uses this proxy (see the file's comment). */
export async function registryFront(verdaccio: Verdaccio): Promise<RegistryFront> {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'governed-ai-front-'));
	const file = (name: string) => path.join(tmp, name);
	const openssl = async (args: string[]) => await execFileAsync('openssl', args, { cwd: tmp });
	await openssl([
		'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
		'-subj', '/CN=governed-ai e2e throw-away CA',
		'-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
	]);
	await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${NPMJS_HOST}`]);
	fs.writeFileSync(file('leaf.ext'), `subjectAltName=DNS:${NPMJS_HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
	await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext']);

	const served: string[] = [];
	const refused: string[] = [];
	const target = new URL(verdaccio.url);
	const tls = https.createServer({ key: fs.readFileSync(file('leaf.key')), cert: fs.readFileSync(file('leaf.pem')) }, (req, res) => {
		served.push(`${req.method} ${req.url}`);
		const upstream = http.request(
			{ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: NPMJS_HOST, 'x-forwarded-proto': 'https' } },
			(up) => {
				res.writeHead(up.statusCode ?? 502, up.headers);
				up.pipe(res);
			},
		);
		upstream.on('error', (error) => {
			res.writeHead(502);
			res.end(String(error));
		});
		req.pipe(upstream);
	});
	const sockets = new Set<net.Socket>();
	const proxy = http.createServer((req, res) => {
		refused.push(`${req.method} ${req.url}`);
		res.writeHead(403);
		res.end('only https://registry.npmjs.org is served here');
	});
	proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		if (req.url !== `${NPMJS_HOST}:443`) {
			refused.push(`CONNECT ${req.url}`);
			socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
			return;
		}
		socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
		if (head.length) socket.unshift(head);
		tls.emit('connection', socket);
	});
	const port = await freePort();
	await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
	const proxyUrl = `http://127.0.0.1:${port}`;
	fs.mkdirSync(file('npm-cache'));
	return {
		served,
		refused,
		env: {
			HTTPS_PROXY: proxyUrl,
			https_proxy: proxyUrl,
			HTTP_PROXY: proxyUrl,
			http_proxy: proxyUrl,
			NO_PROXY: '127.0.0.1,localhost',
			no_proxy: '127.0.0.1,localhost',
			NODE_EXTRA_CA_CERTS: file('ca.pem'),
			// npm (run by n8n) reads these; a cache of its own so nothing comes from the machine's cache
			npm_config_https_proxy: proxyUrl,
			npm_config_proxy: proxyUrl,
			npm_config_noproxy: '127.0.0.1,localhost',
			npm_config_cafile: file('ca.pem'),
			npm_config_cache: file('npm-cache'),
			npm_config_update_notifier: 'false',
		},
		async stop() {
			for (const socket of sockets) socket.destroy();
			proxy.closeAllConnections();
			tls.closeAllConnections();
			await new Promise<void>((resolve) => proxy.close(() => resolve()));
			tls.close();
			fs.rmSync(tmp, { recursive: true, force: true });
		},
	};
}
