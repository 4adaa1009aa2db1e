/**
 * Sections of bench/RESULTS.md that `npm run bench` does not produce (benchmarks run by hand: throughput, trust
 * state, Review Inbox, ...) sit between `<!-- NAME:start -->` and `<!-- NAME:end -->` lines. Regenerating the
 * file keeps them: each such block of the existing file is carried over unless the new text has a block of the
 * same name (then the new one is current).
 */
const BLOCK = /<!-- ([A-Za-z0-9_-]+):start -->[\s\S]*?<!-- \1:end -->/g;

/** The named blocks of a text, in order. */
export function namedBlocks(text: string): Array<{ name: string; text: string }> {
	return [...text.matchAll(BLOCK)].map((m) => ({ name: m[1], text: m[0] }));
}

/** A block of text under a name, as `keepBlocks` recognises it. */
export function block(name: string, text: string): string {
	return `<!-- ${name}:start -->\n${text.replace(/\n+$/, '')}\n<!-- ${name}:end -->`;
}

/**
 * The generated text, followed by the blocks of the existing file it does not have itself, in their order in the
 * existing file. The generated text's own blocks (same name) replace the old ones.
 */
export function keepBlocks(generated: string, existing: string | null): string {
	if (!existing) return generated;
	const present = new Set(namedBlocks(generated).map((b) => b.name));
	const kept: string[] = [];
	for (const old of namedBlocks(existing)) {
		if (present.has(old.name)) continue;
		present.add(old.name);
		kept.push(old.text);
	}
	if (kept.length === 0) return generated;
	return `${generated.replace(/\n+$/, '')}\n\n${kept.join('\n\n')}\n`;
}
