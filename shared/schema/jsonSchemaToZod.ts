/**
 * JSON Schema → zod (v4), for answers a model must fill. The zod schema validates the answer; converted back
 * with `z.toJSONSchema` it is the strict schema sent to the provider. Only keywords we can honour in both
 * directions are accepted: anything else fails with the keyword and its JSON Pointer path, never a silent drop.
 *
 * Supported (see SUPPORTED_KEYWORDS):
 * - `type` (one type, or one type plus "null"), OpenAPI `nullable`, `enum`, `const`, `anyOf`;
 *   `oneOf` / `allOf` only in their trivial forms (`oneOf: [X, {type: null}]`, `allOf: [X]`);
 * - strings: `minLength`, `maxLength`, `pattern`, `format` date / date-time / time / email / uri / uuid;
 * - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (both drafts), `multipleOf`;
 * - objects: `properties`, `required`, `additionalProperties: false` (strict output forbids extra keys anyway);
 * - arrays: `items` (one schema), `minItems`, `maxItems`, `uniqueItems`;
 * - `$ref` to `#/definitions/…` or `#/$defs/…` in the same document (not recursive);
 * - annotations, ignored: `title`, `description` (kept for the model), `default`, `examples`, `$comment`,
 *   `$schema`, `$id`, `readOnly`, `writeOnly`, `deprecated`, and `x-…` extensions.
 * Not supported, for example: external `$ref`, `patternProperties`, `additionalProperties` other than false,
 * `if`/`then`/`else`, `not`, `dependencies`, `dependentRequired`, `dependentSchemas`, `oneOf` with several
 * variants or a `discriminator`, tuple `items`/`prefixItems`, `contains`, `propertyNames`, `minProperties`.
 *
 * Strict mode (the default): properties that are not `required` become required-but-nullable, because OpenAI
 * strict structured output requires every property to be listed in `required`.
 *
 * Open mode (`open: true`), for schemas that only check data and are never sent to a model (the package's
 * published wire formats): a schema without a type (annotations only) accepts any JSON value, and an object may
 * be free-form (`additionalProperties` true or a schema, with or without named properties).
 */
import { z } from 'zod/v4';

export type JsonSchema = Record<string, unknown>;

/** A keyword (or a value of one) that cannot be honoured, with the JSON Pointer of the schema holding it. */
export class UnsupportedSchemaError extends Error {
	constructor(
		readonly keyword: string,
		readonly path: string,
		detail: string,
	) {
		super(`JSON Schema keyword "${keyword}" at ${path} is not supported: ${detail}`);
		this.name = 'UnsupportedSchemaError';
	}
}

const ANNOTATIONS = new Set([
	'title',
	'description',
	'default',
	'examples',
	'$comment',
	'$schema',
	'$id',
	'readOnly',
	'writeOnly',
	'deprecated',
]);

export const SUPPORTED_KEYWORDS = [
	...ANNOTATIONS,
	'type',
	'nullable',
	'enum',
	'const',
	'anyOf',
	'oneOf',
	'allOf',
	'$ref',
	'$defs',
	'definitions',
	'minLength',
	'maxLength',
	'pattern',
	'format',
	'minimum',
	'maximum',
	'exclusiveMinimum',
	'exclusiveMaximum',
	'multipleOf',
	'properties',
	'required',
	'additionalProperties',
	'items',
	'minItems',
	'maxItems',
	'uniqueItems',
] as const;
const SUPPORTED = new Set<string>(SUPPORTED_KEYWORDS);

