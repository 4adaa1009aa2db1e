/**
 * The record the user wants, from any of the three ways to describe it (a field list, a pasted JSON Schema,
 * an example JSON). All three become a JSON Schema first, so one converter decides what is supported.
 */
import type { z } from 'zod/v4';

import {
	type JsonSchema,
	jsonSchemaToZod,
	jsonSchemaToZodAt,
	resolveRef,
	UnsupportedSchemaError,
} from '../../shared/schema/jsonSchemaToZod';

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'enum', 'list'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** One row of the editor's field list. */
export interface FieldRow {
	name: string;
	type: FieldType;
	description: string;
	required: boolean;
	/** enum: the allowed values, comma-separated */
	values: string;
}

/** How a field's value is checked against its quote. */
export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'datetime' | 'enum' | 'list' | 'object' | 'other';

export interface ExtractField {
	name: string;
	required: boolean;
	description: string;
	kind: FieldKind;
	/** the value schema, without null (the answer makes every value nullable) */
	value: z.ZodType;
}

/** A schema the user gave that we cannot use. `keyword`/`path` are set for unsupported JSON Schema. */
export class SchemaInputError extends Error {
	constructor(
		message: string,
		readonly keyword?: string,
		readonly path?: string,
	) {
		super(message);
		this.name = 'SchemaInputError';
	}
}

function isObject(value: unknown): value is JsonSchema {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field list → JSON Schema. */
export function fieldsToJsonSchema(rows: FieldRow[]): JsonSchema {
	if (rows.length === 0) throw new SchemaInputError('Add at least one field to extract');
	const properties: Record<string, JsonSchema> = {};
	const required: string[] = [];
	rows.forEach((row, i) => {
		const name = row.name.trim();
		if (!name) throw new SchemaInputError(`Field ${i + 1} has no name`);
		if (name in properties) throw new SchemaInputError(`The field "${name}" is listed twice`);
		const description = row.description.trim() ? { description: row.description.trim() } : {};
		switch (row.type) {
			case 'date':
				properties[name] = { type: 'string', format: 'date', ...description };
				break;
			case 'enum': {
				const values = row.values
					.split(',')
					.map((v) => v.trim())
					.filter(Boolean);
				if (values.length === 0) throw new SchemaInputError(`The field "${name}" is an enum but has no allowed values`);
				properties[name] = { type: 'string', enum: [...new Set(values)], ...description };
				break;
			}
			case 'list':
				properties[name] = { type: 'array', items: { type: 'string' }, ...description };
				break;
			case 'string':
			case 'number':
			case 'integer':
			case 'boolean':
				properties[name] = { type: row.type, ...description };
				break;
			default:
				throw new SchemaInputError(`The field "${name}" has an unknown type "${String(row.type)}"`);
		}
		if (row.required) required.push(name);
	});
	return { type: 'object', properties, required };
}

/** Example JSON → JSON Schema. Every field of the example is required; a pasted JSON Schema can say otherwise. */
export function exampleToJsonSchema(example: unknown): JsonSchema {
	if (!isObject(example) || Object.keys(example).length === 0) {
		throw new SchemaInputError('The example must be a JSON object with at least one field, e.g. {"invoice_number": "INV-1", "total": 120.5}');
	}
	return infer(example, 'example') as JsonSchema;
}

function infer(value: unknown, at: string): JsonSchema {
	if (value === null) return { type: ['string', 'null'] };
	if (typeof value === 'string') return /^\d{4}-\d{2}-\d{2}$/.test(value) ? { type: 'string', format: 'date' } : { type: 'string' };
	if (typeof value === 'number') return { type: 'number' };
	if (typeof value === 'boolean') return { type: 'boolean' };
	if (Array.isArray(value)) {
		if (value.length === 0) throw new SchemaInputError(`The example list at ${at} is empty: give one element so its type is known`);
		return { type: 'array', items: infer(value[0], `${at}[0]`) };
	}
	if (isObject(value)) {
		const keys = Object.keys(value);
		if (keys.length === 0) throw new SchemaInputError(`The example object at ${at} is empty: give its fields`);
		return {
			type: 'object',
			properties: Object.fromEntries(keys.map((k) => [k, infer(value[k], `${at}.${k}`)])),
			required: keys,
		};
	}
	throw new SchemaInputError(`The example value at ${at} is not JSON`);
}

/** Parses a JSON parameter that may already be an object (n8n's json type gives either). */
export function parseJsonParameter(value: unknown, what: string): unknown {
	if (typeof value !== 'string') return value;
	try {
		return JSON.parse(value);
	} catch (error) {
		throw new SchemaInputError(`${what} is not valid JSON: ${(error as Error).message}`);
	}
}

/**
 * The fields of a JSON Schema whose top level is an object. Validates the whole schema first, so an
 * unsupported keyword anywhere fails with its name and path.
 */
export function fieldsOf(schema: unknown): ExtractField[] {
	if (!isObject(schema)) throw new SchemaInputError('The JSON Schema must be a JSON object');
	const root = schema;
	try {
		jsonSchemaToZod(root);
	} catch (error) {
		if (error instanceof UnsupportedSchemaError) throw new SchemaInputError(error.message, error.keyword, error.path);
		throw error;
	}
	const top = typeof root.$ref === 'string' ? resolveRef(root, '#', root).schema : root;
	if (!isObject(top.properties) || (top.type !== undefined && top.type !== 'object')) {
		throw new SchemaInputError('The JSON Schema must describe an object with "properties" (one per field to extract)');
	}
	const required = Array.isArray(top.required) ? (top.required as string[]) : [];
	return Object.entries(top.properties as Record<string, JsonSchema>).map(([name, sub]) => {
		const path = `#/properties/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
		const resolved = typeof sub.$ref === 'string' ? resolveRef(sub, path, root).schema : sub;
		// not strict at the field level: the answer wraps every value in .nullable() itself
		const value = jsonSchemaToZodAt(root, resolved, path);
		const kind = kindOf(resolved);
		return {
			name,
			required: required.includes(name),
			description: typeof resolved.description === 'string' ? resolved.description : '',
			kind,
			value,
		};
	});
}

function kindOf(schema: JsonSchema): FieldKind {
	const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
	if (Array.isArray(schema.enum)) return 'enum';
	if (type === 'string' && schema.format === 'date') return 'date';
	if (type === 'string' && schema.format === 'date-time') return 'datetime';
	if (type === 'string') return 'string';
	if (type === 'number') return 'number';
	if (type === 'integer') return 'integer';
	if (type === 'boolean') return 'boolean';
	if (type === 'array' || schema.items !== undefined) return 'list';
	if (type === 'object' || isObject(schema.properties)) return 'object';
	return 'other';
}
