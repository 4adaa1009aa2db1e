// n8n's own checks on community packages, as `npm run lint` step: the lint n8n's scanner
// (@n8n/scan-community-package, run before a package is verified) applies, with its own configuration
// (@n8n/eslint-plugin-community-nodes' recommended rules plus the eslint-plugin-n8n-nodes-base rule sets,
// the same as `n8n-node lint`), on the sources (package.json, nodes/, credentials/) and, with --dist after
// `npm run build`, on the compiled files that ship (dist/**/*.js, package.json), as the scanner does on the
// published tarball. Inline eslint-disable comments do not count, as in the scanner.
//
// Findings we accept are listed in ACCEPTED, each with its reason (README "n8n's community-package checks"
// lists them too). Any other finding fails the run. The scanner's provenance check needs a package
// published with npm provenance from a public repository and is not run here.
//
// N8N_SCANNER_DIR: a folder whose node_modules holds @n8n/scan-community-package (default: this project's).
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(process.env.N8N_SCANNER_DIR ?? root, 'package.json'));
const scannerFile = path.join(path.dirname(require.resolve('@n8n/scan-community-package/package.json')), 'scanner', 'scanner.mjs');
const { analyzePackage, SOURCE_FILE_PATTERNS } = await import(pathToFileURL(scannerFile).href);

const RUNTIME_DEPS = 'the provider SDKs and pg are runtime dependencies on purpose (README: self-hosted n8n)';
const FILE_SINK = "the Audit Log's file sink writes, locks and reads a local append-only file (self-hosted n8n)";
/** [rule, file pattern (relative, posix), reason, message pattern?] */
export const ACCEPTED = [
	['@n8n/community-nodes/no-runtime-dependencies', /^package\.json$/, RUNTIME_DEPS],
	['@n8n/community-nodes/no-restricted-imports', /shared\/providers\/(anthropic|openai)\.js$/, RUNTIME_DEPS, /'(@anthropic-ai\/sdk|openai)'/],
	['@n8n/community-nodes/no-restricted-imports', /(nodes\/AuditLog\/sinks\/pgSink|shared\/reviewStore\/pgStore|shared\/resultCache\/pgCache)\.(ts|js)$/, RUNTIME_DEPS, /'pg'/],
	['@n8n/community-nodes/no-restricted-imports', /(nodes\/AuditLog\/(sinks\/(fileLock|fileSink|httpSink)|trust\/fileSummary)|shared\/reviewStore\/fileStore|shared\/resultCache\/fileCache)\.(ts|js)$/, FILE_SINK, /'node:(fs|os|path|readline)'/],
	['@n8n/community-nodes/no-restricted-globals', /(nodes\/AuditLog\/(sinks\/(fileLock|fileSink|httpSink)|trust\/fileSummary)|shared\/reviewStore\/fileStore|shared\/resultCache\/fileCache)\.(ts|js)$/, `${FILE_SINK}: process.pid and process.kill(pid, 0) own the lock, process.env finds the n8n user folder`, /'process'/],
	[
		'@n8n/community-nodes/require-node-api-error',
		/^nodes\/.*\.ts$/,
		'helpers throw typed errors (SchemaInputError, ReviewInputError, AuditSinkError, provider errors) that the node turns into NodeOperationError with the item index, or an error item with Continue On Fail, where it knows the item',
	],
	[
		'@n8n/community-nodes/icon-validation',
		/^nodes\/[^/]+\/[^/]+\.node\.ts$/,
		"a node's description (with its icon) is in description.ts next to the node file (STYLE.md); the compiled node has it, and n8n shows it",
	],
	[
		'@n8n/community-nodes/credential-test-required',
		/^credentials\/GovernedAiPostgres\.credentials\.ts$/,
		'tested by the Audit Log node (testedBy: governedAiPostgresConnectionTest, in nodes/AuditLog/description.ts); the rule looks for testedBy in the *.node.ts files only',
	],
	[
		'@n8n/community-nodes/credential-test-required',
		/^credentials\/GovernedAiCachePostgres\.credentials\.ts$/,
		'tested by AI Classify and AI Extract (testedBy: governedAiCachePostgresConnectionTest, in shared/node/resultCacheProperties.ts); the rule looks for testedBy in the *.node.ts files only',
	],
	['n8n-nodes-base/node-filename-against-convention', /^nodes\/[^/]+\/description\.ts$/, 'the same layout: description.ts holds the node class description'],
	[
		'n8n-nodes-base/node-class-description-credentials-name-unsuffixed',
		/^nodes\/(AuditLog|HumanCheckpoint)\/description\.ts$/,
		"the nodes reuse n8n's built-in credential types httpBasicAuth and httpHeaderAuth, which have no -Api suffix",
	],
	[
		'n8n-nodes-base/node-class-description-credentials-name-unsuffixed',
		/^nodes\/(ConfidenceGate|ReviewInbox)\/description\.ts$/,
		'governedAiPostgres is a database connection (the audit and review store), not an API',
	],
	[
		'@n8n/community-nodes/credential-test-required',
		/^credentials\/GovernedAiReviewers\.credentials\.ts$/,
		'a list of reviewers and their password hashes: there is no service to test it against; the Review Inbox checks each sign-in against it',
	],
	['n8n-nodes-base/cred-class-name-unsuffixed', /^credentials\/GovernedAiReviewers\.credentials\.ts$/, 'the reviewer list is not an API credential'],
	['n8n-nodes-base/cred-class-field-name-unsuffixed', /^credentials\/GovernedAiReviewers\.credentials\.ts$/, 'the reviewer list is not an API credential'],
	['n8n-nodes-base/cred-class-field-display-name-missing-api', /^credentials\/GovernedAiReviewers\.credentials\.ts$/, 'the reviewer list is not an API credential'],
	[
		'@n8n/community-nodes/credential-unnecessary-password',
		/^credentials\/GovernedAiReviewers\.credentials\.ts$/,
		'the reviewer list holds password hashes: masked so they are not shown on screen',
	],
	['n8n-nodes-base/node-param-description-miscased-json', /^nodes\/AiDecide\/description\.ts$/, '`$json` in an expression example is n8n\'s own variable, not a miscased "JSON"'],
	['@n8n/community-nodes/valid-author', /^package\.json$/, "the author's contact email is the maintainer's to fill in before the first publish"],
	['@n8n/community-nodes/require-homepage', /^package\.json$/, "the homepage (the public repository) is the maintainer's to fill in before the first publish"],
];

