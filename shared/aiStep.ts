/**
 * What the three AI nodes share per run: one run shape — the node prepares once per run (parameters, prompt
 * and schema), then processes each item — read the options, build one SDK client per model, run the items
 * concurrently under one limit, prepare each item's text (type, emptiness, size, redaction), fill the common
 * fields of the result (provider, model, usage, cost, attempts, latency, decision id, prompt hash), apply one
 * policy to an answer that stayed invalid after re-asking, and send every item to exactly one output — a failed
 * item too, to the review output when Continue On Fail is on.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';
import type { z } from 'zod/v4';

import { type AiResult, type AiStep, type ConfidenceMethod, type Usage, validateResultKey, withAiResult } from './contract';
import { costUsd, emptyUsage, priceFor } from './cost';
import { Limiter, mapConcurrent } from './concurrency';
import { Pacer } from './pacing';
import { newDecisionId, promptHash } from './hash';
import { CHAT_MODEL, modelParameter } from './node/aiProperties';
import { parameterReader, type ParameterReader } from './node/parameters';
import { failedItem } from './failedItem';
import {
	createChatModelClient,
	createModelClient,
	type CredentialSource,
	type ModelClient,
	type ProviderName,
	ProviderError,
	scrubSecrets,
} from './providers';
import type { ModelRequest } from './providers/types';
import { redact, type RedactionKind } from './redact';
import { askThroughCache, requestKey, type RunCache } from './resultCache';
import type { JsonSchema } from './schema/jsonSchemaToZod';
import { type Answer, askStructured, type CallPolicy, InvalidAnswerError } from './structured';
import { SEVERAL_ITEMS_PROMPT } from './batch/fence';
import { MAX_ITEMS_PER_REQUEST, SeveralItems } from './batch/severalItems';

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
	/** version 4 of AI Classify: items asked in one request (1: each its own) */
	itemsPerRequest: number;
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
	itemsPerRequest: 1,
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

/** What a node's `prepare` gets, once per run: the node's context and the run's parameter reader. */
export interface AiRun {
	ctx: IExecuteFunctions;
	/** Reads a node parameter for an item (evaluated once per run when it holds no expression). */
	param: ParameterReader;
}

/** What an item was asked with: the runner needs it when the answer stays invalid after re-asking. */
export interface Asking {
	/** what the prompt hash is made of */
	promptParts: Record<string, unknown>;
	/** the shape a person's answer must have, published on the item sent to review */
	answerSchema?: JsonSchema;
	/** the node's own fields on the item sent to review (AI Decide: the action is Escalate, the rules that matched) */
	reviewFields?: Record<string, unknown>;
	/** the user's name for a path in the answer, for the error when the node fails such an item */
	fieldOf?(path: string): string;
}

/** An answer that stayed invalid after re-asking, on its way to the runner's policy. */
class NoValidAnswer extends Error {
	constructor(
		readonly invalid: InvalidAnswerError,
		readonly asking: Asking,
	) {
		super(invalid.message);
	}
}

/** What a node's per-item function gets: the client, the call policy and helpers for the common work. */
export interface ItemContext {
	itemIndex: number;
	/** the node, for errors that name it */
	node: INode;
	/** Reads a node parameter for this item (evaluated once per run when it holds no expression). */
	param<T = unknown>(name: string, fallback?: T): T;
	client: ModelClient;
	policy: CallPolicy;
	options: AiOptions;
	/** Checks and redacts one text parameter; errors name the item and the field. */
	prepareText(value: unknown, field: string): string;
	/**
	 * Asks for an answer `schema` accepts. One that stays invalid after re-asking does not come back here: the
	 * runner applies the node's "no valid answer" policy to it.
	 */
	ask<S extends z.ZodType>(request: Omit<ModelRequest, 'corrections' | 'schema'>, schema: S, asking: Asking): Promise<Answer<z.infer<S>>>;
	/** Asks once more (further samples), through the run's result cache if any; an invalid answer throws InvalidAnswerError. */
	askAgain<S extends z.ZodType>(request: Omit<ModelRequest, 'corrections' | 'schema'>, schema: S): Promise<Answer<z.infer<S>>>;
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
		call: Pick<Answer<unknown>, 'usage' | 'attempts' | 'latencyMs' | 'responseId' | 'model' | 'reused' | 'batch' | 'cached' | 'cachedAt'> | undefined,
		promptParts: Record<string, unknown>,
	): AiResult;
}