/** Why a few well-known keywords are refused, so the message helps. */
const REFUSALS: Record<string, string> = {
	patternProperties: 'structured output needs every property named in "properties"',
	additionalProperties: 'structured output allows no properties beyond "properties" (only false is accepted)',
	if: 'conditional schemas cannot be expressed in structured output',
	then: 'conditional schemas cannot be expressed in structured output',
	else: 'conditional schemas cannot be expressed in structured output',
	not: 'negated schemas cannot be expressed in structured output',
	dependencies: 'property dependencies cannot be expressed in structured output',
	dependentRequired: 'property dependencies cannot be expressed in structured output',
	dependentSchemas: 'property dependencies cannot be expressed in structured output',
	oneOf: 'only the nullable form oneOf: [X, {"type": "null"}] is accepted; use anyOf for alternatives',
	allOf: 'only a single-schema allOf is accepted; merge the schemas into one',
	discriminator: 'discriminated unions are not supported; use anyOf',
	prefixItems: 'tuples are not supported; use one "items" schema',
	items: 'tuples (an array of item schemas) are not supported; use one "items" schema',
	$ref: 'only references inside the same schema (#/definitions/… or #/$defs/…) are supported',
	format: 'supported formats are date, date-time, time, email, uri and uuid',
	type: 'a value must have one type (optionally with "null")',
};

export interface ConvertOptions {
	/** optional properties become required and nullable (OpenAI strict mode); default true */
	strict?: boolean;
	/** the schema only checks data, never goes to a model: untyped values and free-form objects are accepted; default false */
	open?: boolean;
}

