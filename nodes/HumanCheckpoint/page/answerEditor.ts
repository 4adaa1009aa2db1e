/**
 * How the review page lets a person correct an answer whose AI step published an `answerSchema`, and how the
 * form is read back. The page offers the allowed values as a choice (a <select> for one value, checkboxes for
 * several) and a record field by field (a <select> for an enum or a boolean); whatever comes back is still
 * checked against the schema (answerCheck.ts), since anyone can post any form.
 *
 * Form fields, for item i: `answer_i` (one choice, or every ticked checkbox) with the marker `answer_i_list`
 * for checkboxes (none ticked sends nothing); `answer_i_k` for the k-th property of a record.
 */
import { escapeHtml } from '../../../shared/html';
import { type JsonSchema, resolveRef } from '../../../shared/schema/jsonSchemaToZod';
import { isPlainObject, jsonEqual } from '../edits';

/** How one field of a record is edited. */
export type FieldEditorKind = 'choice' | 'boolean' | 'number' | 'text' | 'json';

export interface FieldEditor {
	name: string;
	kind: FieldEditorKind;
	/** choice: the allowed values */
	options: string[];
}

export type AnswerEditor =
	| { kind: 'choice'; options: string[] }
	| { kind: 'choices'; options: string[] }
	| { kind: 'record'; fields: FieldEditor[] };

/** The allowed values of a schema that is a list of strings (null may be among them), or undefined. */
function stringChoices(schema: JsonSchema): string[] | undefined {
	if (!Array.isArray(schema.enum)) return undefined;
	const values = schema.enum.filter((v) => v !== null);
	return values.length > 0 && values.every((v) => typeof v === 'string') ? (values as string[]) : undefined;
}

/** A schema without its "or null" wrapping (type [X, "null"], anyOf / oneOf [X, null], allOf [X]). */
function unwrap(schema: JsonSchema): JsonSchema {
	for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
		const variants = schema[keyword];
		if (!Array.isArray(variants)) continue;
		const rest = variants.filter((v) => !(isPlainObject(v) && v.type === 'null'));
		return rest.length === 1 && isPlainObject(rest[0]) ? unwrap(rest[0]) : schema;
	}
	if (Array.isArray(schema.type)) {
		const types = schema.type.filter((t) => t !== 'null');
		return types.length === 1 ? { ...schema, type: types[0] } : schema;
	}
	return schema;
}

function resolved(schema: unknown, path: string, root: JsonSchema): JsonSchema | undefined {
	if (!isPlainObject(schema)) return undefined;
	try {
		return unwrap(schema.$ref !== undefined ? resolveRef(schema, path, root).schema : schema);
	} catch {
		return undefined;
	}
}

function fieldEditor(name: string, schema: JsonSchema | undefined, current: unknown): FieldEditor {
	const editor = (kind: FieldEditorKind, options: string[] = []): FieldEditor => ({ name, kind, options });
	const json = editor('json');
	if (!schema) return json;
	const fits = (type: string) => current === null || current === undefined || typeof current === type;
	const choices = stringChoices(schema);
	if (choices) return fits('string') ? editor('choice', choices) : json;
	if (schema.type === 'boolean') return fits('boolean') ? editor('boolean') : json;
	if (schema.type === 'number' || schema.type === 'integer') return fits('number') ? editor('number') : json;
	if (schema.type === 'string') return fits('string') ? editor('text') : json;
	return json;
}

/**
 * The editor an answer gets from its schema and its current value; undefined keeps the page's free
 * text box (no schema, as on results written before there was one, or a shape without a better editor).
 */
