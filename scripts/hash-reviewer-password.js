#!/usr/bin/env node
/**
 * Prints one line for the Governed AI Reviewers credential: `name: scrypt:N:r:p:salt:hash`.
 *   node scripts/hash-reviewer-password.js ada          (asks for the password, not echoed to the history)
 *   printf '%s' "$PASSWORD" | node scripts/hash-reviewer-password.js ada
 * The same format as nodes/ReviewInbox/identity.ts hashPassword (scrypt of node:crypto, N=16384, r=8, p=1).
 */
const { randomBytes, scryptSync } = require('node:crypto');

const name = process.argv[2];
if (!name || name.includes(':')) {
	console.error('usage: node scripts/hash-reviewer-password.js <reviewer name>  (password on stdin)');
	process.exit(2);
}
let input = '';
if (process.stdin.isTTY) process.stderr.write(`Password for ${name}: `);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
	const password = input.replace(/\r?\n$/, '');
	if (!password) {
		console.error('empty password');
		process.exit(2);
	}
	const salt = randomBytes(16);
	const hash = scryptSync(password.normalize('NFC'), salt, 32, { N: 16384, r: 8, p: 1 });
	console.log(`${name}: scrypt:16384:8:1:${salt.toString('base64url')}:${hash.toString('base64url')}`);
});
