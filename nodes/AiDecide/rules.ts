/**
 * Hard rules of AI Decide: evaluated per item before any model call, and never overridable by the model.
 * A rule's condition is an ordinary n8n boolean parameter (e.g. `{{ $json.amount > 1000 }}`), already
 * evaluated for the item by the time it reaches this file. A matching rule either forces one action (no model
 * call at all) or forbids actions (they leave the choices the model sees).
 */

/** The built-in action and output every decision can fall back to. */
export const ESCALATE = 'escalate';

export interface Action {
	name: string;
	description: string;
	needsApproval: boolean;
}

export type RuleEffect = 'force' | 'forbid';

export interface Rule {
	name: string;
	/** the condition, evaluated for this item */
	matches: boolean;
	effect: RuleEffect;
	/** effect "force": the action it forces (an action's name or "escalate") */
	action: string;
	/** effect "forbid": the actions it removes */
	forbid: string[];
}

/** What the rules leave for one item. */
export type RuleVerdict =
	| { kind: 'force'; action: string; rule: string; matched: string[]; forbidden: string[] }
	| { kind: 'escalate'; reason: string; rule: string | null; matched: string[]; forbidden: string[] }
	| { kind: 'model'; allowed: string[]; matched: string[]; forbidden: string[] };

/** A problem with the node's configuration for one item; the node turns it into a NodeOperationError. */
export class ConfigProblem extends Error {
	constructor(
		message: string,
		readonly field: string,
	) {
		super(message);
		this.name = 'ConfigProblem';
	}
}

export function isEscalate(name: string): boolean {
	return name.trim().toLowerCase() === ESCALATE;
}

/** The Actions parameter, checked: names present, unique, and not the built-in Escalate. */
export function parseActions(raw: Array<Record<string, unknown>>): Action[] {
	const actions = raw.map((a) => ({
		name: String(a.name ?? '').trim(),
		description: String(a.description ?? '').trim(),
		needsApproval: a.needsApproval === true || String(a.needsApproval).toLowerCase() === 'true',
	}));
	if (actions.length === 0) throw new ConfigProblem('Add at least one action', 'Actions');
	actions.forEach((action, i) => {
		if (!action.name) throw new ConfigProblem(`Action ${i + 1} has no name`, 'Actions');
		if (isEscalate(action.name)) {
			throw new ConfigProblem(
				`Action ${i + 1} is named "${action.name}": Escalate is built in and always available, give this action another name`,
				'Actions',
			);
		}
	});
	const names = actions.map((a) => a.name);
	const duplicate = names.find((n, i) => names.indexOf(n) !== i);
	if (duplicate) throw new ConfigProblem(`The action "${duplicate}" is listed twice`, 'Actions');
	return actions;
}

/** A condition's value as n8n hands it over: a boolean, or the text "true"/"false" from a string expression. */
export function parseCondition(value: unknown, ruleName: string): boolean {
	if (typeof value === 'boolean') return value;
	if (value === undefined || value === null || value === '') return false;
	if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
	// a number or an object here is almost always a mistaken expression ({{ $json.amount }} without "> 1000")
	throw new ConfigProblem(
		`Rule "${ruleName}": the condition must be true or false, but it gave ${JSON.stringify(value)}`,
		'Hard Rules',
	);
}

function splitNames(value: unknown): string[] {
	const list = Array.isArray(value) ? value.map(String) : String(value ?? '').split(',');
	return list.map((n) => n.trim()).filter(Boolean);
}

/** The Hard Rules parameter for one item, checked against the action names. */
export function parseRules(raw: Array<Record<string, unknown>>, actionNames: string[]): Rule[] {
	const known = (name: string) => actionNames.includes(name);
	return raw.map((r, i) => {
		const name = String(r.name ?? '').trim() || `Rule ${i + 1}`;
		const effect = r.effect === 'forbid' ? 'forbid' : r.effect === 'force' || r.effect === undefined ? 'force' : undefined;
		if (!effect) throw new ConfigProblem(`Rule "${name}": unknown effect ${JSON.stringify(r.effect)}`, 'Hard Rules');
		const matches = parseCondition(r.condition, name);
		if (effect === 'force') {
			const wanted = String(r.action ?? '').trim();
			if (!wanted) throw new ConfigProblem(`Rule "${name}": name the action it forces`, 'Hard Rules');
			const action = isEscalate(wanted) ? ESCALATE : wanted;
			if (action !== ESCALATE && !known(action)) {
				throw new ConfigProblem(
					`Rule "${name}" forces "${wanted}", which is not one of the actions (${actionNames.join(', ')}) or Escalate`,
					'Hard Rules',
				);
			}
			return { name, matches, effect, action, forbid: [] };
		}
		const forbid = splitNames(r.forbiddenActions);
		if (forbid.length === 0) throw new ConfigProblem(`Rule "${name}": name the actions it forbids`, 'Hard Rules');
		for (const action of forbid) {
			if (isEscalate(action)) throw new ConfigProblem(`Rule "${name}": Escalate cannot be forbidden`, 'Hard Rules');
			if (!known(action)) {
				throw new ConfigProblem(
					`Rule "${name}" forbids "${action}", which is not one of the actions (${actionNames.join(', ')})`,
					'Hard Rules',
				);
			}
		}
		return { name, matches, effect, action: '', forbid };
	});
}

/**
 * Applies the matching rules. A forced action wins unless rules disagree (two different forced actions, or a
 * forced action another rule forbids): a conflict between rules escalates rather than picking a side.
 * If every action is forbidden the item escalates without asking the model.
 */
export function evaluateRules(actionNames: string[], rules: Rule[]): RuleVerdict {
	const matching = rules.filter((r) => r.matches);
	const matched = matching.map((r) => r.name);
	const forbidden = actionNames.filter((name) => matching.some((r) => r.effect === 'forbid' && r.forbid.includes(name)));
	const forcing = matching.filter((r) => r.effect === 'force');
	if (forcing.length > 0) {
		const actions = [...new Set(forcing.map((r) => r.action))];
		if (actions.length > 1) {
			return {
				kind: 'escalate',
				reason: `rules conflict: ${forcing.map((r) => `"${r.name}" forces ${r.action}`).join(', ')}`,
				rule: null,
				matched,
				forbidden,
			};
		}
		if (forbidden.includes(actions[0])) {
			const against = matching.filter((r) => r.effect === 'forbid' && r.forbid.includes(actions[0])).map((r) => `"${r.name}"`);
			return {
				kind: 'escalate',
				reason: `rules conflict: "${forcing[0].name}" forces ${actions[0]}, which ${against.join(', ')} forbids`,
				rule: null,
				matched,
				forbidden,
			};
		}
		return { kind: 'force', action: actions[0], rule: forcing[0].name, matched, forbidden };
	}
	const allowed = actionNames.filter((name) => !forbidden.includes(name));
	if (allowed.length === 0) {
		return { kind: 'escalate', reason: 'every action is forbidden by a rule', rule: matched.join(', '), matched, forbidden };
	}
	return { kind: 'model', allowed, matched, forbidden };
}

/**
 * The second line of defence: whatever the schema let through, an action outside the allowed set (or a
 * forbidden one) never leaves on an action output. Returns true only for an allowed action or Escalate.
 */
export function isAllowedChoice(action: unknown, allowed: string[]): action is string {
	return typeof action === 'string' && (action === ESCALATE || allowed.includes(action));
}
