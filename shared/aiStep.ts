/**
 * What the three AI nodes share per run: read the options, build one SDK client per model, run the items
 * concurrently under one limit, prepare each item's text (type, emptiness, size, redaction), fill the common
 * fields of the result (provider, model, usage, cost, attempts, latency, decision id, prompt hash), and send
 * every item to exactly one output — a failed item too, to the review output when Continue On Fail is on.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';

import { type AiResult, type AiStep, type ConfidenceMethod, type Usage, validateResultKey, withAiResult } from './contract';
import { costUsd, emptyUsage, priceFor } from './cost';
import { Limiter, mapConcurrent } from './concurrency';
import { newDecisionId, promptHash } from './hash';
import { parameterReader, type ParameterReader } from './node/parameters';
import { failedItem } from './failedItem';
import { createModelClient, type ModelClient, type ProviderName, ProviderError, scrubSecrets } from './providers';
import { redact, type RedactionKind } from './redact';
import type { JsonSchema } from './schema/jsonSchemaToZod';
import { type Answer, type CallPolicy, InvalidAnswerError } from './structured';

export interface AiOptions {
	concurrency: number;
	retries: number;
	reasks: number;
	timeoutSeconds: number;
	temperature: number;
	redact: RedactionKind[];
	inputPrice: number;
	outputPrice: number;
	maxInputChars: number;
}

const DEFAULT_OPTIONS: AiOptions = {
	concurrency: 5,
	retries: 5,
	reasks: 2,
	timeoutSeconds: 60,
	temperature: 0,
	redact: [],
	inputPrice: 0,
	outputPrice: 0,
	maxInputChars: 100_000,
};

/** The "Price Override" option as a price, or undefined to use the list price. */
function priceOverride(options: AiOptions | undefined): { input: number; output: number } | undefined {
	if (!options || !(options.inputPrice > 0 || options.outputPrice > 0)) return undefined;
	return { input: options.inputPrice, output: options.outputPrice };
}

/** For a failed item: the value, or undefined when computing it fails too (e.g. the settings were what failed). */
function safely<T>(read: () => T): T | undefined {
	try {
		return read();
	} catch {
		return undefined;
	}
}

export function readAiOptions(ctx: IExecuteFunctions, itemIndex: number, param: ParameterReader = parameterReader(ctx)): AiOptions {
	const raw = param<Partial<AiOptions>>('options', itemIndex, {});
	return { ...DEFAULT_OPTIONS, ...raw, redact: (raw.redact as RedactionKind[]) ?? [] };
}

/** What a node's per-item function gets: the client, the call policy and helpers for the common work. */
export interface ItemContext {
	itemIndex: number;
	/** Reads a node parameter for this item (evaluated once per run when it holds no expression). */
	param<T = unknown>(name: string, fallback?: T): T;
	client: ModelClient;
	policy: CallPolicy;
	options: AiOptions;
	/** Checks and redacts one text parameter; errors name the item and the field. */
	prepareText(value: unknown, field: string): string;
	/** The common part of the result, from the answer (or usage so far) and the node's own part. */
	result(
		own: {
			answer: unknown;
			confidence: number | null;
			confidenceMethod: ConfidenceMethod;
			reason: string;
			evidence: string[];
			needsReview: boolean;
			reviewReason?: string;
			requiresApproval?: boolean;
		},
		call: Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model'> | undefined,
		promptParts: Record<string, unknown>,
	): AiResult;
}

/** One output item of a node: which output, the result, and any extra top-level fields. */
export interface ItemOutcome {
	output: number;
	result: AiResult;
	json?: IDataObject;
}

export interface AiStepConfig {
	step: AiStep;
	defaultKey: string;
	/** index of the "Needs Review" / "Escalate" output, where failures go with Continue On Fail */
	reviewOutput: number;
	outputCount: number;
	process(item: ItemContext, input: INodeExecutionData): Promise<ItemOutcome | ItemOutcome[]>;
	/**
	 * The shape a person's answer must have (published as `answerSchema`), for an item that failed before the
	 * node could say: without it a reviewer's correction of a failed item would be held to nothing.
	 */
	answerSchema?(itemIndex: number): JsonSchema;
}