export function answerEditor(schema: JsonSchema | undefined, current: unknown): AnswerEditor | undefined {
	if (!isPlainObject(schema)) return undefined;
	const top = resolved(schema, '#', schema);
	if (!top) return undefined;
	const choices = stringChoices(top);
	if (choices || (Array.isArray(top.enum) && top.enum.length === 0)) return { kind: 'choice', options: choices ?? [] };
	if (top.type === 'array' && isPlainObject(top.items)) {
		const items = resolved(top.items, '#/items', schema);
		const options = items && stringChoices(items);
		if (options) return { kind: 'choices', options };
		return undefined;
	}
	if (isPlainObject(top.properties) && (top.type === undefined || top.type === 'object')) {
		const record = isPlainObject(current) ? current : {};
		const fields = Object.entries(top.properties).map(([name, sub]) =>
			fieldEditor(name, resolved(sub, `#/properties/${name}`, schema), record[name]),
		);
		return fields.length ? { kind: 'record', fields } : undefined;
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// The page

function option(value: string, label: string, selected: boolean): string {
	return `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
}

/** A <select> of the allowed values; the current value is kept selectable (as no change) if it is not one. */
function select(id: string, options: string[], current: unknown, emptyLabel: string | undefined): string {
	const out: string[] = [];
	const isCurrentAllowed = typeof current === 'string' && options.includes(current);
	if (current === null || current === undefined || typeof current !== 'string') {
		out.push(option('', emptyLabel ?? '(no answer)', current === null || current === undefined));
	} else if (emptyLabel !== undefined) {
		out.push(option('', emptyLabel, false));
	}
	if (typeof current === 'string' && !isCurrentAllowed) out.push(option(current, `${current} (the AI's answer; not an allowed value)`, true));
	for (const value of options) out.push(option(value, value, value === current));
	return `<select id="${id}" name="${id}">${out.join('')}</select>`;
}

function fieldText(value: unknown): string {
	return value === null || value === undefined ? '' : String(value);
}

function renderField(i: number, k: number, field: FieldEditor, current: unknown): string {
	const id = `answer_${i}_${k}`;
	let input: string;
	switch (field.kind) {
		case 'choice':
			input = select(id, field.options, current, '(none)');
			break;
		case 'boolean':
			input = `<select id="${id}" name="${id}">${option('', '(none)', typeof current !== 'boolean')}${option('true', 'true', current === true)}${option('false', 'false', current === false)}</select>`;
			break;
		case 'number':
			input = `<input type="text" inputmode="decimal" id="${id}" name="${id}" value="${escapeHtml(fieldText(current))}">`;
			break;
		case 'text': {
			const text = fieldText(current);
			input = text.includes('\n')
				? `<textarea id="${id}" name="${id}" rows="${Math.min(8, text.split('\n').length + 1)}">${escapeHtml(text)}</textarea>`
				: `<input type="text" id="${id}" name="${id}" value="${escapeHtml(text)}">`;
			break;
		}
		default: {
			const text = JSON.stringify(current ?? null, null, 2);
			input = `<textarea id="${id}" name="${id}" rows="${Math.min(8, text.split('\n').length + 1)}">${escapeHtml(text)}</textarea>`;
		}
	}
	return `<label for="${id}">${escapeHtml(field.name)}${field.kind === 'json' ? ' <span class="muted">(JSON)</span>' : ''}</label>${input}`;
}

/** The editor's HTML for item i (its label comes with it). */
export function renderAnswerEditor(i: number, editor: AnswerEditor, current: unknown): string {
	if (editor.kind === 'choice') {
		return `<label for="answer_${i}">Answer (choose another to correct the AI, then approve)</label>${select(`answer_${i}`, editor.options, current, undefined)}`;
	}
	if (editor.kind === 'choices') {
		const chosen = Array.isArray(current) ? current : [];
		const boxes = editor.options.map(
			(value) =>
				`<label><input type="checkbox" name="answer_${i}" value="${escapeHtml(value)}"${chosen.includes(value) ? ' checked' : ''}> ${escapeHtml(value)}</label>`,
		);
		return `<div class="choice"><span class="muted">Answer (tick every value that applies, then approve)</span>${boxes.join('')}<input type="hidden" name="answer_${i}_list" value="1"></div>`;
	}
	const record = isPlainObject(current) ? current : {};
	const fields = editor.fields.map((field, k) => renderField(i, k, field, record[field.name]));
	return `<div class="record"><span class="muted">Answer (change a field to correct the AI, then approve)</span>${fields.join('')}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Reading the form back

function formValues(body: Record<string, unknown>, name: string): string[] | undefined {
	const value = body[name];
	if (value === undefined) return undefined;
	const list = Array.isArray(value) ? value : [value];
	return list.filter((v): v is string => typeof v === 'string');
}

function normalizeNewlines(text: string): string {
	return text.replace(/\r\n?/g, '\n');
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A field's text as a value of its kind; text that is not one stays text, for the schema check to name. */
function fieldValue(field: FieldEditor, raw: string, current: unknown): { value: unknown } | { error: string } {
	const text = normalizeNewlines(raw);
	switch (field.kind) {
		case 'choice':
			return { value: text === '' ? null : text };
		case 'boolean':
			return { value: text === '' ? null : text === 'true' ? true : text === 'false' ? false : text };
		case 'number': {
			const trimmed = text.trim();
			return { value: trimmed === '' ? null : NUMBER.test(trimmed) ? Number(trimmed) : trimmed };
		}
		case 'text': {
			// a value left as shown is no change (browsers may alter surrounding whitespace)
			if (typeof current === 'string' && text.trim() === current.trim()) return { value: current };
			return { value: text.trim() === '' ? null : text.trim() };
		}
		default:
			if (text.trim() === '') return { value: null };
			try {
				return { value: JSON.parse(text) };
			} catch (error) {
				return { error: `${field.name}: not valid JSON (${(error as Error).message})` };
			}
	}
}

/**
 * The corrected answer from the form for one item, 'unchanged' when the form leaves it as shown, an error
 * naming the field, or undefined when the form does not carry this editor's fields (a form made elsewhere,
 * read as before). A corrected answer still needs the schema check.
 */
export function readAnswerEditor(
	body: Record<string, unknown>,
	i: number,
	editor: AnswerEditor,
	current: unknown,
): { answer: unknown } | { error: string } | 'unchanged' | undefined {
	if (editor.kind === 'choice') {
		const value = formValues(body, `answer_${i}`)?.[0];
		if (value === undefined) return undefined;
		const answer = value === '' ? null : value;
		return jsonEqual(answer, current ?? null) ? 'unchanged' : { answer };
	}
	if (editor.kind === 'choices') {
		if (formValues(body, `answer_${i}_list`) === undefined) return undefined;
		const ticked = formValues(body, `answer_${i}`) ?? [];
		// nothing ticked where the AI gave nothing either is no change
		if (ticked.length === 0 && (current === null || current === undefined || (Array.isArray(current) && current.length === 0))) return 'unchanged';
		const before = Array.isArray(current) ? current : [];
		const same = ticked.length === before.length && ticked.every((v) => before.includes(v));
		return same ? 'unchanged' : { answer: ticked };
	}
	const record = isPlainObject(current) ? current : Object.fromEntries(editor.fields.map((f) => [f.name, null]));
	const edits: Record<string, unknown> = {};
	let seen = false;
	for (const [k, field] of editor.fields.entries()) {
		const raw = formValues(body, `answer_${i}_${k}`)?.[0];
		if (raw === undefined) continue;
		seen = true;
		const before = record[field.name] ?? null;
		const read = fieldValue(field, raw, before);
		if ('error' in read) return read;
		if (!jsonEqual(read.value, before)) edits[field.name] = read.value;
	}
	if (!seen) return undefined;
	if (Object.keys(edits).length === 0) return 'unchanged';
	return { answer: { ...record, ...edits } };
}
