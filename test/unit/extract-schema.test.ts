/**
 * JSON Schema → zod → strict JSON Schema, and the three ways AI Extract describes a record. Unsupported
 * keywords fail with the keyword and its path; supported ones are honoured by the validator.
 */
import { z } from 'zod/v4';

import { exampleToJsonSchema, fieldsOf, fieldsToJsonSchema, SchemaInputError } from '../../nodes/AiExtract/schema';
import { jsonSchemaToZod, UnsupportedSchemaError } from '../../shared/schema/jsonSchemaToZod';
import { toModelSchema } from '../../shared/structured';
import { strictSchemaProblem } from '../provider-server';

function refusal(schema: unknown): UnsupportedSchemaError {
	try {
		jsonSchemaToZod(schema);
	} catch (error) {
		if (error instanceof UnsupportedSchemaError) return error;
		throw error;
	}
	throw new Error('the schema was accepted');
}

describe('jsonSchemaToZod', () => {
	const invoice = {
		$schema: 'http://json-schema.org/draft-07/schema#',
		title: 'Invoice',
		type: 'object',
		properties: {
			number: { type: 'string', minLength: 3, pattern: '^INV-' },
			total: { type: 'number', exclusiveMinimum: 0 },
			lines: { type: 'integer', minimum: 1, maximum: 100 },
			currency: { enum: ['EUR', 'USD'] },
			due: { type: 'string', format: 'date', description: 'Due date' },
			paid: { type: ['boolean', 'null'] },
			tags: { type: 'array', items: { type: 'string' }, maxItems: 3, uniqueItems: true },
			supplier: { $ref: '#/$defs/party' },
			note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
		},
		required: ['number', 'total', 'lines', 'currency', 'due', 'paid', 'tags', 'supplier'],
		additionalProperties: false,
		$defs: { party: { type: 'object', properties: { name: { type: 'string' }, vat: { type: 'string' } }, required: ['name'] } },
	};
	const valid = {
		number: 'INV-1',
		total: 10.5,
		lines: 2,
		currency: 'EUR',
		due: '2024-03-31',
		paid: null,
		tags: ['a', 'b'],
		supplier: { name: 'ACME', vat: null },
		note: null,
	};

	it('honours the supported keywords when validating', () => {
		const schema = jsonSchemaToZod(invoice);
		expect(schema.safeParse(valid).success).toBe(true);
		const wrong: Array<[string, unknown]> = [
			['number', 'X-1'],
			['total', 0],
			['lines', 1.5],
			['lines', 101],
			['currency', 'GBP'],
			['due', '2024-02-30'],
			['due', '31.03.2024'],
			['tags', ['a', 'a']],
			['tags', ['a', 'b', 'c', 'd']],
			['supplier', { vat: 'x' }],
		];
		for (const [key, value] of wrong) {
			const parsed = schema.safeParse({ ...valid, [key]: value });
			expect({ key, value, success: parsed.success }).toEqual({ key, value, success: false });
		}
	});

	it('gives a strict schema: every property required, optional ones nullable, no extra keys', () => {
		const json = toModelSchema(jsonSchemaToZod(invoice)) as Record<string, any>;
		expect(strictSchemaProblem(json)).toBeUndefined();
		expect(json.properties.due).toEqual({ type: 'string', format: 'date', description: 'Due date' });
		expect(json.properties.supplier.properties.vat.anyOf).toEqual([{ type: 'string' }, { type: 'null' }]);
		// the long zod date pattern stays out of the prompt
		expect(JSON.stringify(json.properties.due)).not.toContain('pattern');
	});

	it.each([
		[{ type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '^x': { type: 'string' } } }, 'patternProperties', '#'],
		[{ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } }, if: {}, then: {} } } }, 'if', '#/properties/a'],
		[{ type: 'object', properties: { a: { type: 'string' } }, dependencies: { a: ['b'] } }, 'dependencies', '#'],
		[{ type: 'object', properties: { a: { $ref: 'https://example.com/a.json' } } }, '$ref', '#/properties/a'],
		[{ type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'number' }] } } }, 'oneOf', '#/properties/a'],
		[{ type: 'object', properties: { a: { type: 'array', items: [{ type: 'string' }] } } }, 'items', '#/properties/a'],
		[{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true }, 'additionalProperties', '#'],
		[{ type: 'object', properties: { a: { type: 'string', format: 'hostname' } } }, 'format', '#/properties/a'],
		[{ type: 'object', properties: { a: { type: ['string', 'number'] } } }, 'type', '#/properties/a'],
		[{ type: 'object', properties: { a: { not: { type: 'string' } } } }, 'not', '#/properties/a'],
		[{ type: 'object', properties: { 'a/b': { type: 'array', items: { type: 'object', properties: { c: { type: 'string', contentEncoding: 'base64' } } } } } }, 'contentEncoding', '#/properties/a~1b/items/properties/c'],
		[{ type: 'object', properties: { n: { $ref: '#/$defs/node' } }, $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } } }, '$ref', '#/$defs/node/properties/next'],
	])('refuses %j naming %s at %s', (schema, keyword, path) => {
		const error = refusal(schema);
		expect(error.keyword).toBe(keyword);
		expect(error.path).toBe(path);
		expect(error.message).toContain(`"${keyword}" at ${path}`);
	});

	it('accepts the nullable forms of oneOf and allOf with one schema, and OpenAPI nullable', () => {
		const schema = jsonSchemaToZod({
			type: 'object',
			properties: {
				a: { oneOf: [{ type: 'number' }, { type: 'null' }] },
				b: { allOf: [{ type: 'string' }], description: 'b' },
				c: { type: 'string', nullable: true },
			},
			required: ['a', 'b', 'c'],
		});
		expect(schema.safeParse({ a: null, b: 'x', c: null }).success).toBe(true);
		expect(schema.safeParse({ a: 'x', b: 'x', c: null }).success).toBe(false);
	});
});

