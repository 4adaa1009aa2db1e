/** scripts/check-pack.js, which fails `npm pack` / `npm publish` (prepack) and CI when the package would ship incomplete. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkFiles } = require('../../scripts/check-pack.js') as {
	checkFiles: (files: string[], pkg: object, read: (file: string) => string) => string[];
};

const pkg = {
	n8n: {
		nodes: ['dist/nodes/AiClassify/AiClassify.node.js'],
		credentials: ['dist/credentials/GovernedAiOpenAiApi.credentials.js'],
	},
};
const texts: Record<string, string> = {
	'dist/nodes/AiClassify/AiClassify.node.js': '',
	'dist/nodes/AiClassify/description.js': "icon: { light: 'file:aiClassify.svg', dark: 'file:aiClassify.dark.svg' }",
	'dist/credentials/GovernedAiOpenAiApi.credentials.js': "icon = { light: 'file:icons/openai.svg' }",
};
const complete = [
	'package.json',
	'README.md',
	...Object.keys(texts),
	'dist/nodes/AiClassify/aiClassify.svg',
	'dist/nodes/AiClassify/aiClassify.dark.svg',
	'dist/credentials/icons/openai.svg',
];
const read = (file: string) => texts[file] ?? '';

test('a complete package passes', () => {
	expect(checkFiles(complete, pkg, read)).toEqual([]);
});

test('a file the n8n block names that is not packed fails, naming it', () => {
	const problems = checkFiles(complete.filter((f) => !f.endsWith('AiClassify.node.js')), pkg, read);
	expect(problems).toEqual([expect.stringContaining('dist/nodes/AiClassify/AiClassify.node.js (named in package.json "n8n") is not in the package')]);
});

test('an empty package (what `npm pack` gave while ignore-scripts skipped the build) fails on every named file', () => {
	expect(checkFiles(['package.json', 'README.md'], pkg, read)).toHaveLength(2);
});

test('a missing icon fails, resolved relative to the file that names it', () => {
	const problems = checkFiles(complete.filter((f) => f !== 'dist/credentials/icons/openai.svg'), pkg, read);
	expect(problems).toEqual([expect.stringContaining('dist/credentials/icons/openai.svg is not in the package')]);
});

test('sources and tests must not ship', () => {
	const problems = checkFiles([...complete, 'nodes/AiClassify/AiClassify.node.ts', 'test/unit/x.test.ts', 'dist/index.d.ts'], pkg, read);
	expect(problems).toEqual([
		expect.stringContaining('nodes/AiClassify/AiClassify.node.ts: a TypeScript source would ship'),
		expect.stringContaining('nodes/AiClassify/AiClassify.node.ts: a source or test file would ship'),
		expect.stringContaining('test/unit/x.test.ts: a TypeScript source would ship'),
		expect.stringContaining('test/unit/x.test.ts: a source or test file would ship'),
	]);
});
