/**
 * The Audit Log's description as n8n's editor evaluates it: which parameters, which Options and which
 * sinks each operation shows, for every setting of the parameters that others depend on. Visibility is
 * computed by n8n-workflow's own NodeHelpers (getNodeParameters / displayParameter), never by hand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeHelpers, type INodeParameters, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';

const description = new AuditLog().description;
const node = { typeVersion: 1 };

/** The parameters n8n shows for these values, with their defaults filled in. */
function shown(values: INodeParameters): INodeParameters {
	return NodeHelpers.getNodeParameters(description.properties, values, true, false, node, description) ?? {};
}

/** The property definitions n8n shows for these values (there may be several of one name in the description). */
function shownProperties(values: INodeParameters, name: string): INodeProperties[] {
	const resolved = shown(values);
	return description.properties.filter(
		(p) => p.name === name && NodeHelpers.displayParameter(resolved, p, node, description),
	);
}

function optionValues(property: INodeProperties): string[] {
	return (property.options as INodePropertyOptions[]).map((o) => String(o.value));
}

function collectionNames(property: INodeProperties): string[] {
	return (property.options as INodeProperties[]).map((o) => o.name);
}

/** Every combination of the parameters other parameters depend on. */
function combinations(operation: string): INodeParameters[] {
	const out: INodeParameters[] = [];
	for (const sink of ['file', 'postgres', 'http']) {
		for (const source of ['sink', 'input']) {
			for (const window of ['lastDays', 'range', 'all']) {
				for (const httpAuthentication of ['none', 'headerAuth']) {
					out.push({ operation, sink, source, window, httpAuthentication });
				}
			}
		}
	}
	return out;
}

/** What each operation must show, by hand from the issue: its own parameters only. */
function expectedNames(v: INodeParameters): string[] {
	const names = ['operation', 'stream'];
	const sinkParameters = (sink: unknown) => (sink === 'file' ? ['filePath'] : sink === 'postgres' ? ['tableName'] : []);
	if (v.operation === 'append') {
		names.push('sink', 'includeInput', 'options', ...sinkParameters(v.sink));
		if (v.sink === 'http') names.push('url', 'httpAuthentication');
		return names.sort();
	}
	names.push('source');
	// a read operation offers no HTTP sink: with sink "http" given anyway, neither file nor table applies
	if (v.source === 'sink') names.push('sink', ...sinkParameters(v.sink));
	if (v.operation === 'report') {
		names.push('window', 'options');
		if (v.window === 'lastDays') names.push('lastDays');
		if (v.window === 'range') names.push('from', 'to');
	}
	return names.sort();
}

const EXPECTED_OPTIONS: Record<string, string[]> = {
	append: ['aiKey'],
	verify: [],
	report: ['binaryPropertyName', 'htmlAsBinary', 'reportTitle'],
};

describe('Audit Log description, evaluated the way n8n does', () => {
	const operations = optionValues(description.properties.find((p) => p.name === 'operation')!);

	it('has the three operations', () => {
		expect(operations).toEqual(['append', 'verify', 'report']);
	});

	it.each(['append', 'verify', 'report'])('%s shows only its own parameters, each name once', (operation) => {
		for (const values of combinations(operation)) {
			const names = Object.keys(shown(values)).sort();
			expect({ values, names }).toEqual({ values, names: expectedNames(values) });
			for (const name of names) {
				expect({ values, name, shown: shownProperties(values, name).length }).toEqual({ values, name, shown: 1 });
			}
		}
	});

	it.each(['append', 'verify', 'report'])('%s shows only its own Options', (operation) => {
		for (const values of combinations(operation)) {
			const collections = shownProperties(values, 'options');
			const offered = collections.flatMap(collectionNames).sort();
			expect({ values, offered }).toEqual({ values, offered: EXPECTED_OPTIONS[operation] });
			// an empty Options collection is not shown at all
			expect(collections.length).toBe(EXPECTED_OPTIONS[operation].length ? 1 : 0);
		}
	});

	it('offers the HTTP sink only where records are written: Verify and Report cannot read it back', () => {
		const offered = (operation: string) =>
			shownProperties({ operation, source: 'sink' }, 'sink').flatMap(optionValues).sort();
		expect(offered('append')).toEqual(['file', 'http', 'postgres']);
		expect(offered('verify')).toEqual(['file', 'postgres']);
		expect(offered('report')).toEqual(['file', 'postgres']);
		const [readSink] = shownProperties({ operation: 'verify', source: 'sink' }, 'sink');
		expect(readSink.description).toMatch(/HTTP sink cannot be read back/);
		// with records from the input items, no sink is asked for
		expect(shownProperties({ operation: 'report', source: 'input' }, 'sink')).toHaveLength(0);
	});

	it('asks for the PostgreSQL or Header Auth credential only where it is used', () => {
		const credentials = (values: INodeParameters) =>
			(description.credentials ?? [])
				.filter((c) => NodeHelpers.displayParameter(shown(values), c, node, description))
				.map((c) => c.name);
		expect(credentials({ operation: 'append', sink: 'postgres' })).toEqual(['governedAiPostgres']);
		expect(credentials({ operation: 'append', sink: 'http', httpAuthentication: 'headerAuth' })).toEqual(['httpHeaderAuth']);
		expect(credentials({ operation: 'append', sink: 'http' })).toEqual([]);
		expect(credentials({ operation: 'verify', sink: 'postgres', source: 'sink' })).toEqual(['governedAiPostgres']);
		expect(credentials({ operation: 'report', sink: 'postgres', source: 'input' })).toEqual([]);
		expect(credentials({ operation: 'report', sink: 'file' })).toEqual([]);
		// an old Verify saved with the HTTP sink and header auth asks for no credential it cannot use
		expect(credentials({ operation: 'verify', sink: 'http', httpAuthentication: 'headerAuth' })).toEqual([]);
	});

	it('keeps the parameter names saved workflows use, and the same default wherever a name repeats', () => {
		const names = new Set(description.properties.map((p) => p.name));
		expect([...names].sort()).toEqual(
			['filePath', 'from', 'httpAuthentication', 'includeInput', 'lastDays', 'operation', 'options', 'recordRecommendation', 'reviewCostUsd', 'sink', 'source', 'stream', 'tableName', 'targetPrecision', 'to', 'url', 'window'].sort(),
		);
		const optionNames = new Set(description.properties.filter((p) => p.name === 'options').flatMap(collectionNames));
		expect([...optionNames].sort()).toEqual(['aiKey', 'binaryPropertyName', 'htmlAsBinary', 'reportTitle']);
		for (const name of names) {
			const defaults = description.properties.filter((p) => p.name === name).map((p) => JSON.stringify(p.default));
			expect({ name, defaults: [...new Set(defaults)] }).toEqual({ name, defaults: [defaults[0]] });
		}
	});

	it('loads the Audit Log nodes of the shipped examples with every saved setting intact', () => {
		const dir = path.join(__dirname, '..', '..', 'examples');
		let checked = 0;
		for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
			const workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
			for (const saved of workflow.nodes.filter((n: { type: string }) => n.type === 'n8n-nodes-governed-ai.auditLog')) {
				const resolved = shown(saved.parameters);
				for (const [name, value] of Object.entries(saved.parameters as INodeParameters)) {
					// an empty Options collection carries nothing (Verify has none)
					if (name === 'options' && Object.keys(value as object).length === 0) continue;
					expect({ file, node: saved.name, name, value: resolved[name] }).toEqual({ file, node: saved.name, name, value });
				}
				checked++;
			}
		}
		expect(checked).toBeGreaterThanOrEqual(4);
	});
});