interface Ctx {
	root: JsonSchema;
	strict: boolean;
	open: boolean;
	/** $refs being expanded, to refuse recursion */
	expanding: string[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIME = /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A calendar date written as YYYY-MM-DD (2024-02-30 is refused). */
export function isIsoDate(value: string): boolean {
	if (!ISO_DATE.test(value)) return false;
	const [y, m, d] = value.split('-').map(Number);
	const date = new Date(Date.UTC(y, m - 1, d));
	return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The value schema for a date: compact in JSON Schema (`format: date`), checked as a real calendar date. */
export function dateSchema(): z.ZodType {
	return z
		.string()
		.refine(isIsoDate, { message: 'expected a calendar date written as YYYY-MM-DD' })
		.meta({ format: 'date' });
}

function isObject(value: unknown): value is JsonSchema {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pointer(path: string, ...parts: Array<string | number>): string {
	return [path, ...parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1'))].join('/');
}

/** Converts a JSON Schema to zod. Throws UnsupportedSchemaError naming the keyword and its path. */
export function jsonSchemaToZod(schema: unknown, options: ConvertOptions = {}): z.ZodType {
	if (!isObject(schema)) throw new UnsupportedSchemaError('(schema)', '#', 'the schema must be a JSON object');
	return convert(schema, '#', { root: schema, strict: options.strict ?? true, open: options.open ?? false, expanding: [] });
}

/**
 * Converts one sub-schema of `root` (e.g. a top-level property), resolving its $refs against `root`.
 * `path` is the sub-schema's JSON Pointer, used in error messages.
 */
export function jsonSchemaToZodAt(root: JsonSchema, schema: unknown, path: string, options: ConvertOptions = {}): z.ZodType {
	if (!isObject(schema)) throw new UnsupportedSchemaError('(schema)', path, 'must be a JSON object');
	return convert(schema, path, { root, strict: options.strict ?? true, open: options.open ?? false, expanding: [] });
}

/** Follows a local $ref; returns the target and its path. */
export function resolveRef(schema: JsonSchema, path: string, root: JsonSchema): { schema: JsonSchema; path: string } {
	const ref = schema.$ref;
	if (typeof ref !== 'string' || !/^#\/(definitions|\$defs)\/[^/]+$/.test(ref)) {
		throw new UnsupportedSchemaError('$ref', path, `${JSON.stringify(ref)}: ${REFUSALS.$ref}`);
	}
	const [, group, rawName] = ref.split('/');
	const name = rawName.replace(/~1/g, '/').replace(/~0/g, '~');
	const defs = root[group];
	const target = isObject(defs) ? defs[name] : undefined;
	if (!isObject(target)) throw new UnsupportedSchemaError('$ref', path, `${ref} does not point at a schema in this document`);
	const siblings = Object.keys(schema).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
	if (siblings.length) throw new UnsupportedSchemaError(siblings[0], path, 'keywords next to $ref are not supported');
	return { schema: { ...target, ...(schema.description ? { description: schema.description } : {}) }, path: ref };
}

function convert(schema: JsonSchema, path: string, ctx: Ctx): z.ZodType {
	if (typeof schema.$ref === 'string' || '$ref' in schema) {
		const ref = String(schema.$ref);
		if (ctx.expanding.includes(ref)) throw new UnsupportedSchemaError('$ref', path, `${ref} is recursive; recursive schemas are not supported`);
		const target = resolveRef(schema, path, ctx.root);
		return convert(target.schema, target.path, { ...ctx, expanding: [...ctx.expanding, ref] });
	}
	for (const key of Object.keys(schema)) {
		if (SUPPORTED.has(key) || key.startsWith('x-')) continue;
		if (key === 'discriminator' || key in REFUSALS) throw new UnsupportedSchemaError(key, path, REFUSALS[key]);
		throw new UnsupportedSchemaError(key, path, 'this keyword cannot be honoured in structured output');
	}
	if (('$defs' in schema || 'definitions' in schema) && path !== '#') {
		throw new UnsupportedSchemaError('$defs' in schema ? '$defs' : 'definitions', path, 'definitions are supported at the top level only');
	}
	const described = (s: z.ZodType) => (typeof schema.description === 'string' && schema.description ? s.describe(schema.description) : s);
	let nullable = schema.nullable === true;

	if (Array.isArray(schema.allOf)) {
		if (schema.allOf.length !== 1 || !isObject(schema.allOf[0])) throw new UnsupportedSchemaError('allOf', path, REFUSALS.allOf);
		const { allOf: _allOf, ...rest } = schema;
		void _allOf;
		if (Object.keys(rest).some((k) => !ANNOTATIONS.has(k))) throw new UnsupportedSchemaError('allOf', path, REFUSALS.allOf);
		return described(convert(schema.allOf[0], pointer(path, 'allOf', 0), ctx));
	}
	if (schema.oneOf !== undefined) {
		const variants = Array.isArray(schema.oneOf) ? schema.oneOf : [];
		const nonNull = variants.filter((v) => !(isObject(v) && v.type === 'null'));
		if (variants.length !== 2 || nonNull.length !== 1 || !isObject(nonNull[0])) throw new UnsupportedSchemaError('oneOf', path, REFUSALS.oneOf);
		return described(convert(nonNull[0], pointer(path, 'oneOf', variants.indexOf(nonNull[0])), ctx).nullable());
	}
	if (schema.anyOf !== undefined) {
		const variants = Array.isArray(schema.anyOf) ? schema.anyOf : [];
		if (variants.length === 0) throw new UnsupportedSchemaError('anyOf', path, 'anyOf needs at least one schema');
		const converted: z.ZodType[] = [];
		variants.forEach((variant, i) => {
			if (!isObject(variant)) throw new UnsupportedSchemaError('anyOf', pointer(path, 'anyOf', i), 'each variant must be a schema object');
			if (variant.type === 'null' && Object.keys(variant).length === 1) nullable = true;
			else converted.push(convert(variant, pointer(path, 'anyOf', i), ctx));
		});
		if (converted.length === 0) return described(z.null());
		const union = converted.length === 1 ? converted[0] : z.union(converted as [z.ZodType, z.ZodType, ...z.ZodType[]]);
		return described(nullable ? union.nullable() : union);
	}

	let type = schema.type;
	if (Array.isArray(type)) {
		const nonNull = type.filter((t) => t !== 'null');
		if (nonNull.length > 1) throw new UnsupportedSchemaError('type', path, `${JSON.stringify(type)}: ${REFUSALS.type}`);
		if (nonNull.length < type.length) nullable = true;
		type = nonNull[0] ?? 'null';
	}
	let result: z.ZodType;
	if (schema.const !== undefined) {
		result = literal(schema.const, path, 'const');
	} else if (schema.enum !== undefined) {
		result = enumSchema(schema.enum, path, () => (nullable = true));
	} else {
		if (type === undefined) {
			if (isObject(schema.properties)) type = 'object';
			else if (schema.items !== undefined) type = 'array';
			else if (ctx.open && Object.keys(schema).every((k) => ANNOTATIONS.has(k) || k.startsWith('x-'))) return described(z.unknown());
			else throw new UnsupportedSchemaError('type', path, 'every value needs a "type" (or enum / const) so the model knows what to give');
		}
		switch (type) {
			case 'string':
				result = stringSchema(schema, path);
				break;
			case 'number':
			case 'integer':
				result = numberSchema(schema, path, type === 'integer');
				break;
			case 'boolean':
				result = z.boolean();
				break;
			case 'null':
				result = z.null();
				break;
			case 'object':
				result = objectSchema(schema, path, ctx);
				break;
			case 'array':
				result = arraySchema(schema, path, ctx);
				break;
			default:
				throw new UnsupportedSchemaError('type', path, `unknown type ${JSON.stringify(type)}`);
		}
	}
	if (nullable && type !== 'null') result = result.nullable();
	return described(result);
}

function literal(value: unknown, path: string, keyword: string): z.ZodType {
	if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return z.literal(value);
	throw new UnsupportedSchemaError(keyword, path, 'only string, number, boolean and null values are supported');
}

function enumSchema(values: unknown, path: string, allowNull: () => void): z.ZodType {
	if (!Array.isArray(values) || values.length === 0) throw new UnsupportedSchemaError('enum', path, 'enum must be a non-empty list');
	const nonNull = values.filter((v) => v !== null);
	if (nonNull.length < values.length) allowNull();
	if (nonNull.length === 0) return z.null();
	if (nonNull.every((v) => typeof v === 'string')) return z.enum(nonNull as [string, ...string[]]);
	const literals = nonNull.map((v) => literal(v, path, 'enum'));
	return literals.length === 1 ? literals[0] : z.union(literals as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}

function stringSchema(schema: JsonSchema, path: string): z.ZodType {
	const format = schema.format;
	if (format !== undefined) {
		const checks: Record<string, [(v: string) => boolean, string]> = {
			'date-time': [(v) => ISO_DATETIME.test(v) && !Number.isNaN(Date.parse(v)), 'expected a date and time in ISO 8601, e.g. 2024-03-12T14:30:00Z'],
			time: [(v) => ISO_TIME.test(v), 'expected a time as HH:MM or HH:MM:SS'],
			email: [(v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'expected an e-mail address'],
			uri: [(v) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(v), 'expected an absolute URI'],
			uuid: [(v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v), 'expected a UUID'],
		};
		if (format === 'date') return withStringLimits(dateSchema(), schema, path);
		const check = typeof format === 'string' ? checks[format] : undefined;
		if (!check) throw new UnsupportedSchemaError('format', path, `${JSON.stringify(format)}: ${REFUSALS.format}`);
		// the format goes to the model as a compact `format`, not a long pattern; zod checks it
		return withStringLimits(z.string().refine(check[0], { message: check[1] }).meta({ format }), schema, path);
	}
	return withStringLimits(z.string(), schema, path);
}

function withStringLimits(base: z.ZodType, schema: JsonSchema, path: string): z.ZodType {
	let s = base as z.ZodString;
	const int = (keyword: string): number | undefined => {
		const v = schema[keyword];
		if (v === undefined) return undefined;
		if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UnsupportedSchemaError(keyword, path, 'must be a non-negative integer');
		return v;
	};
	const min = int('minLength');
	const max = int('maxLength');
	// refine() turns a ZodString into a ZodString with checks in v4, so min/max/regex stay available
	if (min !== undefined) s = s.min(min);
	if (max !== undefined) s = s.max(max);
	if (schema.pattern !== undefined) {
		let re: RegExp;
		try {
			re = new RegExp(String(schema.pattern), 'u');
		} catch (error) {
			throw new UnsupportedSchemaError('pattern', path, `not a valid regular expression (${(error as Error).message})`);
		}
		s = s.regex(re);
	}
	return s;
}

function numberSchema(schema: JsonSchema, path: string, integer: boolean): z.ZodType {
	let s = integer ? z.number().int() : z.number();
	const num = (keyword: string): number | undefined => {
		const v = schema[keyword];
		if (v === undefined || typeof v === 'boolean') return undefined;
		if (typeof v !== 'number') throw new UnsupportedSchemaError(keyword, path, 'must be a number');
		return v;
	};
	const minimum = num('minimum');
	const maximum = num('maximum');
	// draft 4 writes exclusiveMinimum: true next to minimum; later drafts give the bound itself
	if (minimum !== undefined) s = schema.exclusiveMinimum === true ? s.gt(minimum) : s.gte(minimum);
	if (maximum !== undefined) s = schema.exclusiveMaximum === true ? s.lt(maximum) : s.lte(maximum);
	const exMin = num('exclusiveMinimum');
	const exMax = num('exclusiveMaximum');
	if (exMin !== undefined) s = s.gt(exMin);
	if (exMax !== undefined) s = s.lt(exMax);
	const multipleOf = num('multipleOf');
	if (multipleOf !== undefined) {
		if (multipleOf <= 0) throw new UnsupportedSchemaError('multipleOf', path, 'must be greater than 0');
		s = s.multipleOf(multipleOf);
	}
	return s;
}

function objectSchema(schema: JsonSchema, path: string, ctx: Ctx): z.ZodType {
	// open mode reads a missing additionalProperties as JSON Schema does (anything goes); model answers allow no extras anyway
	const extra = schema.additionalProperties ?? (ctx.open ? true : undefined);
	if (extra !== undefined && extra !== false) {
		if (!ctx.open) throw new UnsupportedSchemaError('additionalProperties', path, REFUSALS.additionalProperties);
		if (extra !== true && !isObject(extra)) throw new UnsupportedSchemaError('additionalProperties', path, 'must be true, false or a schema');
	}
	// open mode: the values of fields not named in properties (e.g. a map `path -> { from, to }`)
	const rest = extra === undefined || extra === false ? undefined : isObject(extra) ? convert(extra, pointer(path, 'additionalProperties'), ctx) : z.unknown();
	const properties = schema.properties ?? (ctx.open ? {} : undefined);
	if (rest && isObject(properties) && Object.keys(properties).length === 0) return z.record(z.string(), rest);
	if (!isObject(properties) || (Object.keys(properties).length === 0 && !ctx.open)) {
		throw new UnsupportedSchemaError('properties', path, 'an object needs at least one named property (free-form objects are not supported)');
	}
	const required = schema.required ?? [];
	if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) {
		throw new UnsupportedSchemaError('required', path, 'must be a list of property names');
	}
	const unknown = required.find((r) => !(r in properties));
	if (unknown !== undefined) throw new UnsupportedSchemaError('required', path, `"${unknown}" is not in properties`);
	const shape: Record<string, z.ZodType> = {};
	for (const [name, sub] of Object.entries(properties)) {
		const subPath = pointer(path, 'properties', name);
		if (!isObject(sub)) throw new UnsupportedSchemaError('properties', subPath, 'each property must be a schema object');
		const converted = convert(sub, subPath, ctx);
		const isRequired = required.includes(name);
		shape[name] = isRequired ? converted : ctx.strict ? converted.nullable() : converted.optional();
	}
	return rest ? z.object(shape).catchall(rest) : z.object(shape);
}

function arraySchema(schema: JsonSchema, path: string, ctx: Ctx): z.ZodType {
	if (!isObject(schema.items)) {
		if (Array.isArray(schema.items)) throw new UnsupportedSchemaError('items', path, REFUSALS.items);
		throw new UnsupportedSchemaError('items', path, 'an array needs an "items" schema');
	}
	let s = z.array(convert(schema.items, pointer(path, 'items'), ctx));
	for (const keyword of ['minItems', 'maxItems'] as const) {
		const v = schema[keyword];
		if (v === undefined) continue;
		if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UnsupportedSchemaError(keyword, path, 'must be a non-negative integer');
		s = keyword === 'minItems' ? s.min(v) : s.max(v);
	}
	if (schema.uniqueItems === true) {
		return s.refine((list) => new Set(list.map((v) => JSON.stringify(v))).size === list.length, { message: 'items must be unique' });
	}
	return s;
}
