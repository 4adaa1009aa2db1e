/**
 * Optional redaction of personal and payment data before text leaves for the model.
 * Each kind is replaced by a placeholder the model can still reason about ("[EMAIL]").
 */
export const REDACTION_KINDS = ['email', 'phone', 'card', 'iban', 'account'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

function luhnValid(digits: string): boolean {
	let sum = 0;
	let double = false;
	for (let i = digits.length - 1; i >= 0; i--) {
		let d = digits.charCodeAt(i) - 48;
		if (double) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		sum += d;
		double = !double;
	}
	return sum % 10 === 0;
}

const patterns: Array<{ kind: RedactionKind; regex: RegExp; accept?: (match: string) => boolean }> = [
	{ kind: 'email', regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
	// IBAN before card/account: it contains long digit runs of its own
	{ kind: 'iban', regex: /\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b/g },
	{
		kind: 'card',
		regex: /\b\d(?:[ -]?\d){12,18}\b/g,
		accept: (m) => luhnValid(m.replace(/\D/g, '')),
	},
	{ kind: 'phone', regex: /(?<![\w])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,3}(?![\w])/g },
	{ kind: 'account', regex: /\b\d{8,17}\b/g },
];

export interface RedactionResult {
	text: string;
	counts: Partial<Record<RedactionKind, number>>;
}

export function redact(text: string, kinds: readonly RedactionKind[] = REDACTION_KINDS): RedactionResult {
	const counts: Partial<Record<RedactionKind, number>> = {};
	let out = text;
	for (const { kind, regex, accept } of patterns) {
		if (!kinds.includes(kind)) continue;
		out = out.replace(regex, (match) => {
			if (accept && !accept(match)) return match;
			counts[kind] = (counts[kind] ?? 0) + 1;
			return `[${kind.toUpperCase()}]`;
		});
	}
	return { text: out, counts };
}