/** One output item of a node: which output, the result, and any extra top-level fields. */
export interface ItemOutcome {
	output: number;
	result: AiResult;
	json?: IDataObject;
}

/** The outputs a node has in a run: fixed, or known once `prepare` has read the parameters that define them. */
export interface StepOutputs {
	outputCount: number;
	/** index of the "Needs Review" / "Escalate" output, where failures and items with no valid answer go */
	reviewOutput: number;
}

/**
 * What the model's answer staying invalid after every re-ask means for an item:
 * - 'review': the item goes to the review output with answer null, needsReview, reviewReason 'no valid answer',
 *   a reason naming the problems, the usage and attempts so far, and `answerSchema`;
 * - 'fail': the item fails with an error naming the user's fields (to the review output with Continue On Fail).
 */
export type NoValidAnswerPolicy = 'review' | 'fail';

/** One AI node: `prepare` once per run, then `process` per item. */
export interface AiStepConfig<P = unknown> extends Partial<StepOutputs> {
	step: AiStep;
	defaultKey: string;
	/**
	 * What holds for the whole run, read once: what items with the same settings share (prompt, schema) and,
	 * when they depend on the parameters, the outputs.
	 */
	prepare?(run: AiRun): P & Partial<StepOutputs>;
	process(item: ItemContext, input: INodeExecutionData, prepared: P): Promise<ItemOutcome | ItemOutcome[]>;
	/** 'fail' unless the node says otherwise */
	noValidAnswer?: NoValidAnswerPolicy;
	/**
	 * The shape a person's answer must have (published as `answerSchema`), for an item that failed before the
	 * node could say: without it a reviewer's correction of a failed item would be held to nothing.
	 */
	answerSchema?(itemIndex: number, run: AiRun, prepared: P): JsonSchema;
	/**
	 * From this node version on, items of a run whose request is the same (text and settings) make one request
	 * and share its answer; the items that reuse it say so (`reused`) and cost nothing.
	 */
	reuseFromVersion?: number;
	/**
	 * From this node version on, the option "Items per Request" groups up to that many consecutive items into one
	 * request (shared/batch/severalItems.ts); each item still gets its own answer, confidence and result.
	 */
	severalItemsFromVersion?: number;
	/**
	 * From this node version on, the Result Cache option: answers kept for re-runs, opened once per run by the
	 * node's own `open` (shared/node/resultCacheProperties.ts reads the option; the runner only asks through it).
	 */
	resultCache?: { fromVersion: number; open(run: AiRun): Promise<RunCache | undefined> };
}

/** Answers of one run by request: the first item asks, the others with the same request wait for its answer. */
type SharedAnswers = Map<string, Promise<Answer<unknown>>>;

