/** The option "Items per Request" (AI Classify version 4; shared/batch/severalItems.ts does the work). */
import type { INodeProperties } from 'n8n-workflow';

import { MAX_ITEMS_PER_REQUEST } from '../batch/severalItems';
import { fromVersion } from './versions';

export function itemsPerRequestOption(version: number): INodeProperties {
	return fromVersion(version, {
		displayName: 'Items per Request',
		name: 'itemsPerRequest',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_ITEMS_PER_REQUEST },
		default: 1,
		description:
			'How many items to ask about in one request. More items per request cost fewer prompt tokens and requests; each item is still answered on its own, by its own ID, and one whose answer is missing or invalid is asked again alone. 1 asks one item per request.',
	});
}
