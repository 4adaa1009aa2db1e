/** Small workflows made of n8n's own nodes, used to prove the harness itself. */
import { randomUUID } from 'node:crypto';

export function manualSetWorkflow(name = 'e2e manual set') {
	return {
		name,
		nodes: [
			{ id: randomUUID(), name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: randomUUID(),
				name: 'Set',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [220, 0],
				parameters: {
					mode: 'manual',
					assignments: {
						assignments: [
							{ id: randomUUID(), name: 'greeting', value: 'hello', type: 'string' },
							// An expression: proves the run evaluated it rather than echoing the workflow file.
							{ id: randomUUID(), name: 'sum', value: '={{ 20 + 22 }}', type: 'number' },
						],
					},
					options: {},
				},
			},
		],
		connections: { Start: { main: [[{ node: 'Set', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

export function manualFailWorkflow(name = 'e2e manual fail') {
	return {
		name,
		nodes: [
			{ id: randomUUID(), name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: randomUUID(),
				name: 'Fail Here',
				type: 'n8n-nodes-base.stopAndError',
				typeVersion: 1,
				position: [220, 0],
				parameters: { errorMessage: 'deliberate failure for the harness test' },
			},
		],
		connections: { Start: { main: [[{ node: 'Fail Here', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/** Webhook → Set → Respond to Webhook: answers with `{ echo, doubled }` computed from the posted body. */
export function webhookEchoWorkflow(path: string, name = `e2e webhook ${path}`) {
	return {
		name,
		nodes: [
			{
				id: randomUUID(),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: { httpMethod: 'POST', path, responseMode: 'responseNode', options: {} },
			},
			{
				id: randomUUID(),
				name: 'Set',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [220, 0],
				parameters: {
					mode: 'manual',
					assignments: {
						assignments: [
							{ id: randomUUID(), name: 'echo', value: '={{ $json.body.ticket }}', type: 'string' },
							{ id: randomUUID(), name: 'doubled', value: '={{ $json.body.n * 2 }}', type: 'number' },
						],
					},
					options: {},
				},
			},
			{
				id: randomUUID(),
				name: 'Respond',
				type: 'n8n-nodes-base.respondToWebhook',
				typeVersion: 1.1,
				position: [440, 0],
				parameters: { respondWith: 'firstIncomingItem', options: {} },
			},
		],
		connections: {
			Webhook: { main: [[{ node: 'Set', type: 'main', index: 0 }]] },
			Set: { main: [[{ node: 'Respond', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}
