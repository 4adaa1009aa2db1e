/**
 * Optional reviewer authentication on top of the signed link: HTTP basic auth or a header secret
 * (n8n's own `httpBasicAuth` / `httpHeaderAuth` credential types), and an allow-list of reviewers.
 * Comparisons are constant-time; nothing here logs or returns a secret.
 */
import { createHash, timingSafeEqual } from 'crypto';

/** Constant-time string comparison (hashing first so lengths never leak through timing). */
export function safeEqual(a: string, b: string): boolean {
	const ha = createHash('sha256').update(a, 'utf8').digest();
	const hb = createHash('sha256').update(b, 'utf8').digest();
	return timingSafeEqual(ha, hb);
}

export function parseBasicAuthHeader(header: string | undefined): { user: string; password: string } | undefined {
	if (!header) return undefined;
	const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
	if (!match) return undefined;
	const decoded = Buffer.from(match[1], 'base64').toString('utf8');
	const colon = decoded.indexOf(':');
	if (colon < 0) return undefined;
	return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Returns the authenticated user name, or undefined when the header does not match. */
export function checkBasicAuth(
	header: string | undefined,
	expected: { user: string; password: string },
): string | undefined {
	const given = parseBasicAuthHeader(header);
	if (!given) return undefined;
	// Evaluate both comparisons so a wrong user and a wrong password take the same time.
	const userOk = safeEqual(given.user, expected.user);
	const passwordOk = safeEqual(given.password, expected.password);
	return userOk && passwordOk ? given.user : undefined;
}

export function checkHeaderSecret(
	headers: Record<string, string | string[] | undefined>,
	expected: { name: string; value: string },
): boolean {
	const raw = headers[expected.name.toLowerCase()];
	const given = Array.isArray(raw) ? raw[0] : raw;
	if (typeof given !== 'string') return false;
	return safeEqual(given, expected.value);
}

/** "ada@example.com, Grace Hopper" -> ["ada@example.com", "grace hopper"]; empty means anyone. */
export function parseAllowList(text: string | undefined): string[] {
	if (!text) return [];
	return text
		.split(/[,;\n]/)
		.map((entry) => entry.trim().toLowerCase())
		.filter(Boolean);
}

export function isReviewerAllowed(reviewer: string, allowList: string[]): boolean {
	if (allowList.length === 0) return true;
	return allowList.includes(reviewer.trim().toLowerCase());
}
