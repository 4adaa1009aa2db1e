/**
 * Where audit records go. Every sink numbers and chains a batch under its own lock, so that several
 * executions (and several n8n processes) appending to one stream at once keep it gap-free and valid.
 */
import type { AuditDraft, AuditRecord } from '../record';
import type { TrustSummary } from '../trust/summary';

export interface TimeWindow {
	/** inclusive, ISO 8601 */
	from?: string;
	/** exclusive, ISO 8601 */
	to?: string;
}

export interface AuditSink {
	/** Chains the drafts onto the stream in the given order and stores them; returns them as stored. */
	append(stream: string, drafts: AuditDraft[]): Promise<AuditRecord[]>;
	/**
	 * The stream's records in sequence order, a page at a time, as stored (not validated: Verify must see
	 * what is really there). With a window, only records whose `at` falls inside it.
	 */
	read(stream: string, window?: TimeWindow): AsyncIterable<unknown[]>;
	/**
	 * The stream's trust summary (../trust/summary.ts), kept up to date on append so that reading it costs the
	 * same for a stream of a million records as for ten. Only sinks that can be read back have it.
	 */
	trustSummary?(stream: string): Promise<TrustSummary>;
	/** Releases connections; safe to call more than once. */
	close(): Promise<void>;
}

/** The error a sink throws for a problem the user can fix (a bad name, an unreadable file). */
export class AuditSinkError extends Error {
	constructor(
		message: string,
		readonly field?: string,
	) {
		super(message);
		this.name = 'AuditSinkError';
	}
}

const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkStreamName(stream: string): string {
	if (!STREAM_NAME.test(stream)) {
		throw new AuditSinkError(
			`Stream name "${stream}" is not allowed: use 1-100 letters, digits, dots, dashes or underscores, starting with a letter or digit`,
			'stream',
		);
	}
	return stream;
}

export function inWindow(at: unknown, window?: TimeWindow): boolean {
	if (!window) return true;
	if (typeof at !== 'string') return false;
	const t = Date.parse(at);
	if (Number.isNaN(t)) return false;
	if (window.from && t < Date.parse(window.from)) return false;
	if (window.to && t >= Date.parse(window.to)) return false;
	return true;
}