export async function runAiStep<P>(ctx: IExecuteFunctions, config: AiStepConfig<P>): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const param = parameterReader(ctx);
	const run: AiRun = { ctx, param };
	const prepared = (config.prepare?.(run) ?? {}) as P & Partial<StepOutputs>;
	const outputCount = prepared.outputCount ?? config.outputCount;
	const reviewOutput = prepared.reviewOutput ?? config.reviewOutput;
	if (outputCount === undefined || reviewOutput === undefined) throw new Error(`The ${config.step} step does not say its outputs`);
	const outputs: INodeExecutionData[][] = Array.from({ length: outputCount }, () => []);
	if (items.length === 0) return outputs;
	const first = readAiOptions(ctx, 0, param);
	const concurrency = Math.max(1, Math.floor(first.concurrency));
	const limiter = new Limiter(concurrency);
	const clients = new Map<string, Promise<{ client: ModelClient; secrets: string[] }>>();
	// one pacer per provider and model (the provider's limits are per model), shared by the run's items
	const pacers = new Map<string, Pacer>();
	const shared: SharedAnswers | undefined =
		config.reuseFromVersion !== undefined && ctx.getNode().typeVersion >= config.reuseFromVersion ? new Map() : undefined;
	const cache: RunCache | undefined =
		config.resultCache !== undefined && ctx.getNode().typeVersion >= config.resultCache.fromVersion
			? await config.resultCache.open(run)
			: undefined;

	const perRequest =
		config.severalItemsFromVersion !== undefined && ctx.getNode().typeVersion >= config.severalItemsFromVersion
			? Math.min(MAX_ITEMS_PER_REQUEST, Math.max(1, Math.floor(first.itemsPerRequest)))
			: 1;

	const work = async (itemIndex: number, several?: SeveralItems) => {
		const input = items[itemIndex];
		const resultKey = String(param('resultKey', itemIndex, config.defaultKey) || config.defaultKey);
		const started = Date.now();
		let secrets: string[] = [];
		let provider: string = 'unknown';
		let model = 'unknown';
		try {
			const keyProblem = validateResultKey(resultKey);
			if (keyProblem) {
				throw new NodeOperationError(ctx.getNode(), `Result Key "${resultKey}" ${keyProblem}`, { itemIndex });
			}
			const chosenProvider = param<ProviderName | typeof CHAT_MODEL>('provider', itemIndex);
			provider = chosenProvider;
			const options = readAiOptions(ctx, itemIndex, param);
			let clientKey: string;
			let create: () => Promise<{ client: ModelClient; secrets: string[] }>;
			if (chosenProvider === CHAT_MODEL) {
				// version 3: the connected Chat Model sub-node; one model object for the run
				clientKey = `${CHAT_MODEL}\u0000${options.timeoutSeconds}`;
				create = async () => await createChatModelClient(ctx, options.timeoutSeconds * 1000);
			} else {
				model = String(param(modelParameter(chosenProvider, ctx.getNode().typeVersion), itemIndex, '')).trim();
				if (!model) throw new NodeOperationError(ctx.getNode(), 'The Model parameter is empty', { itemIndex });
				const source = param<CredentialSource>('credentialSource', itemIndex, 'governedAi');
				clientKey = `${provider}\u0000${model}\u0000${options.timeoutSeconds}\u0000${source}`;
				create = async () => await createModelClient(ctx, chosenProvider, model, options.timeoutSeconds * 1000, source);
			}
			if (!clients.has(clientKey)) clients.set(clientKey, create());
			const made = await clients.get(clientKey)!;
			secrets = made.secrets;
			provider = made.client.provider;
			model = made.client.model;
			const policy: CallPolicy = {
				retries: options.retries,
				reasks: options.reasks,
				timeoutMs: options.timeoutSeconds * 1000,
				limiter,
				pacer: pacerFor(pacers, `${provider}\u0000${model}`),
				secrets,
			};
			const context = itemContext(ctx, itemIndex, param, made.client, policy, options, config.step, started, shared, cache, several);
			const outcome = await processItem(config, context, input, prepared, reviewOutput);
			return { itemIndex, input, resultKey, outcomes: Array.isArray(outcome) ? outcome : [outcome] };
		} catch (error) {
			return { itemIndex, input, resultKey, error, secrets, provider, model, started };
		} finally {
			// an item that ended without asking (it failed first) must not hold up its group's request
			several?.leave(itemIndex);
		}
	};

	// Items are worked through by a pool a little larger than the request limit (so one waiting out a
	// retry-after does not idle a slot), not all at once: memory stays flat however many items come in.
	// With several items per request the pool holds groups of consecutive items, each group one request.
	const settled =
		perRequest === 1
			? await mapConcurrent(items.length, concurrency * 2, async (itemIndex) => await work(itemIndex))
			: (
					await mapConcurrent(Math.ceil(items.length / perRequest), concurrency * 2, async (group) => {
						const members = Array.from({ length: Math.min(perRequest, items.length - group * perRequest) }, (_, i) => group * perRequest + i);
						const several = new SeveralItems(members);
						return await Promise.all(members.map(async (itemIndex) => await work(itemIndex, several)));
					})
				).flat();
	// every request is done: the file store writes the run's new answers now (a failure only loses them for later runs)
	await cache?.store.close().catch((error: unknown) => cache.warn(`The result cache could not be written: ${errorText(error)}`));

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
		const answerSchema = safely(() => config.answerSchema?.(entry.itemIndex, run, prepared));
		if (answerSchema) result.answerSchema = answerSchema;
		outputs[reviewOutput].push(
			failedItem(
				ctx,
				{ json: withAiResult(entry.input.json, entry.resultKey, result) as IDataObject, binary: entry.input.binary, pairedItem },
				nodeError,
			),
		);
	}
	return outputs;
}

