/**
 * The one canonical JSON and sha256 (shared/hash.ts) are stored formats: the audit chain hashes them, and prompt
 * hashes are compared across runs. The expected values below were computed by the two implementations the
 * package had before they became one (the audit chain's and the prompt hash's, which agreed); they must never
 * change, or records written earlier stop verifying.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { computeHash, verifyChain } from '../../nodes/AuditLog/chain';
import { canonicalJson, canonicalJsonWithout, promptHash, sha256 } from '../../shared/hash';

const value = { b: 1, a: { d: [1, { z: true, y: null }], c: 'x', e: 'é\u2028"' }, n: -0.5, u: undefined, list: [undefined, 'ü'] };

describe('canonical JSON and sha256, frozen', () => {
	it('canonical JSON: sorted keys, no whitespace, undefined members left out, undefined in arrays as null', () => {
		expect(canonicalJson(value)).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}],"e":"é\u2028\\""},"b":1,"list":[null,"ü"],"n":-0.5}');
		// key order of the input does not matter
		expect(canonicalJson({ n: -0.5, list: [undefined, 'ü'], b: 1, a: { e: 'é\u2028"', c: 'x', d: [1, { y: null, z: true }] } })).toBe(canonicalJson(value));
	});

	it('a prompt hash', () => {
		const parts = { step: 'classify', instructions: 'Label the ticket.', method: 'logprobs', samples: 5, provider: 'openai', model: 'gpt-4.1-mini', temperature: 0 };
		expect(promptHash(parts)).toBe('c1a5afaf8ce8ce9dcbb266ef01fe79ec49fefe1f906312a664cce84d328c7718');
	});

	it("a record's hash: over prevHash and the record without its own hash", () => {
		const record = { v: 1, recordId: 'r-1', stream: 's', sequence: 1, prevHash: '0'.repeat(64), answer: { label: 'billing' }, hash: 'x' };
		expect(computeHash(record)).toBe('d8b1e3e6e3823b1edbb3670c8cf1c609d25f641e8849cbc10b1aeaa2156a7a08');
		expect(canonicalJsonWithout(record, 'hash')).toBe(canonicalJson({ ...record, hash: undefined }));
		expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
	});

	it('records written by record format v1 still verify', () => {
		const lines = readFileSync(join(__dirname, 'fixtures', 'audit-v1.jsonl'), 'utf8').split('\n').filter(Boolean);
		const result = verifyChain(lines.map((line) => JSON.parse(line)));
		expect(result).toMatchObject({ valid: true, records: lines.length, firstBad: null });
	});
});
