/**
 * Replays answers recorded per sample (examples/data/recorded-answers.json) instead of guessing from
 * keywords, so the demo without an API key shows what a good model does on the sample tickets and leads,
 * and the tests use the same answers. A request is matched to its sample by the ticket's subject or the
 * lead's message in the prompt.
 */
import * as fs from 'node:fs';

import { jsonWithLogprobs } from './tokens';
import type { RecordedRequest, Reply, Responder } from './types';

export interface RecordedAnswer {
	label?: string;
	action?: string;
	confidence: number;
	reason: string;
	evidence: string[];
}

export interface RecordedAnswers {
	about?: string;
	tickets: Record<string, { classify: RecordedAnswer; decide?: RecordedAnswer }>;
	leads?: Record<string, { decide: RecordedAnswer }>;
}

/** What a sample needs to be recognised in a prompt: a ticket's subject, or a lead's message. */
export interface RecordedSample {
	id: string;
	subject?: string;
	message?: string;
}

const matchText = (s: RecordedSample): string => s.subject ?? s.message ?? '';

/** The reason shown in n8n, on the review page and in the audit log says it was recorded, not answered live. */
export const RECORDED_PREFIX = 'Recorded answer: ';

/** The sample a request is about: the one whose subject or message the prompt holds (longest match wins). */
function sampleOf(req: RecordedRequest, samples: RecordedSample[]): RecordedSample | undefined {
	const text = JSON.stringify(req.body?.messages ?? []);
	return samples
		.filter((s) => matchText(s) && text.includes(matchText(s)))
		.sort((a, b) => matchText(b).length - matchText(a).length)[0];
}

/**
 * Answers a classify request (a schema with `label`) with the recorded label and its probability as a
 * log-probability, and a decide request (a schema with an `action` enum) with the recorded action when
 * it is offered. Anything else (another sample file, an action a rule withheld) gives undefined.
 */
export function recordedAnswer(req: RecordedRequest, answers: RecordedAnswers, samples: RecordedSample[]): Reply | undefined {
	const sample = sampleOf(req, samples);
	const recorded: { classify?: RecordedAnswer; decide?: RecordedAnswer } | undefined = sample && (answers.tickets[sample.id] ?? answers.leads?.[sample.id]);
	if (!recorded) return undefined;
	const props = (req.schema as { properties?: Record<string, any> } | undefined)?.properties ?? {};
	if (props.label) {
		if (!recorded.classify) return undefined;
		const { label, confidence, reason, evidence } = recorded.classify;
		return jsonWithLogprobs({ label, reason: RECORDED_PREFIX + reason, evidence }, { [label!]: Math.log(confidence) });
	}
	const offered: string[] = props.action?.enum ?? [];
	const decide = recorded.decide;
	if (decide && offered.includes(decide.action!)) {
		return { json: { action: decide.action, reason: RECORDED_PREFIX + decide.reason, evidence: decide.evidence, confidence: decide.confidence } };
	}
	return undefined;
}

/** A responder from the recorded answers, falling back to `otherwise` for requests it has no answer for. */
export function recordedResponder(answers: RecordedAnswers, samples: RecordedSample[], otherwise: Responder): Responder {
	return (req, i) => recordedAnswer(req, answers, samples) ?? otherwise(req, i);
}

/** Reads the answers file and the sample files it answers for (tickets.json, leads.json). */
export function loadRecorded(answersFile: string, sampleFiles: string[]): { answers: RecordedAnswers; samples: RecordedSample[] } {
	const answers = JSON.parse(fs.readFileSync(answersFile, 'utf8')) as RecordedAnswers;
	const samples = sampleFiles.flatMap((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedSample[]);
	return { answers, samples: samples.filter((s) => matchText(s) && (answers.tickets[s.id] || answers.leads?.[s.id])) };
}
