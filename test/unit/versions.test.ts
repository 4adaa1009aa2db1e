/**
 * Node versions: a workflow saved at version 1 keeps behaving as version 1 after a version 2 changes a default
 * (through shared/node/versions.ts, the way a later version would ship it), and no default of today's
 * version 1 changes unnoticed: the defaults n8n fills into a workflow that left them empty are frozen in a
 * fixture computed from the descriptions before they moved into their own files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { NodeHelpers, Workflow, type IDataObject, type INode, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { AiClassify } from '../../nodes/AiClassify/AiClassify.node';
import { AiDecide } from '../../nodes/AiDecide/AiDecide.node';
import { AiExtract } from '../../nodes/AiExtract/AiExtract.node';
import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { ConfidenceGate } from '../../nodes/ConfidenceGate/ConfidenceGate.node';
import { versionDescription as gateDescription } from '../../nodes/ConfidenceGate/description';
import { ReviewInbox } from '../../nodes/ReviewInbox/ReviewInbox.node';
import { HumanCheckpoint } from '../../nodes/HumanCheckpoint/HumanCheckpoint.node';
import { changedAtVersion, outputsFrom } from '../../shared/node/versions';
import { defaultsOf, defaultsOfNodes, versionsOf, type VersionDefaults } from './helpers/defaults';
import { runNode } from './helpers/engine';

const fixtures = join(__dirname, 'fixtures');
const savedDefaults = JSON.parse(readFileSync(join(fixtures, 'node-defaults.json'), 'utf8')) as Record<string, Record<string, VersionDefaults>>;

/** Confidence Gate as a version 2 would ship it: "Auto at or Above" defaults to 0.9 from version 2 on. */
class ConfidenceGateV2 extends ConfidenceGate {
	description: INodeTypeDescription = {
		...gateDescription,
		version: [1, 2],
		properties: gateDescription.properties.flatMap((property) => (property.name === 'high' ? changedAtVersion(2, property, { default: 0.9 }) : [property])),
	};
}

/** An item as AI Classify leaves it. */
const aiItem = (ticket: string, confidence: number) => ({
	ticket,
	ai: {
		latest: 'classify',
		classify: {
			decisionId: `d-${ticket}`,
			step: 'classify',
			answer: 'billing',
			confidence,
			confidenceMethod: 'logprobs',
			reason: '',
			evidence: [],
			needsReview: false,
			provider: 'openai',
			model: 'm',
			usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, requests: 1 },
			costUsd: 0,
			attempts: 1,
			latencyMs: 1,
			promptHash: 'h',
			at: '2026-01-01T00:00:00.000Z',
		},
	},
});

describe('node versions', () => {
	describe('a workflow saved at version 1 with its defaults left empty', () => {
		const workflow = JSON.parse(readFileSync(join(fixtures, 'gate-saved-v1.json'), 'utf8')) as { nodes: INode[] };
		const saved = workflow.nodes.find((node) => node.type === 'n8n-nodes-governed-ai.confidenceGate')!;
		const items = [aiItem('sure', 0.95), aiItem('fairly sure', 0.87), aiItem('unsure', 0.5)];
		const run = (typeVersion: number) =>
			runNode({ node: new ConfidenceGateV2(), parameters: saved.parameters, typeVersion, nodeName: saved.name, nodeId: saved.id, items });
		const tickets = (output: Array<{ json: IDataObject }>) => output.map((item) => item.json.ticket);

		it('is saved as n8n saves it: version 1, no parameters', () => {
			expect(saved.typeVersion).toBe(1);
			expect(saved.parameters).toEqual({});
		});

		it('keeps version 1\'s default after version 2 changes it: 0.87 still goes to Auto', async () => {
			const [auto, review] = await run(saved.typeVersion);
			expect(tickets(auto)).toEqual(['sure', 'fairly sure']);
			expect(tickets(review)).toEqual(['unsure']);
		});

		it('gets the new default when the same workflow is at version 2: 0.87 goes to Review', async () => {
			const [auto, review] = await run(2);
			expect(tickets(auto)).toEqual(['sure']);
			expect(tickets(review)).toEqual(['fairly sure', 'unsure']);
		});

		it('routes as saved on the real Confidence Gate, whose version 2 added Shadow and Earned modes', async () => {
			const [auto, review] = await runNode({ node: new ConfidenceGate(), parameters: saved.parameters, typeVersion: saved.typeVersion, nodeName: saved.name, nodeId: saved.id, items });
			expect(tickets(auto)).toEqual(['sure', 'fairly sure']);
			expect(tickets(review)).toEqual(['unsure']);
			expect(auto[0].json.gate).toMatchObject({ mode: 'autopilot', high: 0.85, low: 0.4, sampled: false });
			expect(Object.keys(auto[0].json.gate as IDataObject)).not.toEqual(expect.arrayContaining(['wouldBe']));
			expect(Object.keys(auto[0].json.gate as IDataObject)).not.toEqual(expect.arrayContaining(['trust']));
		});

		it('loads version 1 with exactly the defaults of today\'s version 1; version 2 differs only in the changed one', () => {
			const gateV2 = new ConfidenceGateV2().description;
			expect(defaultsOf(gateV2, 1)).toEqual(savedDefaults.confidenceGate['1']);
			const v2 = defaultsOf(gateV2, 2);
			expect(v2.empty).toEqual({ ...savedDefaults.confidenceGate['1'].empty, high: 0.9 });
		});
	});

	it('hands the node\'s version to an outputs function', () => {
		const description: INodeTypeDescription = {
			...gateDescription,
			version: [1, 2],
			outputs: outputsFrom((parameters: { mode?: string }, version) => [{ type: 'main', displayName: `${parameters.mode} v${version}` }]),
		};
		const nodeType: INodeType = { description };
		const outputsAt = (typeVersion: number) => {
			const node: INode = { id: 'g', name: 'Gate', type: 'test.gate', typeVersion, position: [0, 0], parameters: {} };
			const workflow = new Workflow({
				nodes: [node],
				connections: {},
				active: false,
				nodeTypes: { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) },
			});
			return NodeHelpers.getNodeOutputs(workflow, workflow.getNode('Gate')!, description);
		};
		expect(outputsAt(1)).toEqual([{ type: 'main', displayName: 'autopilot v1' }]);
		expect(outputsAt(2)).toEqual([{ type: 'main', displayName: 'autopilot v2' }]);
	});

	describe('every node of the package', () => {
		const nodes = [new AiClassify(), new AiExtract(), new AiDecide(), new ConfidenceGate(), new HumanCheckpoint(), new AuditLog(), new ReviewInbox()];
		const packageNodes = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { n8n: { nodes: string[] } }).n8n.nodes;

		it('is tested here', () => {
			expect(nodes.map((node) => `dist/nodes/${node.constructor.name}/${node.constructor.name}.node.js`)).toEqual(packageNodes);
		});

		it.each(nodes.map((node) => [node.description.displayName, node] as const))('%s declares its versions, oldest first, starting at 1', (_name, node) => {
			const versions = versionsOf(node.description);
			expect(Array.isArray(node.description.version)).toBe(true);
			expect(versions[0]).toBe(1);
			expect(versions).toEqual([...versions].sort((a, b) => a - b));
		});

		// A failure here means a default changed: ship it as a new version (shared/node/versions.ts) and add that
		// version's defaults to the fixture; the entries of released versions never change.
		it('fills in the same defaults as when the fixture was made, for every version', () => {
			expect(defaultsOfNodes(nodes)).toEqual(savedDefaults);
		});
	});
});