describe('jsonSchemaToZod open mode (published wire formats, never sent to a model)', () => {
	const wire = {
		type: 'object',
		properties: {
			answer: { description: 'any JSON value' },
			input: { type: 'object', additionalProperties: true },
			edits: {
				type: ['object', 'null'],
				additionalProperties: { type: 'object', properties: { from: {}, to: {} }, additionalProperties: false },
			},
			meta: { type: 'object', properties: { a: { type: 'string' } } },
		},
		required: ['answer', 'edits'],
	};

	it('stays refused without it: untyped values and free-form objects', () => {
		expect(refusal({ type: 'object', properties: { a: {} } }).keyword).toBe('type');
		expect(refusal({ type: 'object', properties: { a: { type: 'object', additionalProperties: { type: 'string' } } } }).keyword).toBe('additionalProperties');
	});

	it('accepts any value for an untyped schema, maps for additionalProperties, and keeps unnamed fields where the schema allows them', () => {
		const schema = jsonSchemaToZod(wire, { strict: false, open: true });
		const value = { answer: [1, 'a', { b: null }], input: { x: 1, y: { z: 'w' } }, edits: { 'ai.classify.answer': { from: 'a', to: 'b' } }, meta: { a: 'x', extra: 1 } };
		expect(schema.parse(value)).toEqual(value);
		expect(schema.safeParse({ ...value, edits: null }).success).toBe(true);
		expect(schema.safeParse({ answer: null, edits: null }).success).toBe(true);
		// the map's values are checked: a member that is not a { from, to } object fails
		expect(schema.safeParse({ ...value, edits: { 'ai.classify.answer': 'b' } }).success).toBe(false);
		expect(schema.safeParse({ ...value, input: 'text' }).success).toBe(false);
		expect(schema.safeParse({ ...value, meta: { a: 1 } }).success).toBe(false);
	});

	it('still refuses an additionalProperties that is neither a boolean nor a schema', () => {
		let caught: unknown;
		try {
			jsonSchemaToZod({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: 'yes' }, { open: true });
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(UnsupportedSchemaError);
		expect((caught as UnsupportedSchemaError).keyword).toBe('additionalProperties');
	});
});

describe('describing the record', () => {
	it('turns a field list into fields of every type', () => {
		const fields = fieldsOf(
			fieldsToJsonSchema([
				{ name: 'number', type: 'string', description: 'Invoice number', required: true, values: '' },
				{ name: 'total', type: 'number', description: '', required: true, values: '' },
				{ name: 'lines', type: 'integer', description: '', required: false, values: '' },
				{ name: 'paid', type: 'boolean', description: '', required: false, values: '' },
				{ name: 'due', type: 'date', description: '', required: false, values: '' },
				{ name: 'currency', type: 'enum', description: '', required: false, values: 'EUR, USD ,GBP' },
				{ name: 'tags', type: 'list', description: '', required: false, values: '' },
			]),
		);
		expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
			['number', 'string', true],
			['total', 'number', true],
			['lines', 'integer', false],
			['paid', 'boolean', false],
			['due', 'date', false],
			['currency', 'enum', false],
			['tags', 'list', false],
		]);
		const currency = fields.find((f) => f.name === 'currency')!;
		expect(currency.value.safeParse('USD').success).toBe(true);
		expect(currency.value.safeParse('CHF').success).toBe(false);
		expect(fields[0].description).toBe('Invoice number');
	});

	it('refuses an empty or duplicated field list and an enum without values', () => {
		expect(() => fieldsToJsonSchema([])).toThrow(SchemaInputError);
		const row = { name: 'a', type: 'string' as const, description: '', required: true, values: '' };
		expect(() => fieldsToJsonSchema([row, row])).toThrow('The field "a" is listed twice');
		expect(() => fieldsToJsonSchema([{ ...row, name: ' ' }])).toThrow('Field 1 has no name');
		expect(() => fieldsToJsonSchema([{ ...row, type: 'enum' }])).toThrow('no allowed values');
	});

	it('infers fields from an example, dates and nested lists included', () => {
		const fields = fieldsOf(exampleToJsonSchema({ number: 'INV-1', total: 12.5, due: '2024-03-31', lines: [{ sku: 'A', qty: 1 }] }));
		expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
			['number', 'string', true],
			['total', 'number', true],
			['due', 'date', true],
			['lines', 'list', true],
		]);
		expect(fields[3].value.safeParse([{ sku: 'B', qty: 2 }]).success).toBe(true);
		expect(fields[3].value.safeParse([{ sku: 'B', qty: 'two' }]).success).toBe(false);
		expect(() => exampleToJsonSchema({ tags: [] })).toThrow('example.tags is empty');
		expect(() => exampleToJsonSchema([1])).toThrow(SchemaInputError);
	});

	it('names the keyword and path of an unsupported pasted schema', () => {
		let caught: unknown;
		try {
			fieldsOf({ type: 'object', properties: { total: { type: 'number' }, meta: { type: 'object', properties: {}, patternProperties: { x: {} } } } });
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(SchemaInputError);
		expect((caught as SchemaInputError).keyword).toBe('patternProperties');
		expect((caught as SchemaInputError).path).toBe('#/properties/meta');
	});

	it('refuses a schema whose top level is not an object of fields', () => {
		expect(() => fieldsOf({ type: 'array', items: { type: 'string' } })).toThrow('must describe an object');
	});

	it('keeps zod types usable as answer values', () => {
		const [field] = fieldsOf({ type: 'object', properties: { when: { type: 'string', format: 'date-time' } } });
		expect(field.kind).toBe('datetime');
		expect(field.value.nullable().safeParse(null).success).toBe(true);
		expect(z.object({ v: field.value }).safeParse({ v: '2024-03-12T10:00:00Z' }).success).toBe(true);
		expect(z.object({ v: field.value }).safeParse({ v: 'yesterday' }).success).toBe(false);
	});
});
