/** What the editor shows of the Audit Log: the operation, the sink and its credentials; each operation's parameters live in actions/. */
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

import * as append from './actions/append';
import * as report from './actions/report';
import * as verify from './actions/verify';

export const versionDescription: INodeTypeDescription = {
	displayName: 'Audit Log',
	name: 'auditLog',
	icon: { light: 'file:auditLog.svg', dark: 'file:auditLog.dark.svg' },
	group: ['transform'],
	version: [1, 2, 3],
	subtitle: '={{ $parameter["operation"] + ": " + $parameter["stream"] }}',
	description:
		'Append a tamper-evident, hash-chained record of every AI and human decision; verify the chain; report accuracy, escalations and cost',
	defaults: { name: 'Audit Log' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	credentials: [
		{
			name: 'governedAiPostgres',
			required: true,
			testedBy: 'governedAiPostgresConnectionTest',
			// Verify and Report with "Records From: Input Items" read no sink
			displayOptions: { show: { sink: ['postgres'] }, hide: { source: ['input'] } },
		},
		{
			name: 'httpHeaderAuth',
			required: true,
			displayOptions: { show: { sink: ['http'], httpAuthentication: ['headerAuth'] } },
		},
	],
	properties: [
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Append',
					value: 'append',
					action: 'Append a record per item',
					description: 'Write one record per item to the log and pass the items on with an `audit` stamp',
				},
				{
					name: 'Verify',
					value: 'verify',
					action: 'Verify the hash chain',
					description: 'Recompute the chain and name the first record that was edited, deleted, inserted or moved',
				},
				{
					name: 'Report',
					value: 'report',
					action: 'Report accuracy and cost',
					description: 'Volume, gate rates, human agreement, calibration, escalations, errors and cost for a time window, as JSON and HTML',
				},
			],
			default: 'append',
		},
		...append.properties,
		...verify.properties,
		...report.properties,
	],
};
