/**
 * The floor plan holds: every module under shared/ is used by two nodes or more (what one node alone uses
 * lives in its folder), and shared/ stays at about a third of the package (at most 35 %). `npm run layout` prints the table.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layout } = require('../../scripts/layout.js') as {
	layout(): { modules: Array<{ module: string; nodes: string[] }>; lines: { shared: number; package: number }; problems: string[] };
};

describe('layout', () => {
	it('every shared module has two or more nodes that use it, and shared/ is about a third of the package at most (35 %)', () => {
		const { modules, lines, problems } = layout();
		expect(modules.length).toBeGreaterThan(10);
		expect(problems).toEqual([]);
		expect(lines.shared / lines.package).toBeLessThanOrEqual(0.35);
	});

	it('finds the nodes behind shared modules through the modules between them', () => {
		const { modules } = layout();
		// the providers are reached only through aiStep: all three AI nodes use them
		const providers = modules.find((m) => m.module.endsWith('providers/index.ts'));
		expect(providers?.nodes).toEqual(['AiClassify', 'AiDecide', 'AiExtract']);
		const contract = modules.find((m) => m.module.endsWith('contract.ts'));
		expect(contract?.nodes).toHaveLength(7);
	});
});
