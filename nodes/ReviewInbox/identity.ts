/**
 * Who decides: a reviewer is known, never typed in.
 *
 * - A password list (the `governedAiReviewers` credential): lines `name: scrypt:N:r:p:salt:hash`, hashed with
 *   node:crypto's scrypt (`node scripts/hash-reviewer-password.js` prints a line). A sign-in sets a session
 *   cookie signed with the credential's session secret (HMAC-SHA256), holding only the name and an expiry.
 * - A trusted header (`X-Forwarded-User`, the oauth2-proxy convention) set by the SSO proxy in front of n8n,
 *   honoured only when the request's own peer address is one of the configured proxy addresses.
 * - Groups: lines `group: name, name` in the credential; a trusted proxy may also send `X-Forwarded-Groups`.
 *
 * Nothing here logs or returns a password, a hash or the secret. Comparisons are constant-time.
 */
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

import { safeEqual } from '../HumanCheckpoint/auth';

export const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const;

/** `scrypt:N:r:p:salt:hash` (salt and hash base64url); the same format as scripts/hash-reviewer-password.js. */
export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
	const hash = scryptSync(password.normalize('NFC'), salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
	return `scrypt:${SCRYPT.N}:${SCRYPT.r}:${SCRYPT.p}:${salt.toString('base64url')}:${hash.toString('base64url')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
	const parts = stored.trim().split(':');
	if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
	const [N, r, p] = parts.slice(1, 4).map(Number);
	if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20 || r > 32 || p > 16) return false;
	const salt = Buffer.from(parts[4], 'base64url');
	const expected = Buffer.from(parts[5], 'base64url');
	if (expected.length < 16 || expected.length > 128) return false;
	const given = scryptSync(password.normalize('NFC'), salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
	return timingSafeEqual(given, expected);
}

export interface ReviewerDirectory {
	/** lower-cased name → { name as written, hash } */
	passwords: Map<string, { name: string; hash: string }>;
	/** lower-cased name → lower-cased groups */
	groups: Map<string, Set<string>>;
}

export class ReviewerListError extends Error {}

/** Reads the credential's two lists; a malformed line is named (by number, never by its content's secret part). */
export function parseDirectory(reviewers: string, groups: string): ReviewerDirectory {
	const directory: ReviewerDirectory = { passwords: new Map(), groups: new Map() };
	reviewers.split(/\r?\n/).forEach((raw, i) => {
		const line = raw.trim();
		if (!line || line.startsWith('#')) return;
		const colon = line.indexOf(':');
		const name = colon > 0 ? line.slice(0, colon).trim() : '';
		const hash = colon > 0 ? line.slice(colon + 1).trim() : '';
		if (!name || !hash.startsWith('scrypt:') || hash.split(':').length !== 6) {
			throw new ReviewerListError(`Reviewers, line ${i + 1}: write "name: scrypt:…" (a hash from scripts/hash-reviewer-password.js)`);
		}
		directory.passwords.set(name.toLowerCase(), { name, hash });
	});
	groups.split(/\r?\n/).forEach((raw, i) => {
		const line = raw.trim();
		if (!line || line.startsWith('#')) return;
		const colon = line.indexOf(':');
		if (colon <= 0) throw new ReviewerListError(`Groups, line ${i + 1}: write "group: name, name"`);
		const group = line.slice(0, colon).trim().toLowerCase();
		for (const member of line.slice(colon + 1).split(',').map((m) => m.trim().toLowerCase()).filter(Boolean)) {
			const set = directory.groups.get(member) ?? new Set<string>();
			set.add(group);
			directory.groups.set(member, set);
		}
	});
	return directory;
}

/** Checks a sign-in; returns the reviewer's name as written in the list, or undefined. */
export function signIn(directory: ReviewerDirectory, name: string, password: string): string | undefined {
	const entry = directory.passwords.get(name.trim().toLowerCase());
	// an unknown name costs one scrypt too, so it cannot be told from a wrong password by time
	const hash = entry?.hash ?? DUMMY_HASH;
	const ok = verifyPassword(password, hash);
	return entry && ok ? entry.name : undefined;
}

const DUMMY_HASH = hashPassword('not a password', Buffer.alloc(16, 7));

export const SESSION_COOKIE = 'governed_ai_inbox';
export const SESSION_HOURS = 12;

/** `<payload>.<mac>`: payload base64url JSON { u: name, e: expiry ms }. */
export function signSession(name: string, secret: string, now: Date, hours: number = SESSION_HOURS): string {
	const payload = Buffer.from(JSON.stringify({ u: name, e: now.getTime() + hours * 3_600_000 })).toString('base64url');
	const mac = createHmac('sha256', secret).update(payload).digest('base64url');
	return `${payload}.${mac}`;
}

export function readSession(token: string | undefined, secret: string, now: Date): string | undefined {
	if (!token || !secret) return undefined;
	const dot = token.indexOf('.');
	if (dot <= 0) return undefined;
	const payload = token.slice(0, dot);
	const mac = createHmac('sha256', secret).update(payload).digest('base64url');
	if (!safeEqual(mac, token.slice(dot + 1))) return undefined;
	try {
		const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { u?: unknown; e?: unknown };
		if (typeof parsed.u !== 'string' || typeof parsed.e !== 'number' || parsed.e <= now.getTime()) return undefined;
		return parsed.u;
	} catch {
		return undefined;
	}
}

export function readCookie(header: string | undefined, name: string): string | undefined {
	if (!header) return undefined;
	for (const part of header.split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
	}
	return undefined;
}

export function sessionCookie(value: string, path: string, secure: boolean, maxAgeSeconds: number = SESSION_HOURS * 3600): string {
	return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/** `::ffff:127.0.0.1` → `127.0.0.1` */
export function normaliseAddress(address: string | undefined): string {
	const a = (address ?? '').trim().toLowerCase();
	return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function ipv4ToNumber(ip: string): number | undefined {
	const parts = ip.split('.');
	if (parts.length !== 4) return undefined;
	let n = 0;
	for (const part of parts) {
		const v = Number(part);
		if (!/^\d{1,3}$/.test(part) || v > 255) return undefined;
		n = n * 256 + v;
	}
	return n;
}

/** Is `address` one of `proxies` (exact addresses, or IPv4 ranges as a.b.c.d/bits)? */
export function isTrustedProxy(address: string | undefined, proxies: string[]): boolean {
	const peer = normaliseAddress(address);
	if (!peer) return false;
	for (const entry of proxies.map((p) => p.trim().toLowerCase()).filter(Boolean)) {
		const [base, bits] = entry.split('/');
		if (bits === undefined) {
			if (normaliseAddress(base) === peer) return true;
			continue;
		}
		const a = ipv4ToNumber(peer);
		const b = ipv4ToNumber(base);
		const size = Number(bits);
		if (a === undefined || b === undefined || !Number.isInteger(size) || size < 0 || size > 32) continue;
		const mask = size === 0 ? 0 : (~0 << (32 - size)) >>> 0;
		if (((a & mask) >>> 0) === ((b & mask) >>> 0)) return true;
	}
	return false;
}

export interface IdentitySettings {
	directory: ReviewerDirectory;
	sessionSecret: string;
	trustedHeader: string;
	trustedProxies: string[];
}

export interface Identity {
	name: string;
	via: 'password' | 'header';
	groups: string[];
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

/** The reviewer behind a request: the trusted header from a trusted proxy first, then the session cookie. */
export function identify(settings: IdentitySettings, headers: Headers, peerAddress: string | undefined, now: Date): Identity | undefined {
	const groupsOf = (name: string, extra: string[] = []) => [
		...new Set([...(settings.directory.groups.get(name.toLowerCase()) ?? []), ...extra.map((g) => g.toLowerCase())]),
	];
	if (settings.trustedHeader && isTrustedProxy(peerAddress, settings.trustedProxies)) {
		const user = header(headers, settings.trustedHeader)?.trim();
		if (user) {
			const sent = (header(headers, 'x-forwarded-groups') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
			return { name: user.slice(0, 200), via: 'header', groups: groupsOf(user, sent) };
		}
	}
	const token = readCookie(header(headers, 'cookie'), SESSION_COOKIE);
	const name = readSession(token, settings.sessionSecret, now);
	if (name && settings.directory.passwords.has(name.toLowerCase())) return { name, via: 'password', groups: groupsOf(name) };
	return undefined;
}