export async function runAiStep(ctx: IExecuteFunctions, config: AiStepConfig): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const outputs: INodeExecutionData[][] = Array.from({ length: config.outputCount }, () => []);
	if (items.length === 0) return outputs;
	const param = parameterReader(ctx);
	const first = readAiOptions(ctx, 0, param);
	const concurrency = Math.max(1, Math.floor(first.concurrency));
	const limiter = new Limiter(concurrency);
	const clients = new Map<string, Promise<{ client: ModelClient; secrets: string[] }>>();

	// Items are worked through by a pool a little larger than the request limit (so one waiting out a
	// retry-after does not idle a slot), not all at once: memory stays flat however many items come in.
	const settled = await mapConcurrent(items.length, concurrency * 2, async (itemIndex) => {
		const input = items[itemIndex];
		const resultKey = String(param('resultKey', itemIndex, config.defaultKey) || config.defaultKey);
		const started = Date.now();
		let secrets: string[] = [];
		let provider: ProviderName | 'unknown' = 'unknown';
		let model = 'unknown';
		try {
			const keyProblem = validateResultKey(resultKey);
			if (keyProblem) {
				throw new NodeOperationError(ctx.getNode(), `Result Key "${resultKey}" ${keyProblem}`, { itemIndex });
			}
			const chosenProvider = param<ProviderName>('provider', itemIndex);
			provider = chosenProvider;
			model = String(param('model', itemIndex, '')).trim();
			if (!model) throw new NodeOperationError(ctx.getNode(), 'The Model parameter is empty', { itemIndex });
			const options = readAiOptions(ctx, itemIndex, param);
			const clientKey = `${provider}\u0000${model}\u0000${options.timeoutSeconds}`;
			if (!clients.has(clientKey)) {
				clients.set(clientKey, createModelClient(ctx, chosenProvider, model, options.timeoutSeconds * 1000));
			}
			const made = await clients.get(clientKey)!;
			secrets = made.secrets;
			const policy: CallPolicy = {
				retries: options.retries,
				reasks: options.reasks,
				timeoutMs: options.timeoutSeconds * 1000,
				limiter,
				secrets,
			};
			const context = itemContext(ctx, itemIndex, param, made.client, policy, options, config.step, started);
			const outcome = await config.process(context, input);
			return { itemIndex, input, resultKey, outcomes: Array.isArray(outcome) ? outcome : [outcome] };
		} catch (error) {
			return { itemIndex, input, resultKey, error, secrets, provider, model, started };
		}
	});

	for (const entry of settled) {
		const pairedItem = { item: entry.itemIndex };
		if ('outcomes' in entry && entry.outcomes) {
			for (const outcome of entry.outcomes) {
				outputs[outcome.output].push({
					json: { ...(withAiResult(entry.input.json, entry.resultKey, outcome.result) as IDataObject), ...(outcome.json ?? {}) },
					binary: entry.input.binary,
					pairedItem,
				});
			}
			continue;
		}
		const nodeError = toNodeError(ctx, entry.error, entry.itemIndex, entry.secrets ?? []);
		if (!ctx.continueOnFail()) throw nodeError;
		// what the call had cost before it failed (re-asks, retries) counts like any other usage
		const failure = entry.error as { usage?: Usage; attempts?: number };
		const usage = failure?.usage ?? emptyUsage();
		const result: AiResult = {
			decisionId: newDecisionId(),
			step: config.step,
			answer: null,
			confidence: null,
			confidenceMethod: 'none',
			reason: '',
			evidence: [],
			needsReview: true,
			reviewReason: 'failed',
			error: nodeError.message,
			provider: String(entry.provider),
			model: String(entry.model),
			usage,
			costUsd: costUsd(usage, priceFor(String(entry.model), priceOverride(safely(() => readAiOptions(ctx, entry.itemIndex, param))))),
			attempts: failure?.attempts ?? 0,
			latencyMs: Date.now() - (entry.started ?? Date.now()),
			promptHash: '',
			at: new Date().toISOString(),
		};
		const answerSchema = safely(() => config.answerSchema?.(entry.itemIndex));
		if (answerSchema) result.answerSchema = answerSchema;
		outputs[config.reviewOutput].push(
			failedItem(
				ctx,
				{ json: withAiResult(entry.input.json, entry.resultKey, result) as IDataObject, binary: entry.input.binary, pairedItem },
				nodeError,
			),
		);
	}
	return outputs;
}

function itemContext(
	ctx: IExecuteFunctions,
	itemIndex: number,
	param: ParameterReader,
	client: ModelClient,
	policy: CallPolicy,
	options: AiOptions,
	step: AiStep,
	started: number,
): ItemContext {
	return {
		itemIndex,
		param: <T>(name: string, fallback?: T) => param<T>(name, itemIndex, fallback),
		client,
		policy,
		options,
		prepareText(value, field) {
			if (value === undefined || value === null) {
				throw new NodeOperationError(ctx.getNode(), `${field} is empty`, {
					itemIndex,
					description: `The expression for "${field}" gave no value for item ${itemIndex}.`,
				});
			}
			const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
			if (text.trim() === '') {
				throw new NodeOperationError(ctx.getNode(), `${field} is empty`, {
					itemIndex,
					description: `Item ${itemIndex} has no text in "${field}" to send to the model.`,
				});
			}
			if (text.length > options.maxInputChars) {
				throw new NodeOperationError(
					ctx.getNode(),
					`${field} is too long: ${text.length} characters, the limit is ${options.maxInputChars}`,
					{ itemIndex, description: 'Raise "Max Input Characters" in Options, or shorten the text before this node.' },
				);
			}
			return options.redact.length ? redact(text, options.redact).text : text;
		},
		result(own, call, promptParts) {
			const usage = call?.usage ?? emptyUsage();
			const override = priceOverride(options);
			return {
				decisionId: newDecisionId(),
				step,
				...own,
				provider: client.provider,
				model: call?.model ?? client.model,
				...(call?.responseId ? { responseId: call.responseId } : {}),
				usage,
				costUsd: costUsd(usage, priceFor(client.model, override)),
				attempts: call?.attempts ?? 0,
				latencyMs: call?.latencyMs ?? Date.now() - started,
				promptHash: promptHash({ ...promptParts, provider: client.provider, model: client.model, temperature: options.temperature }),
				at: new Date().toISOString(),
			};
		},
	};
}

function toNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number, secrets: string[]): NodeOperationError | NodeApiError {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) return error;
	if (error instanceof InvalidAnswerError) {
		return new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: ${error.message}`, {
			itemIndex,
			description: error.fields.length ? `Fields: ${error.fields.join(', ')}` : undefined,
		});
	}
	if (error instanceof ProviderError) {
		return new NodeApiError(
			ctx.getNode(),
			{ message: error.message, kind: error.kind, status: error.status ?? null } as JsonObject,
			{ itemIndex, message: `Item ${itemIndex}: ${error.message}`, httpCode: error.status ? String(error.status) : undefined },
		);
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: ${scrubSecrets(message, secrets)}`, { itemIndex });
}
