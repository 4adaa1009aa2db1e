/**
 * Regenerates test/unit/fixtures/node-defaults.json after a node gains a version, and refuses to write it when an
 * entry of a version already in the fixture changed (a released version's defaults are what saved workflows run
 * on). Run from the repository root: `node -r ./scripts/register-ts.js scripts/node-defaults.ts`. A version that is in the
 * fixture but has not shipped yet may change: name it, e.g. `… scripts/node-defaults.ts aiClassify:4`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import type { INodeType } from 'n8n-workflow';

import { defaultsOfNodes } from '../test/unit/helpers/defaults';

// required with the explicit .node.ts: the codex files (.node.json) beside them would be found first
const nodeType = (name: string): INodeType => {
	const exports = require(`../nodes/${name}/${name}.node.ts`) as Record<string, new () => INodeType>;
	return new exports[name]();
};
const file = join(__dirname, '..', 'test', 'unit', 'fixtures', 'node-defaults.json');
const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
const now = defaultsOfNodes(
	['AiClassify', 'AiExtract', 'AiDecide', 'ConfidenceGate', 'HumanCheckpoint', 'AuditLog', 'ReviewInbox'].map(nodeType),
) as Record<string, Record<string, unknown>>;

const unreleased = new Set(process.argv.slice(2));
const changed: string[] = [];
const added: string[] = [];
for (const [node, versions] of Object.entries(now)) {
	for (const [version, defaults] of Object.entries(versions)) {
		const before = saved[node]?.[version];
		if (before === undefined) added.push(`${node} ${version}`);
		else if (!isDeepStrictEqual(before, JSON.parse(JSON.stringify(defaults))) && !unreleased.has(`${node}:${version}`)) changed.push(`${node} ${version}`);
	}
}
if (changed.length) {
	console.error(`Not written: the defaults of released versions changed: ${changed.join(', ')}. Ship the change as a new version.`);
	process.exit(1);
}
writeFileSync(file, `${JSON.stringify(now, null, '\t')}\n`);
console.log(added.length ? `Added: ${added.join(', ')}` : 'No new versions; fixture unchanged.');
