// Checks what `npm pack` / `npm publish` would ship, after the build (it runs in `prepack`, so a pack or a
// publish with a missing file fails; CI runs it after `npm run build`). Fails when:
//   - a file the package.json `n8n` block names (nodes, credentials) is not in the package,
//   - an icon a packed node or credential points at (`file:…`) is not in the package,
//   - a source or test file would ship (TypeScript sources, test/, bench/, scripts/, examples/, docs/).
// `node scripts/check-pack.js [file.tgz]`: with a tarball, checks that tarball's file list instead.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** Files of a tarball (paths without the leading `package/`). */
function tarballFiles(tgz) {
	const out = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' });
	return out
		.split('\n')
		.filter((line) => line && !line.endsWith('/'))
		.map((line) => line.replace(/^package\//, ''));
}

/** Files `npm pack` would put in the package, from the working tree (the build must have run). */
function packFiles() {
	// --ignore-scripts: this runs inside prepack; a nested pack must not build again.
	const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], {
		cwd: root,
		encoding: 'utf8',
		maxBuffer: 64 * 1024 * 1024,
	});
	return JSON.parse(out)[0].files.map((f) => f.path);
}

/** Problems with a package's file list; `read(file)` gives a packed file's text. */
function checkFiles(files, pkg, read) {
	const problems = [];
	const packed = new Set(files);
	const named = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])];
	if (named.length === 0) problems.push('package.json has no n8n.nodes / n8n.credentials');
	for (const file of named) {
		if (!packed.has(path.posix.normalize(file))) problems.push(`${file} (named in package.json "n8n") is not in the package`);
	}
	for (const file of files) {
		if (/\.ts$/.test(file) && !/\.d\.ts$/.test(file)) problems.push(`${file}: a TypeScript source would ship`);
		if (/^(test|bench|scripts|examples|docs|nodes|credentials|shared|src)\//.test(file)) {
			problems.push(`${file}: a source or test file would ship`);
		}
	}
	// Icons are resolved by n8n relative to the compiled file that names them.
	for (const file of files.filter((f) => f.endsWith('.js'))) {
		const text = read(file);
		for (const match of text.matchAll(/['"]file:([^'"]+\.(?:svg|png))['"]/g)) {
			const icon = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]));
			if (!packed.has(icon)) problems.push(`${file} points at icon ${match[1]}, and ${icon} is not in the package`);
		}
	}
	return problems;
}

function main() {
	const tgz = process.argv[2];
	let files;
	let pkg;
	let read;
	if (tgz) {
		files = tarballFiles(tgz);
		const extract = (file) => execFileSync('tar', ['-xzOf', tgz, `package/${file}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
		pkg = JSON.parse(extract('package.json'));
		read = extract;
	} else {
		files = packFiles();
		pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
		read = (file) => fs.readFileSync(path.join(root, file), 'utf8');
	}
	const problems = checkFiles(files, pkg, read);
	if (problems.length) {
		console.error(`[check-pack] the package ${tgz ?? 'npm pack would produce'} is not what n8n needs:\n  ${problems.join('\n  ')}`);
		if (!tgz && !fs.existsSync(path.join(root, 'dist'))) console.error('[check-pack] there is no dist/: run `npm run build` first');
		process.exit(1);
	}
	console.error(`[check-pack] ok: ${files.length} files, every file the n8n block names, their icons, no sources or tests`);
}

if (require.main === module) main();

module.exports = { checkFiles, tarballFiles };
