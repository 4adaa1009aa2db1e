/**
 * Who decides in the Review Inbox: scrypt password hashes (also as made by scripts/hash-reviewer-password.js),
 * signed session cookies, and the trusted header honoured only from configured proxy addresses.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import {
	hashPassword,
	identify,
	isTrustedProxy,
	parseDirectory,
	readCookie,
	readSession,
	ReviewerListError,
	SESSION_COOKIE,
	sessionCookie,
	signIn,
	signSession,
	verifyPassword,
	type IdentitySettings,
} from '../../nodes/ReviewInbox/identity';

const now = new Date('2026-12-04T10:00:00Z');

describe('reviewer passwords', () => {
	it('hashes with scrypt and a random salt, and verifies only the right password', () => {
		const a = hashPassword('correct horse');
		const b = hashPassword('correct horse');
		expect(a).toMatch(/^scrypt:16384:8:1:[\w-]+:[\w-]+$/);
		expect(a).not.toBe(b);
		expect(a).not.toContain('correct');
		expect(verifyPassword('correct horse', a)).toBe(true);
		expect(verifyPassword('correct horsE', a)).toBe(false);
		expect(verifyPassword('correct horse', 'plain-text')).toBe(false);
		expect(verifyPassword('x', 'scrypt:99999999:8:1:AAAA:BBBB')).toBe(false);
	});

	it('the script prints a line the node accepts', () => {
		const line = execFileSync(process.execPath, [join(__dirname, '../../scripts/hash-reviewer-password.js'), 'ada'], { input: 's3cret!\n' })
			.toString()
			.trim();
		expect(line).toMatch(/^ada: scrypt:/);
		const directory = parseDirectory(line, '');
		expect(signIn(directory, 'ADA', 's3cret!')).toBe('ada');
		expect(signIn(directory, 'ada', 's3cret')).toBeUndefined();
		expect(signIn(directory, 'nobody', 's3cret!')).toBeUndefined();
	});

	it('a malformed reviewer line is named by its number, without its content', () => {
		expect(() => parseDirectory('ada: scrypt:16384:8:1:a:b\nbob: hunter2', '')).toThrow(ReviewerListError);
		expect(() => parseDirectory('ada: scrypt:16384:8:1:a:b\nbob: hunter2', '')).toThrow(/line 2/);
		expect(() => parseDirectory('ada: scrypt:16384:8:1:a:b\nbob: hunter2', '')).not.toThrow(/hunter2/);
		expect(() => parseDirectory('', 'finance ada')).toThrow(/Groups, line 1/);
	});
});

describe('sessions', () => {
	it('a signed cookie names the reviewer until it expires; a changed or foreign one names nobody', () => {
		const token = signSession('ada', 'secret-1', now, 1);
		expect(readSession(token, 'secret-1', now)).toBe('ada');
		expect(readSession(token, 'secret-2', now)).toBeUndefined();
		expect(readSession(token, 'secret-1', new Date(now.getTime() + 2 * 3_600_000))).toBeUndefined();
		const [payload, mac] = token.split('.');
		const forged = Buffer.from(JSON.stringify({ u: 'bob', e: now.getTime() + 1e9 })).toString('base64url');
		expect(readSession(`${forged}.${mac}`, 'secret-1', now)).toBeUndefined();
		expect(readSession(`${payload}.`, 'secret-1', now)).toBeUndefined();
		const cookie = sessionCookie(token, '/webhook/inbox', true);
		expect(cookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
		expect(readCookie(`a=1; ${SESSION_COOKIE}=${encodeURIComponent(token)}; b=2`, SESSION_COOKIE)).toBe(token);
	});
});

describe('trusted header', () => {
	const settings: IdentitySettings = {
		directory: parseDirectory(`ada: ${hashPassword('pw')}`, 'finance: ada, grace\nleads: grace'),
		sessionSecret: 'secret',
		trustedHeader: 'X-Forwarded-User',
		trustedProxies: ['10.0.0.5', '192.168.1.0/24'],
	};

	it('matches exact addresses, IPv4-mapped IPv6 and IPv4 ranges', () => {
		expect(isTrustedProxy('10.0.0.5', settings.trustedProxies)).toBe(true);
		expect(isTrustedProxy('::ffff:10.0.0.5', settings.trustedProxies)).toBe(true);
		expect(isTrustedProxy('192.168.1.77', settings.trustedProxies)).toBe(true);
		expect(isTrustedProxy('192.168.2.1', settings.trustedProxies)).toBe(false);
		expect(isTrustedProxy('10.0.0.6', settings.trustedProxies)).toBe(false);
		expect(isTrustedProxy(undefined, settings.trustedProxies)).toBe(false);
		expect(isTrustedProxy('10.0.0.5', [])).toBe(false);
	});

	it('the header names the reviewer only from a trusted proxy; otherwise the session cookie does', () => {
		const headers = { 'x-forwarded-user': 'grace', 'x-forwarded-groups': 'Ops' };
		expect(identify(settings, headers, '10.0.0.5', now)).toEqual({ name: 'grace', via: 'header', groups: ['finance', 'leads', 'ops'] });
		expect(identify(settings, headers, '10.9.9.9', now)).toBeUndefined();
		const cookie = `${SESSION_COOKIE}=${encodeURIComponent(signSession('ada', 'secret', now))}`;
		expect(identify(settings, { ...headers, cookie }, '10.9.9.9', now)).toEqual({ name: 'ada', via: 'password', groups: ['finance'] });
		// a session for a name no longer on the list names nobody
		const gone = `${SESSION_COOKIE}=${encodeURIComponent(signSession('bob', 'secret', now))}`;
		expect(identify(settings, { cookie: gone }, '10.9.9.9', now)).toBeUndefined();
	});
});