/** The node's work on one item, with the run's policy for an answer that stayed invalid after re-asking. */
async function processItem<P>(
	config: AiStepConfig<P>,
	item: ItemContext,
	input: INodeExecutionData,
	prepared: P,
	reviewOutput: number,
): Promise<ItemOutcome | ItemOutcome[]> {
	try {
		return await config.process(item, input, prepared);
	} catch (error) {
		if (!(error instanceof NoValidAnswer)) throw error;
		const { invalid, asking } = error;
		if ((config.noValidAnswer ?? 'fail') === 'fail') throw asking.fieldOf ? invalid.naming(asking.fieldOf) : invalid;
		const result = item.result(
			{
				answer: null,
				confidence: null,
				confidenceMethod: 'none',
				reason: `No valid answer after re-asking: ${invalid.problems}`,
				evidence: [],
				needsReview: true,
				reviewReason: 'no valid answer',
			},
			invalid.usage ? { usage: invalid.usage, attempts: invalid.attempts ?? 0, latencyMs: 0, model: item.client.model } : undefined,
			asking.promptParts,
		);
		if (asking.answerSchema) result.answerSchema = asking.answerSchema;
		Object.assign(result, asking.reviewFields);
		return { output: reviewOutput, result };
	}
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
	shared?: SharedAnswers,
	cache?: RunCache,
	several?: SeveralItems,
): ItemContext {
	/**
	 * One request: through the result cache when the run has one. `key` is the request's identity when the caller
	 * has it already (hashing the request and its schema is per-item work); `answeredFromCache` tells a group of
	 * several items not to wait for this one.
	 */
	const fresh = async <S extends z.ZodType>(
		request: Omit<ModelRequest, 'corrections' | 'schema'>,
		schema: S,
		how: { key?: string; ask?: () => Promise<Answer<z.infer<S>>>; answeredFromCache?: () => void } = {},
	): Promise<Answer<z.infer<S>>> => {
		const ask = how.ask ?? (async () => await askStructured(client, request, schema, policy));
		if (!cache) return await ask();
		return await askThroughCache(cache, how.key ?? requestKey(client, request, schema), schema, ask, how.answeredFromCache ?? (() => {}));
	};
	return {
		itemIndex,
		node: ctx.getNode(),
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
		async ask(request, schema, asking) {
			try {
				// alone, or with the other items of its group; through the result cache either way
				const leave = () => several?.leave(itemIndex);
				// the request's identity, hashed once for the run's shared answers and the result cache alike
				const key = shared || cache ? requestKey(client, request, schema) : undefined;
				const asked = () =>
					fresh(request, schema, {
						key,
						ask: several && SeveralItems.accepts(schema) ? async () => await several.ask(itemIndex, client, policy, request, schema) : undefined,
						answeredFromCache: leave,
					});
				if (!shared || key === undefined) return await asked();
				return await askOnce(shared, key, asked, leave);
			} catch (error) {
				throw error instanceof InvalidAnswerError ? new NoValidAnswer(error, asking) : error;
			}
		},
		askAgain: async (request, schema) => await fresh(request, schema),
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
				// an item asked with others was asked with the several-items rules too: the same hash for every such item
				promptHash: promptHash({
					...promptParts,
					provider: client.provider,
					model: client.model,
					temperature: options.temperature,
					...(call?.batch && !call.batch.askedAlone ? { severalItems: SEVERAL_ITEMS_PROMPT } : {}),
				}),
				...(call?.reused ? { reused: true } : {}),
				...(call?.batch ? { itemsInRequest: call.batch.items, ...(call.batch.askedAlone ? { askedAlone: true } : {}) } : {}),
				...(call?.cached ? { cached: true, cachedAt: call.cachedAt } : {}),
				at: new Date().toISOString(),
			};
		},
	};
}

function pacerFor(pacers: Map<string, Pacer>, key: string): Pacer {
	let pacer = pacers.get(key);
	if (!pacer) pacers.set(key, (pacer = new Pacer()));
	return pacer;
}

/**
 * The answer to a request this run has already made (or is making), else a new request. An item that reuses
 * another's answer gets its own copy, with no usage and no attempts of its own, marked `reused`.
 */
async function askOnce<T>(shared: SharedAnswers, key: string, ask: () => Promise<Answer<T>>, reusing: () => void): Promise<Answer<T>> {
	const earlier = shared.get(key);
	if (!earlier) {
		const asked = ask();
		shared.set(key, asked);
		return await asked;
	}
	// this item makes no request of its own: a group of several items must not wait for it
	reusing();
	const started = Date.now();
	const answer = await earlier;
	return {
		...(structuredClone(answer) as Answer<T>),
		usage: emptyUsage(),
		attempts: 0,
		reasks: 0,
		latencyMs: Date.now() - started,
		reused: true,
	};
}

function errorText(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
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
