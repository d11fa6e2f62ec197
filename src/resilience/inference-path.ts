// The one path every text takes to a model: result cache -> shared batcher -> circuit breaker and
// timeout -> model, and down the fallback chain when a model cannot answer. The answer says what
// happened (cached, fallback, the model that really answered).
import type { Batcher, LaneSpec } from '../batching/batcher.js';
import { BadInputError, ModelUnavailableError, OverloadedError } from '../errors/errors.js';
import { ClassificationModel, EmbeddingModel, type Model } from '../inference/model.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { l2Norm } from '../inference/postprocess.js';
import type { EncodedText } from '../inference/text-encoder.js';
import { LocalEncoding, type TextEncoding } from '../inference/tokenize/text-encoding.js';
import { cacheKey } from './cache/cache-key.js';
import type { CachedResult } from './cache/codec.js';
import { ModelCallError, ModelGuard, type BreakerStateName, type GuardOptions } from './model-guard.js';

export type TaskModel = ClassificationModel | EmbeddingModel;

/** The cache as this path needs it; ResultCache implements it. */
export interface ResultStore {
  get(key: string): Promise<CachedResult | undefined>;
  set(key: string, value: CachedResult): Promise<void>;
}

export interface PathAnswer {
  result: CachedResult;
  /** The model that produced the result (a fallback when `fallback`). */
  model: TaskModel;
  cached: boolean;
  fallback: boolean;
}

/** One text answered: what telemetry (drift, token counts) needs, and never the text itself. */
export interface AnswerEvent {
  /** The model that answered. */
  model: string;
  task: 'classification' | 'embedding';
  cached: boolean;
  fallback: boolean;
  /** Tokens the model read. */
  tokens: number;
  /** Tokens of the whole text before truncation (a lower bound when truncated); unknown for cache hits. */
  fullTokens: number | undefined;
  truncated: boolean;
  /** Unknown-token count among the tokens read; unknown for cache hits. */
  unknownTokens: number | undefined;
  /** Classification: every label's probability, highest first. */
  scores?: readonly { label: string; score: number }[];
  /** Embedding: L2 norm of the pooled vector before normalisation. */
  vectorNorm?: number;
}

export interface PathHooks {
  /** Tokenization of one text for `model` took `ms`, where it ran (called in the request's context). */
  onTokenize?: (model: string, ms: number, tokens: number) => void;
  /** Every answered text, cached or computed. */
  onAnswer?: (event: AnswerEvent) => void;
  /** A fallback model answered for `model`. */
  onFallback?: (model: string, fallback: string) => void;
  onBreakerState?: (model: string, state: BreakerStateName) => void;
}

export interface TextRequest {
  text: string;
  /** Where the text is in the request, for error messages ("text", "texts[3]"). */
  where: string;
  truncate: boolean;
  signal?: AbortSignal;
}

/** Identical token ids give identical outputs, so they identify an item for de-duplication. */
const idsKey = (t: EncodedText) => t.ids.join(',');

