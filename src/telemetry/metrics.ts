// Prometheus metrics: one registry, prefix nlp_, bounded labels (model names come from the model
// repository, never from requests). Reads the core's counters and hooks; the core does not import this.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnswerEvent, InferencePath } from '../resilience/inference-path.js';
import type { CallStats, SchedulerStats } from '../scheduler/model-scheduler.js';
import type { BreakerStateName } from '../resilience/model-guard.js';
import type { RequestMetrics } from './apollo-metrics-plugin.js';
import { polledGauge } from './polled-gauge.js';
import { collectProcessMetrics } from './process-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly request: RequestMetrics;
  private readonly batchSize: Histogram<'model'>;
  private readonly queueWait: Histogram<'model'>;
  private readonly tokenize: Histogram<'model'>;
  private readonly inference: Histogram<'model'>;
  private readonly inputTokens: Histogram<'model'>;
  private readonly truncated: Counter<'model'>;
  private readonly calls: Counter<'model'>;
  private readonly cacheRequests: Counter<'tier' | 'result'>;
  private readonly circuit: Gauge<'model'>;
  private readonly fallbacks: Counter<'model' | 'fallback'>;
  private readonly rateLimit: Counter<'store' | 'result'>;
  private readonly restarts: Counter<'model' | 'reason'>;
  private redisUp: (() => number | undefined) | undefined;
  private rateLimitRedisUp: (() => number) | undefined;
  private path: InferencePath | undefined;

  constructor() {
    const registers = [this.registry];
    collectProcessMetrics(this.registry);
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers });

    this.request = {
      requests: counter('nlp_requests_total', 'GraphQL operations (top-level fields) served', ['model', 'operation', 'status']),
      errors: counter('nlp_errors_total', 'Errors returned, by operation and public error code', ['operation', 'code']),
      duration: histogram('nlp_request_duration_seconds', 'Time to resolve one operation', ['model', 'operation'], LATENCY_BUCKETS),
    };
    this.batchSize = histogram('nlp_batch_size', 'Texts per model call', ['model'], [1, 2, 4, 8, 16, 32, 64, 128]);
    this.queueWait = histogram('nlp_queue_duration_seconds', 'Time a text waited in the batch queue', ['model'], STAGE_BUCKETS);
    this.tokenize = histogram('nlp_tokenize_duration_seconds', 'Time to tokenize one text', ['model'], STAGE_BUCKETS);
    this.inference = histogram('nlp_inference_duration_seconds', 'Time one model call computed (measured where it ran: no queueing or hand-off)', ['model'], STAGE_BUCKETS);
    this.inputTokens = histogram('nlp_input_tokens', 'Tokens the model read per text', ['model'], [8, 16, 32, 64, 128, 256, 512, 1024]);
    this.truncated = counter('nlp_truncated_total', 'Texts cut to the model maxTokens', ['model']);
    this.calls = counter('nlp_model_calls_total', 'Model calls (padded sub-batches) made', ['model']);
    this.cacheRequests = counter('nlp_cache_requests_total', 'Result cache lookups by tier (memory, redis) and result (hit, miss, error, corrupt, skipped)', ['tier', 'result']);
    this.circuit = new Gauge({ name: 'nlp_circuit_state', help: 'Circuit breaker state per model: 0 closed, 1 half-open, 2 open', labelNames: ['model'], registers });
    this.fallbacks = counter('nlp_fallback_total', 'Texts answered by a fallback model because the requested model could not answer', ['model', 'fallback']);
    this.rateLimit = counter(
      'nlp_ratelimit_decisions_total',
      'Rate-limit decisions by where the bucket was (redis: shared; local: this process, also while Redis is down) and result (allowed, limited)',
      ['store', 'result'],
    );
    polledGauge(this.registry, 'nlp_ratelimit_redis_up', 'Shared rate-limit buckets reachable: 1 connected, 0 down (absent without Redis or rate limits)', [], (set) => {
      const up = this.rateLimitRedisUp?.();
      if (up !== undefined) set({}, up);
    });

    this.restarts = counter('nlp_worker_restarts_total', 'Inference workers replaced, by reason (died, timeout: overran MODEL_TIMEOUT_MS)', ['model', 'reason']);

    polledGauge(this.registry, 'nlp_queue_depth', 'Texts waiting or computing, per model (all its versions)', ['model'], (set) => {
      const depth = new Map<string, number>();
      for (const { model, scheduler } of this.path?.schedulers() ?? []) depth.set(model, (depth.get(model) ?? 0) + scheduler.depth);
      for (const [model, n] of depth) set({ model }, n);
    });
    polledGauge(this.registry, 'nlp_cache_redis_up', 'Shared cache tier reachable: 1 connected, 0 down (absent without Redis)', [], (set) => {
      const up = this.redisUp?.();
      if (up !== undefined) set({}, up);
    });
    polledGauge(
      this.registry,
      'nlp_call_cost_seconds',
      "A model call's learnt cost that decides how batches are cut (its serving version): part=fixed (per call) and per_token (per padded token)",
      ['model', 'part'],
      (set) => {
        for (const { model, serving, scheduler } of this.path?.schedulers() ?? []) {
          if (!serving) continue;
          const fit = scheduler.cost.estimate;
          if (!fit) continue;
          set({ model, part: 'fixed' }, fit.fixedMs / 1000);
          set({ model, part: 'per_token' }, fit.perTokenMs / 1000);
        }
      },
    );
    // Counters kept by the schedulers and the path, read at scrape time: every version's lane, the
    // retired ones included, so that a model's totals never go back when a reload swaps a version.
    const path = () => this.path;
    const total = (name: string, help: string, read: (s: SchedulerStats) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['model'],
        registers,
        collect() {
          this.reset();
          const sums = new Map<string, number>();
          for (const [model, stats] of path()?.retiredCounters() ?? []) sums.set(model, read(stats));
          for (const { model, scheduler } of path()?.schedulers() ?? []) sums.set(model, (sums.get(model) ?? 0) + read(scheduler.stats));
          for (const [model, n] of sums) this.inc({ model }, n);
        },
      });
    total('nlp_batched_items_total', 'Texts sent to models by their schedulers', (s) => s.items);
    total('nlp_abandoned_total', 'Texts dropped before computing because their clients went away', (s) => s.abandoned);
    total('nlp_overloaded_total', "Texts refused by a model's full queue (a fallback may then have answered them)", (s) => s.rejected);
    total('nlp_deadline_exceeded_total', 'Texts that waited past INFERENCE_DEADLINE_MS for their model (a fallback may then have answered them)', (s) => s.expired);
    const deduplicated = () => this.path?.deduplicated ?? 0;
    new Counter({
      name: 'nlp_deduplicated_total',
      help: 'Texts answered by an identical text already in flight',
      registers,
      collect() {
        this.reset();
        this.inc(deduplicated());
      },
    });
  }

  /** Per-model queue depth, counters and call cost are read from the path's schedulers. */
  watchPath(path: InferencePath): void {
    this.path = path;
  }

  readonly observeRestart = (model: string, reason: string): void => {
    this.restarts.inc({ model, reason });
  };

  /** Every model starts with a closed breaker, so the gauge exists before anything fails. */
  initModels(models: readonly string[]): void {
    for (const model of models) {
      this.circuit.set({ model }, 0);
      this.truncated.inc({ model }, 0);
      for (const reason of ['died', 'timeout']) this.restarts.inc({ model, reason }, 0);
    }
  }

  /** Where the Redis gauge reads from: 1 up, 0 down, undefined when there is no Redis tier. */
  watchRedis(read: () => number | undefined): void {
    this.redisUp = read;
  }

  /** Where the rate-limit Redis gauge reads from. */
  watchRateLimitRedis(read: () => number): void {
    this.rateLimitRedisUp = read;
  }

  readonly observeRateLimit = (store: 'redis' | 'local', allowed: boolean): void => {
    this.rateLimit.inc({ store, result: allowed ? 'allowed' : 'limited' });
  };

  /** A request refused before GraphQL ran (auth, body, document limits): an error of no operation. */
  readonly observeRefused = (code: string): void => {
    this.request.errors.inc({ operation: 'none', code });
  };

  readonly observeCacheLookup = (tier: string, result: string): void => {
    this.cacheRequests.inc({ tier, result });
  };

  readonly observeBreaker = (model: string, state: BreakerStateName): void => {
    this.circuit.set({ model }, state === 'CLOSED' ? 0 : state === 'HALF_OPEN' ? 1 : 2);
  };

  readonly observeFallback = (model: string, fallback: string): void => {
    this.fallbacks.inc({ model, fallback });
  };

  readonly observeTokenize = (model: string, ms: number): void => {
    this.tokenize.observe({ model }, ms / 1000);
  };

  readonly observeQueueWait = (model: string, ms: number): void => {
    this.queueWait.observe({ model }, ms / 1000);
  };

  readonly observeAnswer = (event: AnswerEvent): void => {
    if (event.cached) return;
    this.inputTokens.observe({ model: event.model }, event.tokens);
    if (event.truncated) this.truncated.inc({ model: event.model });
  };

  /** One model call finished. */
  readonly observeCall = (model: string, call: CallStats): void => {
    this.batchSize.observe({ model }, call.rows);
    this.inference.observe({ model }, call.seconds);
    this.calls.inc({ model });
  };
}
