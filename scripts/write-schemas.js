// `npm run build` (after tsc): writes the package's published wire formats, the JSON Schemas of the audit
// record, the reviewer's JSON decision and the review notification, into dist/schemas from the compiled
// constants, so the files that ship are the schemas the nodes enforce and take their types from.
// test/unit/wire-formats.test.ts runs writeSchemas on the TypeScript sources and validates real data against the files.
const fs = require('node:fs');
const path = require('node:path');

/** file in dist/schemas -> the module (without extension, from the package root or dist/) and its export */
const WIRE_FORMATS = [
	{ file: 'audit-record.schema.json', module: 'nodes/AuditLog/recordSchema', name: 'auditRecordJsonSchema' },
	{ file: 'review-decision.schema.json', module: 'nodes/HumanCheckpoint/decisionSchema', name: 'reviewDecisionJsonSchema' },
	{ file: 'review-notification.schema.json', module: 'nodes/HumanCheckpoint/notificationSchema', name: 'reviewNotificationJsonSchema' },
];

function schemaText(schema) {
	return `${JSON.stringify(schema, null, '\t')}\n`;
}

/** Writes every schema found under `root` into `outDir`; returns the files written. */
function writeSchemas(root, outDir) {
	fs.mkdirSync(outDir, { recursive: true });
	return WIRE_FORMATS.map(({ file, module, name }) => {
		const schema = require(path.resolve(root, module))[name];
		if (!schema || typeof schema !== 'object') throw new Error(`${module} does not export ${name}`);
		const target = path.join(outDir, file);
		fs.writeFileSync(target, schemaText(schema));
		return target;
	});
}

module.exports = { WIRE_FORMATS, schemaText, writeSchemas };

if (require.main === module) {
	const root = path.resolve(__dirname, '..');
	for (const file of writeSchemas(path.join(root, 'dist'), path.join(root, 'dist', 'schemas'))) {
		console.log(`wrote ${path.relative(root, file)}`);
	}
}
