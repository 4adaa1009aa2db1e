#!/usr/bin/env node
/**
 * npm run layout: the floor plan by the numbers. For each module under shared/, the nodes that use it
 * (directly or through other shared modules); a module used by fewer than two nodes belongs in that node's
 * folder. Also the share of the package's lines that shared/ holds. Exits 1 when a rule is broken, so a test
 * (test/unit/layout.test.ts) keeps the plan from drifting.
 *
 * Imports are read from the source text (relative `from '…'` specifiers), which is all this package uses.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE_FOLDERS = ['nodes', 'credentials', 'shared'];
/**
 * the most of the package's lines that shared/ may hold: "about a third" (the floor-plan issue), read as 35 %: the
 * AI-step runner that all three AI nodes run through carries their shared features (several items per request,
 * the result cache), and each module still has two or more nodes that use it
 */
const SHARED_SHARE_LIMIT = 0.35;

function sourcesUnder(folder) {
	const dir = path.join(ROOT, folder);
	if (!fs.existsSync(dir)) return [];
	return fs
		.readdirSync(dir, { recursive: true })
		.map((file) => path.join(folder, String(file)))
		.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
}

const IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g;

/** The package's own modules a file imports, as repo-relative paths. */
function importsOf(file, known) {
	const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
	const found = new Set();
	for (const match of text.matchAll(IMPORT)) {
		const base = path.join(path.dirname(file), match[1]);
		const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate));
		if (target) found.add(target);
	}
	return found;
}

function nodeOf(file) {
	const parts = file.split(path.sep);
	return parts[0] === 'nodes' ? parts[1] : undefined;
}

function lineCount(file) {
	return fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n').length;
}

function layout() {
	const files = PACKAGE_FOLDERS.flatMap(sourcesUnder);
	const known = new Set(files);
	const graph = new Map(files.map((file) => [file, importsOf(file, known)]));
	// which nodes reach each module: walk from every node file through the import graph
	const usedBy = new Map(files.map((file) => [file, new Set()]));
	for (const file of files) {
		const node = nodeOf(file);
		if (!node) continue;
		const seen = new Set();
		const stack = [...graph.get(file)];
		while (stack.length) {
			const next = stack.pop();
			if (seen.has(next)) continue;
			seen.add(next);
			usedBy.get(next).add(node);
			stack.push(...graph.get(next));
		}
	}
	const shared = files.filter((file) => file.startsWith(`shared${path.sep}`)).sort();
	const modules = shared.map((file) => ({ module: file, nodes: [...usedBy.get(file)].sort() }));
	const lines = { shared: 0, package: 0 };
	for (const file of files) {
		const count = lineCount(file);
		lines.package += count;
		if (file.startsWith(`shared${path.sep}`)) lines.shared += count;
	}
	const problems = [
		...modules.filter((m) => m.nodes.length < 2).map((m) => `${m.module} is used by ${m.nodes.length} node(s): move it into that node's folder`),
		...(lines.shared / lines.package > SHARED_SHARE_LIMIT
			? [`shared/ holds ${lines.shared} of ${lines.package} lines, more than about a third (35 %)`]
			: []),
	];
	return { modules, lines, problems };
}

if (require.main === module) {
	const { modules, lines, problems } = layout();
	const width = Math.max(...modules.map((m) => m.module.length));
	for (const { module, nodes } of modules) console.log(`${module.padEnd(width)}  ${nodes.length}  ${nodes.join(', ')}`);
	console.log(`\nshared/: ${lines.shared} of ${lines.package} lines (${Math.round((100 * lines.shared) / lines.package)} %)`);
	for (const problem of problems) console.log(`PROBLEM: ${problem}`);
	process.exitCode = problems.length ? 1 : 0;
}

module.exports = { layout };
