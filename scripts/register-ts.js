// Lets plain `node -r ./scripts/register-ts.js file.ts` run our TypeScript scripts (the demo) without a
// build step: each .ts file is transpiled on load with the TypeScript compiler already in devDependencies.
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
			inlineSourceMap: true,
		},
	});
	module._compile(outputText, filename);
};
