/**
 * The hash chain of an audit stream.
 *
 * Each record carries the hash of the record before it (`prevHash`) and its own
 * `hash = sha256(prevHash + canonical(record without hash))`. Changing, removing, adding or moving a
 * record breaks the chain at that point, and `ChainVerifier` names the first place where it breaks.
 *
 * The canonical form (shared/hash.ts) is a stored format: records written today must verify in every later
 * version; tests freeze it with fixed expected hashes.
 */
import { canonicalJsonWithout, sha256 } from '../../shared/hash';
import type { AuditDraft, AuditRecord } from './record';
import type { AuditSink } from './sinks/sink';

export const GENESIS_HASH = '0'.repeat(64);

/** The hash a record should carry: over its previous hash and everything in it except `hash`. */
export function computeHash(record: Record<string, unknown>): string {
	const prevHash = typeof record.prevHash === 'string' ? record.prevHash : '';
	return sha256(prevHash + canonicalJsonWithout(record, 'hash'));
}

/** Where a stream's chain currently ends; a new stream starts at the genesis head. */
export interface ChainHead {
	sequence: number;
	hash: string;
	recordId: string | null;
}

export const GENESIS_HEAD: ChainHead = { sequence: 0, hash: GENESIS_HASH, recordId: null };

/** Numbers, links and hashes a batch of drafts onto the head of a stream. Call only under the sink's lock. */
export function sealRecords(stream: string, head: ChainHead, drafts: AuditDraft[]): AuditRecord[] {
	const out: AuditRecord[] = [];
	let prev = head;
	for (const draft of drafts) {
		const unsealed = {
			...draft,
			stream,
			sequence: prev.sequence + 1,
			prevHash: prev.hash,
			prevRecordId: prev.recordId,
		};
		const record = { ...unsealed, hash: computeHash(unsealed) } as AuditRecord;
		out.push(record);
		prev = { sequence: record.sequence, hash: record.hash, recordId: record.recordId };
	}
	return out;
}

export function headOf(record: Pick<AuditRecord, 'sequence' | 'hash' | 'recordId'>): ChainHead {
	return { sequence: record.sequence, hash: record.hash, recordId: record.recordId };
}

/**
 * What the chain itself needs of a record; the rest is covered by the hash, whatever it holds.
 * Checked by hand rather than with zod: Verify runs this 100,000 times in a few seconds.
 */
function chainFieldsProblem(raw: unknown): string | null {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
	const r = raw as Record<string, unknown>;
	if (typeof r.recordId !== 'string') return 'recordId: expected a string';
	if (typeof r.sequence !== 'number' || !Number.isInteger(r.sequence) || r.sequence < 1) {
		return 'sequence: expected a positive integer';
	}
	if (typeof r.prevHash !== 'string') return 'prevHash: expected a string';
	if (r.prevRecordId !== null && typeof r.prevRecordId !== 'string') return 'prevRecordId: expected a string or null';
	if (typeof r.hash !== 'string') return 'hash: expected a string';
	return null;
}

interface ChainFields {
	recordId: string;
	sequence: number;
	prevHash: string;
	prevRecordId: string | null;
	hash: string;
}

export const CHAIN_PROBLEMS = ['malformed', 'edited', 'deleted', 'inserted', 'reordered'] as const;
export type ChainProblem = (typeof CHAIN_PROBLEMS)[number];

export interface FirstBad {
	problem: ChainProblem;
	/** the sequence number where the chain breaks (for a deletion: the first missing number) */
	sequence: number | null;
	/** the record concerned; for a deletion of one record, the id its successor names as its predecessor */
	recordId: string | null;
	/** 1-based position in the order the sink returned the records */
	position: number;
	detail: string;
}

export interface VerifyResult {
	valid: boolean;
	records: number;
	firstBad: FirstBad | null;
	lastSequence: number;
	lastHash: string;
}

interface Pending {
	kind: 'gap' | 'link' | 'backwards';
	expectedSequence: number;
	sequence: number;
	recordId: string | null;
	prevRecordId: string | null;
	prevHash: string;
	position: number;
	/** resolved while the rest of the stream is read */
	missingFoundLater: boolean;
	prevHashIsKnown: boolean;
}

/**
 * Checks a stream's records in stored order, one batch at a time, so a large stream never has to sit in
 * memory as objects. After the first break it only keeps reading sequence numbers and hashes, which it
 * needs to tell a deletion from a reordering and an insertion.
 *
 * Known limit of any unkeyed chain: removing records from the end, or rewriting every record from some
 * point on with fresh hashes, leaves a valid shorter/other chain. The `audit` stamp on each n8n item (its
 * sequence and hash) and a copy of the last hash kept elsewhere are what catch those.
 */
export class ChainVerifier {
	private count = 0;
	private expected: ChainHead = GENESIS_HEAD;
	private firstBad: FirstBad | null = null;
	private pending: Pending | null = null;
	/**
	 * The hashes seen so far, as numbers from their first 13 hex digits (52 bits): 1,000,000 records cost a few
	 * MB instead of a string each, and a false match is one in 2^52. Only needed to tell a moved record from an
	 * inserted one when a link breaks.
	 */
	private readonly seenHashes = new Set<number | string>();