function accepted(file, message) {
	return ACCEPTED.find(([rule, pattern, , text]) => rule === message.ruleId && pattern.test(file) && (!text || text.test(message.message)));
}

/** Runs one leg; returns the findings not accepted. */
async function leg(name, dir, patterns) {
	// analyzePackage prints nothing and returns eslint's "stylish" text; rerun the parse from its details.
	const result = await analyzePackage(dir, patterns);
	if (result.passed) return { name, rejected: [], acceptedCount: 0 };
	if (!result.details) throw new Error(`${name}: ${result.message}`);
	const rejected = [];
	let acceptedCount = 0;
	let file = '';
	for (const line of result.details.split('\n')) {
		if (line.startsWith('/')) {
			file = path.relative(dir, line.trim()).split(path.sep).join('/');
			continue;
		}
		const m = line.match(/^\s+(\d+):(\d+)\s+(error|warning)\s+(.*?)\s{2,}(\S+)\s*$/);
		if (!m) continue;
		const message = { ruleId: m[5], message: m[4] };
		if (accepted(file, message)) acceptedCount++;
		else rejected.push(`${file}:${m[1]}:${m[2]} ${m[3]} ${m[4]} (${m[5]})`);
	}
	return { name, rejected, acceptedCount };
}

const legs = [await leg('sources', root, SOURCE_FILE_PATTERNS)];
if (process.argv.includes('--dist')) legs.push(await leg('compiled package', root, ['dist/**/*.js', 'package.json']));
let failed = false;
for (const { name, rejected, acceptedCount } of legs) {
	if (rejected.length) {
		failed = true;
		console.error(`[n8n community checks] ${name}: ${rejected.length} finding(s):\n  ${rejected.join('\n  ')}`);
	} else {
		console.error(`[n8n community checks] ${name}: ok (${acceptedCount} accepted finding(s), see README)`);
	}
}
process.exit(failed ? 1 : 0);
