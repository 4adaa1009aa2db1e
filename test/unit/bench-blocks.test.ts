/** bench/RESULTS.md regeneration keeps the sections run by hand (bench/blocks.ts). */
import { block, keepBlocks, namedBlocks } from '../../bench/blocks';

const existing = [
	'# Benchmark results',
	'',
	'## overhead: old figures',
	'',
	'<!-- throughput:start -->',
	'## throughput',
	'| a | b |',
	'<!-- throughput:end -->',
	'## Review Inbox by hand',
	'<!-- inbox:start -->',
	'## Review Inbox page',
	'1,338 ms',
	'<!-- inbox:end -->',
	'',
	'<!-- installed-size:start -->',
	'## installed size: old',
	'<!-- installed-size:end -->',
	'',
].join('\n');

describe('keepBlocks', () => {
	it('keeps the named blocks the new text lacks, in their order, and drops the rest of the old text', () => {
		const generated = '# Benchmark results\n\n## overhead: new figures\n';
		const merged = keepBlocks(generated, existing);
		expect(merged.startsWith(generated.trimEnd())).toBe(true);
		expect(merged).not.toContain('old figures');
		// unmarked hand-written text is not carried over
		expect(merged).not.toContain('## Review Inbox by hand');
		expect(namedBlocks(merged).map((b) => b.name)).toEqual(['throughput', 'inbox', 'installed-size']);
		expect(merged).toContain('<!-- inbox:start -->\n## Review Inbox page\n1,338 ms\n<!-- inbox:end -->');
	});

	it('a block the new text has itself replaces the old one of that name', () => {
		const generated = `# Benchmark results\n\n${block('installed-size', '## installed size: new\n')}\n`;
		const merged = keepBlocks(generated, existing);
		expect(merged).toContain('## installed size: new');
		expect(merged).not.toContain('## installed size: old');
		expect(namedBlocks(merged).map((b) => b.name)).toEqual(['installed-size', 'throughput', 'inbox']);
	});

	it('regenerating twice changes nothing more (no block doubles up)', () => {
		const generated = '# Benchmark results\n';
		const once = keepBlocks(generated, existing);
		expect(keepBlocks(generated, once)).toBe(once);
	});

	it('without an existing file, or one without blocks, the new text is written as it is', () => {
		expect(keepBlocks('# new\n', null)).toBe('# new\n');
		expect(keepBlocks('# new\n', '# old\n<!-- broken:start -->\nno end\n')).toBe('# new\n');
	});
});
