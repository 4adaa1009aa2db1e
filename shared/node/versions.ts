/**
 * Node versions: how a node changes a default or its outputs without changing what saved workflows do.
 *
 * A saved workflow keeps each node's `typeVersion` and only the parameters that differ from their defaults;
 * when n8n loads it, it fills in the rest from the node's description (NodeHelpers.getNodeParameters), showing
 * or hiding each property by its `displayOptions`, where `@version` is the node's typeVersion. So a change
 * ships as a new version, as in n8n's own nodes:
 *  1. append the version to the node's `version` list (new nodes in the editor get the last one);
 *  2. a property whose default (or anything else) changes becomes two properties of the same name, one shown
 *     up to the old version and one from the new: `...changedAtVersion(2, property, { default: 0.9 })`;
 *  3. outputs that change shape are computed by `outputsFrom`, whose function is given the version.
 * An execute that must differ reads `this.getNode().typeVersion`. A `VersionedNodeType` (one class per
 * version) pays off only once whole descriptions differ.
 */
import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

const from = (version: number) => [{ _cnd: { gte: version } }];

/**
 * The property as it was before `version` and as it is from `version` on. Given the list a previous change
 * returned, changes the newest again: `changedAtVersion(3, changedAtVersion(2, p, a), b)`.
 */
export function changedAtVersion(
	version: number,
	property: INodeProperties | INodeProperties[],
	changes: Partial<INodeProperties>,
): INodeProperties[] {
	const earlier = Array.isArray(property) ? property : [property];
	const current = earlier[earlier.length - 1];
	const { show, hide } = current.displayOptions ?? {};
	return [
		...earlier.slice(0, -1),
		{ ...current, displayOptions: { ...(show ? { show } : {}), hide: { ...hide, '@version': from(version) } } },
		{ ...current, ...changes, displayOptions: { ...(hide ? { hide } : {}), show: { ...show, '@version': from(version) } } },
	];
}

/**
 * Outputs computed from the node's parameters and its version (the workflow's typeVersion of this node), as
 * `[{ type: 'main', displayName }, …]`. n8n evaluates the expression in the editor and in the engine, where
 * only the function's own text exists: it must be self-contained (no imports, no outer variables).
 */
export function outputsFrom<Parameters>(
	configured: (parameters: Parameters, version: number) => Array<{ type: string; displayName: string }>,
): Extract<INodeTypeDescription['outputs'], string> {
	return `={{(${configured})($parameter, $nodeVersion)}}`;
}

/** A property that exists only from `version` on (a new parameter): saved workflows of older versions never see it. */
export function fromVersion(version: number, property: INodeProperties): INodeProperties {
	const { show, hide } = property.displayOptions ?? {};
	return { ...property, displayOptions: { ...(hide ? { hide } : {}), show: { ...show, '@version': from(version) } } };
}

/** A property that exists only before `version` (replaced by another one from `version` on). */
export function untilVersion(version: number, property: INodeProperties): INodeProperties {
	const { show, hide } = property.displayOptions ?? {};
	return { ...property, displayOptions: { ...(show ? { show } : {}), hide: { ...hide, '@version': from(version) } } };
}

/**
 * A list of properties (e.g. a fixed collection's values) as it was before `version` and as it is from `version`
 * on: older versions keep their properties, order and defaults; the newer ones get theirs, e.g. reordered.
 */
export function changedListAtVersion(version: number, before: INodeProperties[], after: INodeProperties[]): INodeProperties[] {
	return [...before.map((property) => untilVersion(version, property)), ...after.map((property) => fromVersion(version, property))];
}
