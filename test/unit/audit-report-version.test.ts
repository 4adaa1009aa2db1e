/**
 * Audit Log version 2's Report inside n8n's execution engine: the recommendation, the calibration per method
 * and the savings are in its output, with the Target Precision and Cost per Review parameters; a workflow saved
 * at version 1 gets exactly the report it got before (no new keys, the same HTML).
 */
import type { IDataObject } from 'n8n-workflow';

import { AuditLog } from '../../nodes/AuditLog/AuditLog.node';
import { GENESIS_HEAD, sealRecords } from '../../nodes/AuditLog/chain';
import { buildDraft } from '../../nodes/AuditLog/record';
import { aiItem, gate, review } from './audit-helpers';
import { runNode } from './helpers/engine';

// 10 billing decisions: 0.91 … 1.00, all approved; 2 below, edited; 2 more auto-routed
function records() {
	const drafts = [];
	for (let i = 0; i < 14; i++) {
		const confidence = i < 10 ? 0.91 + i / 100 : i < 12 ? 0.6 + i / 100 : 0.97;
		const json = aiItem(`t${i}`, { answer: 'billing', confidence }, {
			gate: gate(i < 12 ? 'review' : 'auto', confidence, 'billing'),
			...(i < 10 ? { review: review('approved') } : i < 12 ? { review: review('edited') } : {}),
		});
		drafts.push(buildDraft(json, { workflowId: 'wf', executionId: String(i), nodeName: 'Audit Log', itemIndex: 0, now: new Date('2026-11-20T10:00:00Z') }));
	}
	return sealRecords('default', GENESIS_HEAD, drafts);
}

const report = (typeVersion: number, parameters: IDataObject = {}) =>
	runNode({
		node: new AuditLog(),
		typeVersion,
		items: [{ json: { stream: 'default', records: records() } as unknown as IDataObject }],
		parameters: { operation: 'report', source: 'input', window: 'all', ...parameters },
	});

describe('Audit Log Report, version 2', () => {
	it('a workflow saved at version 1 gets the version 1 report: no new keys, no new sections', async () => {
		const [[v1]] = await report(1, { targetPrecision: 0.5, reviewCostUsd: 9 });
		expect(v1.json).not.toHaveProperty('recommendation');
		expect(v1.json).not.toHaveProperty('calibrationByMethod');
		expect(v1.json).not.toHaveProperty('savings');
		expect(Object.keys(v1.json).sort()).toEqual(
			['agreement', 'calibration', 'daily', 'errors', 'escalations', 'gate', 'generatedAt', 'html', 'records', 'skipped', 'stream', 'usage', 'volume', 'window'].sort(),
		);
		expect(String(v1.json.html)).not.toMatch(/Recommended thresholds|Calibration by confidence method|Cost saved|trust-changes/);
	});

	it('version 2: the thresholds at the default target (0.95) and at one set by the user, the figures and the savings', async () => {
		const [[v2]] = await report(2);
		const rec = v2.json.recommendation as IDataObject;
		// walking down from 1.00: 10 of 10 approved has a lower bound 0.7225 < 0.95: no threshold at 0.95
		expect(rec).toMatchObject({ targetPrecision: 0.95, thresholds: {} });
		const [[set]] = await report(2, { targetPrecision: 0.7, reviewCostUsd: 2.5 });
		// at 0.7: 10 of 10 (lower bound 0.7225) meets it, at 0.91; 9 of 9 (0.7008) too, but 0.91 is the lowest
		expect(set.json.recommendation).toMatchObject({
			targetPrecision: 0.7,
			thresholds: { billing: 0.91 },
			byLabel: { billing: { threshold: 0.91, reviewed: 10, correct: 10, items: 14, autoItems: 12, autoRate: 0.8571, reviewsSaved: 10 } },
		});
		expect(set.json.calibrationByMethod).toMatchObject({ logprobs: { reviewed: 12, correct: 10 } });
		expect(set.json.savings).toEqual({
			reviewCostUsd: 2.5,
			autoRouted: 2,
			costSavedUsd: 5,
			reviewsSavedByRecommendation: 10,
			costSavedByRecommendationUsd: 25,
		});
		expect(String(set.json.html)).toContain('<h2>Recommended thresholds</h2>');
	});

	it('names a bad Target Precision', async () => {
		await expect(report(2, { targetPrecision: 1.5 })).rejects.toThrow(/Target Precision must be a number between 0 and 1, got "1.5"/);
	});
});