export class InferencePath {
  private readonly guards = new Map<string, ModelGuard>();
  private readonly lanes = new Map<string, LaneSpec<EncodedText, CachedResult>>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly batcher: Batcher,
    private readonly guardOptions: GuardOptions,
    private readonly cache: ResultStore | undefined,
    private readonly hooks: PathHooks = {},
    /** Where texts are tokenized: the event loop unless tokenizer threads are given. */
    private readonly encoding: TextEncoding = new LocalEncoding(),
  ) {}

  breakerState(model: string): BreakerStateName {
    return this.guards.get(model)?.state ?? 'CLOSED';
  }

  /** Answers one text with `model`, or with the first model of its fallback chain that can. */
  async run(model: TaskModel, request: TextRequest): Promise<PathAnswer> {
    let failure: ModelCallError | OverloadedError | undefined;
    // The registry checked at load that every fallback exists and that no chain loops.
    for (let next: TaskModel | undefined = model; next; next = this.fallbackOf(next)) {
      try {
        const answer = await this.answer(next, request, next !== model);
        if (next !== model) this.hooks.onFallback?.(model.name, next.name);
        return answer;
      } catch (e) {
        if (!(e instanceof ModelCallError || e instanceof OverloadedError)) throw e;
        failure ??= e;
      }
    }
    // Every model of the chain failed; report the requested model's failure.
    const first = failure!;
    if (first instanceof OverloadedError) throw first;
    throw new ModelUnavailableError(`model "${model.name}" cannot answer now and no fallback could: ${first.reason}`, {
      model: model.name,
      reason: first.reason,
    });
  }

  private fallbackOf(model: TaskModel): TaskModel | undefined {
    return model.spec.fallback ? (this.registry.get(model.spec.fallback) as TaskModel | undefined) : undefined;
  }

  private async answer(model: TaskModel, request: TextRequest, fallback: boolean): Promise<PathAnswer> {
    // Hashed only when there is a cache to ask.
    const key = this.cache && cacheKey({ model: model.name, version: model.version, options: { weights: model.file }, text: request.text });
    const hit = key === undefined ? undefined : await this.cache!.get(key);
    if (hit && !(hit.truncated && !request.truncate)) {
      this.report(model, hit, true, fallback, undefined);
      return { result: hit, model, cached: true, fallback };
    }

    // An open breaker fails at once: no point queuing for a model that will not be called.
    if (this.guard(model).state === 'OPEN') throw new ModelCallError(model.name, 'open', 'recent calls failed');
    const { encoded, ms } = await this.encoding.encode(model, request.text, !request.truncate);
    this.hooks.onTokenize?.(model.name, ms, encoded.ids.length);
    if (encoded.truncated && !request.truncate) {
      throw new BadInputError(
        `${request.where} has ${encoded.fullLength} tokens; model "${model.name}" takes at most ${model.spec.maxTokens} (pass truncate: true to cut it)`,
        { tokens: encoded.fullLength, limit: model.spec.maxTokens },
      );
    }
    const result = await this.batcher.load(model.name, this.lane(model), encoded, request.signal);
    if (key !== undefined) void this.cache!.set(key, result);
    this.report(model, result, false, fallback, encoded);
    return { result, model, cached: false, fallback };
  }

  private report(model: TaskModel, result: CachedResult, cached: boolean, fallback: boolean, encoded: EncodedText | undefined): void {
    if (!this.hooks.onAnswer) return;
    this.hooks.onAnswer({
      model: model.name,
      task: result.kind,
      cached,
      fallback,
      tokens: result.tokens,
      fullTokens: encoded?.fullLength,
      truncated: result.truncated,
      unknownTokens: encoded?.unknown,
      ...(result.kind === 'classification' ? { scores: result.scores } : { vectorNorm: l2Norm(result.vector) }),
    });
  }

  private guard(model: Model): ModelGuard {
    let guard = this.guards.get(model.name);
    if (!guard) {
      guard = new ModelGuard(model.name, this.guardOptions, this.hooks.onBreakerState);
      this.guards.set(model.name, guard);
    }
    return guard;
  }

  /**
   * The batcher lane of a model: each model call of a batch goes through the model's breaker and
   * timeout, and each text is answered as soon as its own call is done.
   */
  private lane(model: TaskModel): LaneSpec<EncodedText, CachedResult> {
    let lane = this.lanes.get(model.name);
    if (lane) return lane;
    const guard = this.guard(model);
    const guarded = <T>(call: () => Promise<T>) => guard.execute(call);
    const meta = (t: EncodedText) => ({ tokens: t.ids.length, truncated: t.truncated });
    const fn =
      model instanceof ClassificationModel
        ? (batch: readonly EncodedText[]) =>
            model.classifyEach(batch, guarded).map((p, i) => p.then((o): CachedResult => ({ kind: 'classification', scores: o.scores, ...meta(batch[i]!) })))
        : (batch: readonly EncodedText[]) =>
            model.embedEach(batch, guarded).map((p, i) => p.then((o): CachedResult => ({ kind: 'embedding', vector: o.vector, ...meta(batch[i]!) })));
    lane = { fn, keyOf: idsKey, capacity: model.capacity };
    this.lanes.set(model.name, lane);
    return lane;
  }
}
