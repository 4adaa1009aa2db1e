/**
 * Evidence quotes are checked against the source text, tolerant of whitespace and case, so a model cannot
 * cite words that are not there.
 */
function normalise(text: string): string {
	return text
		.normalize('NFKC')
		.replace(/[\u2018\u2019]/g, "'")
		.replace(/[\u201C\u201D]/g, '"')
		.replace(/\s+/g, ' ')
		.trim()
		.toLowerCase();
}

export function quoteOccurs(source: string, quote: string): boolean {
	const q = normalise(quote);
	return q.length > 0 && normalise(source).includes(q);
}

/** Splits quotes into those found in the source and those that are not. */
export function checkQuotes(source: string, quotes: string[]): { found: string[]; missing: string[] } {
	const found: string[] = [];
	const missing: string[] = [];
	for (const quote of quotes) (quoteOccurs(source, quote) ? found : missing).push(quote);
	return { found, missing };
}
