// Lets plain `node -r ./scripts/register-ts.js file.ts` run our TypeScript scripts without a
// build step (the demo, the benchmark): each .ts file is transpiled on load, in place (the e2e harness
// finds the repository from its own __dirname) with the TypeScript compiler already in devDependencies.
// Types are not checked here; `npm run typecheck` does that.
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = function compileTs(module, filename) {
	const source = fs.readFileSync(filename, 'utf8');
	const { outputText } = ts.transpileModule(source, {
		fileName: filename,
		compilerOptions: {
			module: ts.ModuleKind.CommonJS,
			target: ts.ScriptTarget.ES2022,
			esModuleInterop: true,
			sourceMap: false,
			resolveJsonModule: true,
			inlineSourceMap: true,
		},
	});
	module._compile(outputText, filename);
};
