/**
 * Learning from corrections (AI Classify and AI Extract, version 3): the most recent items of this step that a
 * person corrected become few-shot examples in the static part of the prompt.
 *
 * - Where from: the audit store the Audit Log writes (the file sink by default, or PostgreSQL), read with the
 *   Audit Log's own sink readers, once per run (the node's `prepare` keeps one promise for the whole run).
 * - Which: records of the same workflow and the same step (`step` and result key `aiKey`) whose review is
 *   "edited", with the text in the logged input (the Audit Log's Include Input option), and whose corrected
 *   answer still fits the node as configured now (AI Classify: only the current categories; AI Extract: the
 *   current record schema). One per decision (the latest record of it), most recent first.
 * - How many: at most `maxExamples`, and at most `maxTokens` estimated tokens (ceil(characters / 4), the rule the
 *   local provider server also applies) for the whole block; an example that does not fit is left out.
 * - Redaction: e-mail addresses, phone, card, IBAN and account numbers in the text and in the answer are masked
 *   (shared/redact.ts, every kind) before they reach the prompt, whatever the node's own Redact option says.
 * - Shown: the node lists the examples it used on each result (`corrections`: record ids, count, tokens), and
 *   since they are part of the instructions, the prompt hash changes with them.
 */
import { FileSink } from '../nodes/AuditLog/sinks/fileSink';
import { PgSink, type PgConnection } from '../nodes/AuditLog/sinks/pgSink';
import type { AuditSink } from '../nodes/AuditLog/sinks/sink';
import { checkStreamName } from '../nodes/AuditLog/sinks/sink';
import { redact } from './redact';

export interface CorrectionSettings {
	sink: 'file' | 'postgres';
	/** file sink: the path ({stream} replaced); empty: the default folder */
	filePath: string;
	/** PostgreSQL: the table */
	tableName: string;
	stream: string;
	/** the field of the logged input that holds the text, a dot path (e.g. `text` or `body.message`) */
	textField: string;
	maxExamples: number;
	maxTokens: number;
}

/** Which records are this step's, and what an answer that still fits the node looks like. */
export interface CorrectionMatch {
	step: 'classify' | 'extract';
	aiKey: string;
	workflowId: string | null;
	/** the answer as it goes in the prompt, or undefined when it does not fit the node as configured now */
	accept(answer: unknown): unknown;
}

export interface CorrectionExample {
	recordId: string;
	sequence: number;
	at: string;
	text: string;
	answer: unknown;
	tokens: number;
}

/** What a result says about the examples its prompt carried. */
export interface CorrectionsUsed {
	stream: string;
	count: number;
	/** estimated tokens of the examples block */
	tokens: number;
	maxExamples: number;
	maxTokens: number;
	/** the records the examples came from, oldest first (as they appear in the prompt) */
	examples: Array<{ recordId: string; sequence: number; at: string }>;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

function at(value: unknown, path: string): unknown {
	return path.split('.').reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), value);
}

/** Every string in a JSON value with personal data masked. */
export function redactDeep(value: unknown): unknown {
	if (typeof value === 'string') return redact(value).text;
	if (Array.isArray(value)) return value.map(redactDeep);
	if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
	return value;
}

/**
 * The answer a person settled on: the record's answer with every edit under `ai.<aiKey>.answer` applied (the
 * Human Checkpoint keys its edits that way; applying them to an answer that already holds them changes nothing).
 */
export function correctedAnswer(record: Json, aiKey: string): unknown {
	const review = record.review;
	const edits = isObject(review) && isObject(review.edits) ? review.edits : {};
	const prefix = `ai.${aiKey}.answer`;
	let answer: unknown = structuredClone(record.answer ?? null);
	for (const [path, edit] of Object.entries(edits)) {
		if (!isObject(edit) || !(path === prefix || path.startsWith(`${prefix}.`))) continue;
		const rest = path.slice(prefix.length + 1);
		if (!rest) {
			answer = structuredClone(edit.to);
			continue;
		}
		if (!isObject(answer)) answer = {};
		const segments = rest.split('.');
		if (segments.some((s) => s === '__proto__' || s === 'constructor' || s === 'prototype')) continue;
		let target = answer as Json;
		for (const segment of segments.slice(0, -1)) {
			if (!isObject(target[segment]) && !Array.isArray(target[segment])) target[segment] = {};
			target = target[segment] as Json;
		}
		target[segments[segments.length - 1]] = structuredClone(edit.to);
	}
	return answer;
}

