/**
 * Runs the local provider server standalone with the autoResponder (for the demo and the e2e suite).
 * Build: `npx tsc -p test/provider-server/tsconfig.json` → `node test/provider-server/dist/cli.js`
 * Flags (or env): --port (PROVIDER_SERVER_PORT), --latency-ms (PROVIDER_SERVER_LATENCY_MS),
 * --rpm (PROVIDER_SERVER_RPM), --tpm (PROVIDER_SERVER_TPM, tokens per minute), --recorded <answers.json> with --samples <a.json,b.json> (replay the
 * answers recorded per sample, see recorded.ts; other requests get the autoResponder). Prints `PROVIDER_SERVER_URL=<url>` once listening; stops on SIGTERM/SIGINT.
 */
import { autoResponder, startProviderServer } from './index';
import { loadRecorded, recordedResponder } from './recorded';

function option(name: string): string | undefined {
	const args = process.argv.slice(2);
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function flag(name: string, envName: string): number | undefined {
	const args = process.argv.slice(2);
	let raw: string | undefined;
	for (let i = 0; i < args.length; i++) {
		if (args[i] === `--${name}`) raw = args[i + 1];
		else if (args[i].startsWith(`--${name}=`)) raw = args[i].slice(name.length + 3);
	}
	raw ??= process.env[envName];
	if (raw === undefined || raw === '') return undefined;
	const value = Number(raw);
	if (!Number.isFinite(value) || value < 0) {
		process.stderr.write(`provider-server: --${name} must be a non-negative number, got '${raw}'\n`);
		process.exit(2);
	}
	return value;
}

async function main(): Promise<void> {
	const answersFile = option('recorded');
	const samplesFile = option('samples');
	const recorded = answersFile ? loadRecorded(answersFile, samplesFile ? samplesFile.split(',') : []) : undefined;
	const server = await startProviderServer({
		responder: recorded ? recordedResponder(recorded.answers, recorded.samples, autoResponder) : undefined,
		port: flag('port', 'PROVIDER_SERVER_PORT') ?? 0,
		latencyMs: flag('latency-ms', 'PROVIDER_SERVER_LATENCY_MS'),
		rpmLimit: flag('rpm', 'PROVIDER_SERVER_RPM'),
		tpmLimit: flag('tpm', 'PROVIDER_SERVER_TPM'),
	});
	process.stdout.write(`PROVIDER_SERVER_URL=${server.url}\n`);
	let stopping = false;
	const stop = () => {
		if (stopping) return;
		stopping = true;
		server.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
	process.stderr.write(`provider-server: ${(err as Error).message}\n`);
	process.exit(1);
});
