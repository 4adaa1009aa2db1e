/**
 * The parameters n8n gives a node of each version when a workflow leaves them empty: n8n's own
 * `NodeHelpers.getNodeParameters` (what the `Workflow` runs on every node it loads), once with no parameters
 * and once for each choice of each always-shown top-level option (so defaults behind `displayOptions`, such
 * as the model of the other provider, count too), plus the default every property declares. A saved workflow
 * stores only what differs from these: changing one without a new node version changes what saved workflows do.
 */
import { NodeHelpers, type INodeParameters, type INodeProperties, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

export interface VersionDefaults {
	/** what a node with no parameters gets */
	empty: INodeParameters;
	/** what it gets with one top-level option set to a value other than its default, keyed `name=value` */
	byChoice: Record<string, INodeParameters>;
	/** the default every property declares, nested ones included (the options a user adds), as [path, default] */
	declared: Array<[string, unknown]>;
}

export function versionsOf(description: INodeTypeDescription): number[] {
	return Array.isArray(description.version) ? description.version : [description.version];
}

export function defaultsOf(description: INodeTypeDescription, version: number): VersionDefaults {
	const node = { typeVersion: version };
	const load = (parameters: INodeParameters) =>
		NodeHelpers.getNodeParameters(description.properties, parameters, true, false, node, description) ?? {};
	const byChoice: Record<string, INodeParameters> = {};
	for (const property of description.properties) {
		// always shown: no displayOptions, or ones that depend only on the version (a property changed at a version)
		if (property.type !== 'options' || !versionOnlyShown(property, version)) continue;
		for (const option of property.options ?? []) {
			if (!('value' in option) || option.value === property.default) continue;
			byChoice[`${property.name}=${String(option.value)}`] = load({ [property.name]: option.value } as INodeParameters);
		}
	}
	return { empty: load({}), byChoice, declared: declaredDefaults(description.properties, version) };
}

/** Whether the property is shown at this version whatever the other parameters are (its conditions are only `@version`). */
function versionOnlyShown(property: INodeProperties, version: number): boolean {
	const { show = {}, hide = {} } = property.displayOptions ?? {};
	if ([...Object.keys(show), ...Object.keys(hide)].some((key) => key !== '@version')) return false;
	return NodeHelpers.displayParameter({}, property, { typeVersion: version }, null);
}

/** Only a property's `@version` conditions, the rest of its displayOptions left out. */
function versionOnly(property: INodeProperties): INodeProperties {
	const show = property.displayOptions?.show?.['@version'];
	const hide = property.displayOptions?.hide?.['@version'];
	return { ...property, displayOptions: { ...(show ? { show: { '@version': show } } : {}), ...(hide ? { hide: { '@version': hide } } : {}) } };
}

function declaredDefaults(properties: INodeProperties[], version: number, path = ''): Array<[string, unknown]> {
	return properties
		.filter((property) => NodeHelpers.displayParameter({}, versionOnly(property), { typeVersion: version }, null))
		.flatMap((property): Array<[string, unknown]> => {
			const at = path + property.name;
			const nested = (property.options ?? []).flatMap((option) =>
				'values' in option ? declaredDefaults(option.values, version, `${at}.${option.name}.`) : 'type' in option ? declaredDefaults([option], version, `${at}.`) : [],
			);
			return [[at, property.default], ...nested];
		});
}

/** Every version's defaults of every node, keyed by node name, then version. */
export function defaultsOfNodes(nodes: INodeType[]): Record<string, Record<string, VersionDefaults>> {
	return Object.fromEntries(
		nodes.map(({ description }) => [
			description.name,
			Object.fromEntries(versionsOf(description).map((version) => [String(version), defaultsOf(description, version)])),
		]),
	);
}