/** One example as the prompt shows it. */
export function formatExample(text: string, answer: unknown): string {
	return `Text: ${JSON.stringify(text)}\nAnswer: ${JSON.stringify(answer)}`;
}

const HEADING = 'Earlier texts a person corrected, with the right answer (follow them for similar texts):';

/** The block the instructions end with; empty without examples. */
export function examplesBlock(examples: CorrectionExample[]): string {
	if (examples.length === 0) return '';
	return [HEADING, ...examples.map((e) => formatExample(e.text, e.answer))].join('\n');
}

/**
 * The examples from a stream's records (in sequence order, as the sinks read them): this step's corrections,
 * one per decision, the most recent that fit the count and token caps, oldest first.
 */
export function selectCorrections(records: Iterable<unknown>, match: CorrectionMatch, settings: CorrectionSettings): CorrectionExample[] {
	const latest = new Map<string, { record: Json; text: string; answer: unknown }>();
	for (const raw of records) {
		if (!isObject(raw)) continue;
		if (raw.step !== match.step || raw.aiKey !== match.aiKey) continue;
		if (match.workflowId !== null && raw.workflowId !== match.workflowId) continue;
		const key = typeof raw.decisionId === 'string' ? raw.decisionId : String(raw.recordId);
		const review = raw.review;
		if (!isObject(review) || review.decision !== 'edited') {
			// a later record of the same decision without the correction (logged again) does not undo it
			continue;
		}
		const text = at(raw.input, settings.textField);
		if (typeof text !== 'string' || text.trim() === '') continue;
		const answer = match.accept(correctedAnswer(raw, match.aiKey));
		if (answer === undefined) {
			latest.delete(key);
			continue;
		}
		latest.delete(key);
		latest.set(key, { record: raw, text, answer });
	}
	const newestFirst = [...latest.values()].sort((a, b) => Number(b.record.sequence) - Number(a.record.sequence));
	const chosen: CorrectionExample[] = [];
	// the heading counts too; each example is counted with the line break before it (a sum of rounded-up
	// estimates is never below the estimate of the whole block, so the block stays within the cap)
	let tokens = estimateTokens(HEADING);
	for (const { record, text, answer } of newestFirst) {
		if (chosen.length >= settings.maxExamples) break;
		const shownText = redact(text).text;
		const shownAnswer = redactDeep(answer);
		const cost = estimateTokens(`\n${formatExample(shownText, shownAnswer)}`);
		if (tokens + cost > settings.maxTokens) continue;
		tokens += cost;
		chosen.push({
			recordId: String(record.recordId),
			sequence: Number(record.sequence),
			at: String(record.at),
			text: shownText,
			answer: shownAnswer,
			tokens: cost,
		});
	}
	return chosen.reverse();
}

export function correctionsUsed(examples: CorrectionExample[], settings: CorrectionSettings): CorrectionsUsed {
	return {
		stream: settings.stream,
		count: examples.length,
		tokens: estimateTokens(examplesBlock(examples)),
		maxExamples: settings.maxExamples,
		maxTokens: settings.maxTokens,
		examples: examples.map(({ recordId, sequence, at: when }) => ({ recordId, sequence, at: when })),
	};
}

/** Reads the stream through the Audit Log's sink and selects the examples. */
export async function readCorrections(
	settings: CorrectionSettings,
	match: CorrectionMatch,
	pgCredentials: () => Promise<PgConnection>,
): Promise<CorrectionExample[]> {
	const stream = checkStreamName(settings.stream.trim());
	const sink: AuditSink = settings.sink === 'postgres' ? new PgSink(await pgCredentials(), settings.tableName || undefined) : new FileSink(settings.filePath || undefined);
	try {
		const records: unknown[] = [];
		for await (const page of sink.read(stream)) {
			for (const record of page) {
				// only this step's corrections are kept in memory
				if (isObject(record) && record.step === match.step && isObject(record.review) && record.review.decision === 'edited') records.push(record);
			}
		}
		return selectCorrections(records, match, { ...settings, stream });
	} finally {
		await sink.close();
	}
}
