// The one path every text takes to a model: result cache -> circuit breaker -> tokenizer -> the
// model's scheduler (queue, batching, workers) -> and down the fallback chain when a model cannot
// answer. Texts arrive in batches (the texts of one tick, coalesced above): the cache is looked up
// once per batch; then each text is tokenized and queued on its own (the tokenizer threads and the
// scheduler take the texts of one turn together) and answered as soon as its own call is done. The
// answer says what happened (cached, fallback, the model that answered).
// Every loaded version of a model has its own lane (breaker and scheduler); a version leaving service
// (a reload) is retired once the texts it took on are answered. Shadow traffic (shadow-traffic.ts)
// follows the serving versions' answers.
import { BadInputError, ModelUnavailableError, OverloadedError } from '../errors/errors.js';
import type { Model } from '../inference/model.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { EncodedText } from '../inference/text-encoder.js';
import type { Encoding, TextEncoding } from '../inference/tokenize/text-encoding.js';
import { CallCost } from '../scheduler/call-cost.js';
import { ModelScheduler, type AbortState, type RowOutput, type SchedulerObserver, type SchedulerOptions, type SchedulerStats } from '../scheduler/model-scheduler.js';
import { cacheKeyer } from './cache/cache-key.js';
import type { CachedResult } from './cache/codec.js';
import { InFlight } from './in-flight.js';
import { ModelCallError, ModelGuard, type BreakerStateName, type GuardOptions } from './model-guard.js';
import { ShadowTraffic, type ShadowEvent, type ShadowOptions } from './shadow-traffic.js';

/** The cache as this path needs it; ResultCache implements it. */
export interface ResultStore {
  getMany(keys: readonly string[]): Promise<(CachedResult | undefined)[]>;
  set(key: string, value: CachedResult): Promise<void>;
}

export interface PathAnswer {
  result: CachedResult;
  /** Embedding: the vector's L2 norm (to normalise it without measuring it again). */
  norm?: number;
  /** The model that produced the result (a fallback when `fallback`). */
  model: Model;
  cached: boolean;
  fallback: boolean;
}

/** One text answered: what telemetry (drift, token counts) needs, and never the text itself. */
export interface AnswerEvent {
  /** The model that answered. */
  model: string;
  /** Its version. */
  version: string;
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

/**
 * Hooks for telemetry. `tag` is what telemetry captured of the request a text came from (its trace
 * span): texts are processed in batches of many requests, outside their own request's context.
 */
export interface PathHooks {
  /** Tokenization of one text for `model` took `ms`, where it ran. */
  onTokenize?: (model: string, ms: number, tokens: number, tag: unknown) => void;
  /** The result cache was asked for one text. */
  onCacheLookup?: (hit: boolean, tag: unknown) => void;
  /** Every answered text, cached or computed. */
  onAnswer?: (event: AnswerEvent) => void;
  /** A fallback model answered for `model`. */
  onFallback?: (model: string, fallback: string, tag: unknown) => void;
  onBreakerState?: (model: string, state: BreakerStateName) => void;
  /** How each model's scheduler is watched (queue waits, calls, trace spans). */
  scheduler?: (model: string, version: string) => SchedulerObserver;
  /** A sampled text was run by a shadow version (or dropped, or failed there). */
  onShadow?: (event: ShadowEvent) => void;
}

export interface TextRequest {
  text: string;
  /** Where the text is in the request, for error messages ("text", "texts[3]"). */
  where: string;
  truncate: boolean;
  /** Fair-share identity of the client. */
  client: string;
  signal?: AbortState | undefined;
  /** What telemetry captured of the request (its trace span), handed back to the hooks. */
  tag?: unknown;
}

export interface PathOptions {
  guard: GuardOptions;
  scheduler: Omit<SchedulerOptions, 'quantum'>;
  /** Longest a text may wait and compute before it fails (queue and model together). */
  deadlineMs: number;
  /** Share models (and tokenizers) between clients fairly; false: first come, first served. */
  fairShare: boolean;
  shadow: ShadowOptions;
}

/** Whether anyone still waits for a computation shared by identical texts (see `shared`). */
class Waiters {
  private readonly signals: AbortState[] = [];
  private forever = false;
  add(signal: AbortState | undefined): void {
    if (signal) this.signals.push(signal);
    else this.forever = true;
  }
  get aborted(): boolean {
    return !this.forever && this.signals.every((s) => s.aborted);
  }
}

interface Lane {
  model: Model;
  guard: ModelGuard;
  scheduler: ModelScheduler;
  keyOf: (text: string) => string;
  /** Identical texts being computed now, by cache key (or text): computed once. */
  inFlight: Map<string, { waiters: Waiters; result: Promise<Computed> }>;
}

interface Computed {
  result: CachedResult;
  encoded: EncodedText;
  norm: number | undefined;
}

/** A lane's scheduler as telemetry reads it. */
export interface LaneView {
  model: string;
  version: string;
  /** The version plain-name requests get (the call-cost gauge shows its fit). */
  serving: boolean;
  scheduler: ModelScheduler;
}

export class InferencePath {
  private readonly lanes = new Map<Model, Lane>();
  /** Texts each lane has taken on and not answered yet. */
  private readonly active = new InFlight<Model>();
  /** Counters of retired lanes, per model name, so that the totals never go back. */
  private readonly retiredStats = new Map<string, SchedulerStats>();
  private readonly shadow: ShadowTraffic;
  /** Texts answered by an identical text already in flight. */
  deduplicated = 0;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly options: PathOptions,
    private readonly cache: ResultStore | undefined,
    private readonly encoding: TextEncoding,
    private readonly hooks: PathHooks = {},
  ) {
    this.shadow = new ShadowTraffic(options.shadow, {
      target: (serving) => registry.shadowOf(serving),
      run: (model, request) => this.answer(model, model, [request], false)[0]!,
      busy: (serving) => (this.lanes.get(serving)?.scheduler.waiting ?? 0) >= options.scheduler.maxBatchSize,
      onShadow: hooks.onShadow,
    });
  }

