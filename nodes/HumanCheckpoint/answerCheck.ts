/**
 * Holds a reviewer's corrected answer to the schema the AI step published (`ai.<key>.answerSchema`): the same
 * JSON Schema → zod translation the AI nodes use, so a correction can be nothing the model's answer could not
 * be. Every problem names the field by its path on the item (`ai.classify.answer`, `ai.extract.answer.total`).
 */
import type { z } from 'zod/v4';

import { type JsonSchema, jsonSchemaToZod } from '../../shared/schema/jsonSchemaToZod';
import { diffValues, isPlainObject } from './edits';

type Checker = { ok: true; schema: z.ZodType } | { ok: false; problem: string };

function show(value: unknown): string {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function joinPath(base: string, segments: ReadonlyArray<PropertyKey>): string {
	return segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : `${path}.${String(s)}`), base);
}

function valueAt(value: unknown, segments: ReadonlyArray<PropertyKey>): unknown {
	let current = value;
	for (const s of segments) {
		if (Array.isArray(current) && typeof s === 'number') current = current[s];
		else if (isPlainObject(current) && typeof s === 'string') current = current[s];
		else return undefined;
	}
	return current;
}

function describeIssue(issue: z.core.$ZodIssue, answer: unknown, base: string): string {
	const path = joinPath(base, issue.path);
	const value = valueAt(answer, issue.path);
	switch (issue.code) {
		case 'invalid_value': {
			const allowed = issue.values.map((v) => String(v)).join(', ');
			return value === undefined ? `${path}: is missing (expected one of ${allowed})` : `${path}: ${show(value)} is not one of ${allowed}`;
		}
		case 'too_small':
			return issue.origin === 'array' ? `${path}: needs at least ${String(issue.minimum)} value(s)` : `${path}: ${issue.message}`;
		case 'invalid_type':
			return value === undefined
				? `${path}: is missing (expected ${issue.expected})`
				: `${path}: expected ${issue.expected}, got ${show(value)}`;
		default:
			return `${path}: ${issue.message}`;
	}
}

/**
 * Returns a checker for one review submission: it converts each distinct schema once, and answers the
 * problems of an answer (empty when the answer fits). A schema that cannot be converted refuses every edit:
 * a correction that cannot be checked is not passed on.
 */
export function answerChecker(): (schema: JsonSchema, answer: unknown, path: string) => string[] {
	const converted = new Map<string, Checker>();
	const compile = (schema: JsonSchema): Checker => {
		const key = JSON.stringify(schema);
		let checker = converted.get(key);
		if (!checker) {
			if (Array.isArray(schema.enum) && schema.enum.length === 0) {
				checker = { ok: false, problem: 'no value is allowed here (every choice is ruled out for this item)' };
			} else {
				try {
					checker = { ok: true, schema: jsonSchemaToZod(schema) };
				} catch (error) {
					checker = { ok: false, problem: `its schema cannot be checked (${(error as Error).message})` };
				}
			}
			converted.set(key, checker);
		}
		return checker;
	};
	return (schema, answer, path) => {
		const checker = compile(schema);
		if (!checker.ok) return [`${path}: cannot be edited, ${checker.problem}; approve it as it is or reject it`];
		const parsed = checker.schema.safeParse(answer);
		if (!parsed.success) return parsed.error.issues.map((issue) => describeIssue(issue, answer, path));
		// zod drops keys the schema does not name; a correction that adds one is not the schema's record
		return Object.keys(diffValues(answer, parsed.data, path)).map((field) => `${field}: is not a field of the schema`);
	};
}