	push(raw: unknown): void {
		this.count++;
		const position = this.count;
		const looseSequence = readNumber(raw, 'sequence');
		const looseHash = readString(raw, 'hash');
		if (looseHash) this.seenHashes.add(hashKey(looseHash));
		if (this.pending) {
			if (looseSequence === this.pending.expectedSequence) this.pending.missingFoundLater = true;
			if (this.pending.prevHash === looseHash) this.pending.prevHashIsKnown = true;
		}
		if (this.firstBad || this.pending) return;

		const problem = chainFieldsProblem(raw);
		if (problem) {
			this.firstBad = {
				problem: 'malformed',
				sequence: looseSequence,
				recordId: readString(raw, 'recordId'),
				position,
				detail: `not an audit record: ${problem}`,
			};
			return;
		}
		const record = raw as ChainFields;
		// until the first break every record came in chain order from 1: a sequence up to the head's was seen
		const alreadySeen = record.sequence <= this.expected.sequence;

		// hash the record as stored (not the parsed copy, which drops fields someone may have added)
		if (computeHash(raw as Record<string, unknown>) !== record.hash) {
			this.firstBad = {
				problem: 'edited',
				sequence: record.sequence,
				recordId: record.recordId,
				position,
				detail: `the content of record ${record.sequence} no longer matches its hash`,
			};
			return;
		}
		const expectedSequence = this.expected.sequence + 1;
		if (record.sequence === expectedSequence && record.prevHash === this.expected.hash) {
			this.expected = headOf(record);
			return;
		}
		if (record.sequence < expectedSequence) {
			this.firstBad = {
				problem: alreadySeen ? 'inserted' : 'reordered',
				sequence: record.sequence,
				recordId: record.recordId,
				position,
				detail: alreadySeen
					? `a second record with sequence ${record.sequence} appears after sequence ${this.expected.sequence}`
					: `record ${record.sequence} appears after record ${this.expected.sequence}`,
			};
			return;
		}
		// A gap or a broken link: whether it is a deletion, a move or an insertion depends on what follows.
		this.pending = {
			kind: record.sequence > expectedSequence ? 'gap' : 'link',
			expectedSequence,
			sequence: record.sequence,
			recordId: record.recordId,
			prevRecordId: record.prevRecordId,
			prevHash: record.prevHash,
			position,
			missingFoundLater: false,
			prevHashIsKnown: this.seenHashes.has(hashKey(record.prevHash)),
		};
	}

	pushAll(records: Iterable<unknown>): void {
		for (const record of records) this.push(record);
	}

	result(): VerifyResult {
		const firstBad = this.firstBad ?? (this.pending ? this.classify(this.pending) : null);
		return {
			valid: firstBad === null,
			records: this.count,
			firstBad,
			lastSequence: this.expected.sequence,
			lastHash: this.expected.hash,
		};
	}

	private classify(p: Pending): FirstBad {
		if (p.kind === 'gap') {
			if (p.missingFoundLater) {
				return {
					problem: 'reordered',
					sequence: p.sequence,
					recordId: p.recordId,
					position: p.position,
					detail: `record ${p.sequence} appears before record ${p.expectedSequence}`,
				};
			}
			const missing = p.sequence - p.expectedSequence;
			return {
				problem: 'deleted',
				sequence: p.expectedSequence,
				// the successor names its predecessor, which is the deleted record when one record is gone
				recordId: missing === 1 ? p.prevRecordId : null,
				position: p.position,
				detail:
					missing === 1
						? `record ${p.expectedSequence} (${p.prevRecordId ?? 'unknown id'}) is missing before record ${p.sequence} (${p.recordId})`
						: `records ${p.expectedSequence}..${p.sequence - 1} are missing before record ${p.sequence} (${p.recordId}); the last of them was ${p.prevRecordId ?? 'unknown'}`,
			};
		}
		if (p.prevHashIsKnown) {
			return {
				problem: 'reordered',
				sequence: p.sequence,
				recordId: p.recordId,
				position: p.position,
				detail: `record ${p.sequence} follows a different record than the one before it`,
			};
		}
		return {
			problem: 'inserted',
			sequence: p.sequence,
			recordId: p.recordId,
			position: p.position,
			detail: `record ${p.sequence} does not chain from record ${p.expectedSequence - 1}; it was inserted or replaced`,
		};
	}
}

export function verifyChain(records: Iterable<unknown>): VerifyResult {
	const verifier = new ChainVerifier();
	verifier.pushAll(records);
	return verifier.result();
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** A sha256 hex hash as a number (its first 13 hex digits); anything else kept as it is. */
function hashKey(hash: string): number | string {
	return HEX_HASH.test(hash) ? parseInt(hash.slice(0, 13), 16) : hash;
}

function readNumber(raw: unknown, key: string): number | null {
	if (typeof raw !== 'object' || raw === null) return null;
	const value = (raw as Record<string, unknown>)[key];
	return typeof value === 'number' ? value : null;
}

function readString(raw: unknown, key: string): string | null {
	if (typeof raw !== 'object' || raw === null) return null;
	const value = (raw as Record<string, unknown>)[key];
	return typeof value === 'string' ? value : null;
}

/**
 * Verifies a stream page by page, as stored: only the page being checked and the one being read are in memory
 * (and a number per record's hash, see ChainVerifier). The next page is asked for before the current one is
 * checked, so a database fetches it while this process hashes.
 */
export async function verifyStream(sink: AuditSink, stream: string): Promise<VerifyResult> {
	const verifier = new ChainVerifier();
	const pages = sink.read(stream)[Symbol.asyncIterator]();
	let next = pages.next();
	for (;;) {
		const page = await next;
		if (page.done) break;
		next = pages.next();
		// a failed read of the next page surfaces when it is awaited, not as an unhandled rejection meanwhile
		next.catch(() => undefined);
		verifier.pushAll(page.value);
	}
	return verifier.result();
}