  /** Makes `model` servable: its breaker and scheduler, the scheduler's cost model seeded. */
  async add(model: Model): Promise<Record<string, number>> {
    const guard = new ModelGuard(model.name, this.options.guard, this.hooks.onBreakerState);
    // A client's turn in the queue: at least four of its longest texts.
    const options = { ...this.options.scheduler, quantum: 4 * model.spec.maxTokens };
    const scheduler = new ModelScheduler(model.name, model.runner, guard, new CallCost(), options, this.hooks.scheduler?.(model.name, model.version));
    const calibration = await scheduler.calibrate(model.spec.maxTokens);
    const keyOf = this.cache ? cacheKeyer({ model: model.name, version: model.version, options: { weights: model.file } }) : (text: string) => text;
    this.lanes.set(model, { model, guard, scheduler, keyOf, inFlight: new Map() });
    return calibration;
  }

  /**
   * Takes `model`'s lane out of service once every text it took on is answered (nothing routes new
   * texts to it by then: the registry no longer names it). Its scheduler is then closed; the caller
   * closes the model, whose runner waits for calls in progress.
   */
  async retire(model: Model): Promise<void> {
    const lane = this.lanes.get(model);
    if (!lane) return;
    await this.active.idle(model);
    lane.scheduler.close();
    this.lanes.delete(model);
    const total = this.retiredStats.get(model.name) ?? { calls: 0, items: 0, abandoned: 0, expired: 0, rejected: 0 };
    for (const key of Object.keys(total) as (keyof SchedulerStats)[]) total[key] += lane.scheduler.stats[key];
    this.retiredStats.set(model.name, total);
  }

  /** Texts `model` has taken on and not answered yet. */
  pending(model: Model): number {
    return this.active.count(model);
  }

  /** The breaker of `name`'s serving version. */
  breakerState(name: string): BreakerStateName {
    const model = this.registry.get(name);
    return (model && this.lanes.get(model)?.guard.state) ?? 'CLOSED';
  }

  /** Every lane: texts waiting or computing, counters and the learnt call cost. */
  schedulers(): LaneView[] {
    return [...this.lanes].map(([model, lane]) => ({
      model: model.name,
      version: model.version,
      serving: this.registry.get(model.name) === model,
      scheduler: lane.scheduler,
    }));
  }

  /** Counters of lanes already retired, per model name (to add to the live lanes' counters). */
  retiredCounters(): ReadonlyMap<string, SchedulerStats> {
    return this.retiredStats;
  }

  /** Stops every scheduler: texts not yet started fail; calls running finish. */
  close(): void {
    for (const lane of this.lanes.values()) lane.scheduler.close();
  }

  /**
   * Answers each text with `model`, or with the first model of its fallback chain that can; one
   * promise per text, in order.
   */
  runMany(model: Model, requests: readonly TextRequest[]): Promise<PathAnswer>[] {
    const answers = this.answer(model, model, requests);
    this.shadow.follow(model, requests, answers);
    return answers;
  }

  /**
   * One promise per text, answered by `model` (then its fallback chain, with `fallBack`). `report`:
   * the answers are clients' (telemetry's onAnswer sees them); shadow answers are not.
   */
  private answer(model: Model, asked: Model, requests: readonly TextRequest[], report = true): Promise<PathAnswer>[] {
    const lane = this.lanes.get(model);
    if (!lane) return requests.map(() => Promise.reject(new ModelUnavailableError(`model "${model.ref}" is not serving`)));
    const keys = requests.map((r) => lane.keyOf(r.text));
    const hits = this.cache ? this.cache.getMany(keys) : Promise.resolve(undefined);
    // Looked up together, then each text goes its own way.
    const answers = requests.map(async (request, i): Promise<PathAnswer> => {
      const found = await hits;
      const hit = found?.[i];
      if (found) this.hooks.onCacheLookup?.(hit !== undefined, request.tag);
      if (hit && !(hit.truncated && !request.truncate)) {
        const norm = hit.kind === 'embedding' ? l2Norm(hit.vector) : undefined;
        if (report) this.report(model, hit, true, model !== asked, undefined, norm);
        return { result: hit, norm, model, cached: true, fallback: model !== asked };
      }
      const { result, encoded, norm } = await this.compute(model, lane, request, keys[i]!);
      if (result.truncated && !request.truncate) throw tooLong(request, model);
      if (report) this.report(model, result, false, model !== asked, encoded, norm);
      return { result, norm, model, cached: false, fallback: model !== asked };
    });
    // Counted as the lane's until settled, so that a retiring version waits for them.
    for (const answer of answers) void this.active.track(model, answer);
    if (!report) return answers;
    return answers.map((answer, i) => answer.catch((e: unknown) => this.fallBack(model, asked, requests[i]!, e)));
  }

  /** When `model` could not answer: the next model of the chain, or the error the client gets. */
  private async fallBack(model: Model, asked: Model, request: TextRequest, error: unknown): Promise<PathAnswer> {
    if (!(error instanceof ModelCallError || error instanceof OverloadedError)) throw error;
    // The registry checked at load that every fallback exists and that no chain loops.
    const next = model.spec.fallback ? this.registry.get(model.spec.fallback) : undefined;
    if (next) {
      try {
        const answer = await this.answer(next, asked, [request])[0]!;
        this.hooks.onFallback?.(asked.name, answer.model.name, request.tag);
        return answer;
      } catch (e) {
        // The chain failed too; the client hears why the model it asked for could not answer.
        if (!(e instanceof ModelUnavailableError || e instanceof OverloadedError)) throw e;
      }
    }
    if (error instanceof OverloadedError) throw error;
    throw new ModelUnavailableError(`model "${asked.name}" cannot answer now and no fallback could: ${error.reason}`, {
      model: asked.name,
      reason: error.reason,
    });
  }

  /** The text's result from the model: computed once however many identical texts wait for it. */
  private compute(model: Model, lane: Lane, request: TextRequest, key: string): Promise<Computed> {
    const same = lane.inFlight.get(key);
    if (same) {
      this.deduplicated++;
      same.waiters.add(request.signal);
      return same.result;
    }
    // An open breaker fails at once: no point queuing for a model that will not be called.
    if (lane.guard.state === 'OPEN') return Promise.reject(new ModelCallError(model.name, 'open', 'recent calls failed'));
    const waiters = new Waiters();
    waiters.add(request.signal);
    const deadline = performance.now() + this.options.deadlineMs;
    const client = this.options.fairShare ? request.client : '';
    const encoding = this.encoding.encode(model, { text: request.text, client });
    const result = encoding.then((e: Encoding) => {
      this.hooks.onTokenize?.(model.name, e.ms, e.encoded.ids.length, request.tag);
      if (e.encoded.truncated && !request.truncate) throw tooLong(request, model);
      return lane.scheduler
        .submit({ ids: e.encoded.ids, client, signal: waiters, deadline, tag: request.tag })
        .then((row) => {
          const computed = { result: toResult(model, row, e.encoded), encoded: e.encoded, norm: row.norm };
          void this.cache?.set(key, computed.result);
          return computed;
        });
    });
    lane.inFlight.set(key, { waiters, result });
    const forget = () => lane.inFlight.delete(key);
    result.then(forget, forget);
    return result;
  }

  private report(model: Model, result: CachedResult, cached: boolean, fallback: boolean, encoded: EncodedText | undefined, norm: number | undefined): void {
    this.hooks.onAnswer?.({
      model: model.name,
      version: model.version,
      task: result.kind,
      cached,
      fallback,
      tokens: result.tokens,
      fullTokens: encoded?.fullLength,
      truncated: result.truncated,
      unknownTokens: encoded?.unknown,
      ...(result.kind === 'classification' ? { scores: result.scores } : { vectorNorm: norm }),
    });
  }
}

function tooLong(request: TextRequest, model: Model): BadInputError {
  const limit = model.spec.maxTokens;
  return new BadInputError(`${request.where} has more than ${limit} tokens, the most model "${model.name}" takes (pass truncate: true to cut it)`, {
    limit,
  });
}

/** A model's row as the cache keeps it: labelled scores (highest first), or the raw vector. */
function toResult(model: Model, row: RowOutput, encoded: EncodedText): CachedResult {
  const meta = { tokens: encoded.ids.length, truncated: encoded.truncated };
  if (model.spec.task === 'classification') {
    const scores = model.spec.labels.map((label, i) => ({ label, score: row.values[i]! }));
    scores.sort((a, b) => b.score - a.score);
    return { kind: 'classification', scores, ...meta };
  }
  return { kind: 'embedding', vector: row.values.slice(), ...meta };
}

export function l2Norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}
