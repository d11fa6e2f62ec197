// Prometheus metrics: one registry, prefix nlp_, bounded labels (model names come from the model
// repository, never from requests). Reads the core's counters and hooks; the core does not import this.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Batcher } from '../batching/batcher.js';
import type { ModelCall } from '../inference/model.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly batchSize: Histogram<'model'>;
  private readonly inference: Histogram<'model'>;
  private readonly calls: Counter<'model'>;
  private readonly cacheRequests: Counter<'tier' | 'result'>;
  private readonly circuit: Gauge<'model'>;
  private readonly fallbacks: Counter<'model' | 'fallback'>;

  constructor(batcher: Batcher) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nlp_' });
    this.batchSize = new Histogram({
      name: 'nlp_batch_size',
      help: 'Texts per model call',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [this.registry],
    });
    this.inference = new Histogram({
      name: 'nlp_inference_duration_seconds',
      help: 'Wall time of one model call, hand-off to the worker included',
      labelNames: ['model'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.calls = new Counter({
      name: 'nlp_model_calls_total',
      help: 'Model calls (padded sub-batches) made',
      labelNames: ['model'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'nlp_queue_depth',
      help: 'Texts waiting or computing, per model',
      labelNames: ['model'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [model, depth] of Object.entries(batcher.depths())) this.set({ model }, depth);
      },
    });
    this.cacheRequests = new Counter({
      name: 'nlp_cache_requests_total',
      help: 'Result cache lookups by tier (memory, redis) and result (hit, miss, error, corrupt)',
      labelNames: ['tier', 'result'],
      registers: [this.registry],
    });
    this.circuit = new Gauge({
      name: 'nlp_circuit_state',
      help: 'Circuit breaker state per model: 0 closed, 1 half-open, 2 open',
      labelNames: ['model'],
      registers: [this.registry],
    });
    this.fallbacks = new Counter({
      name: 'nlp_fallback_total',
      help: 'Texts answered by a fallback model because the requested model could not answer',
      labelNames: ['model', 'fallback'],
      registers: [this.registry],
    });
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter('nlp_batched_items_total', 'Texts sent to models through the batcher', () => batcher.stats.items);
    counter('nlp_deduplicated_total', 'Texts answered by an identical text already in flight', () => batcher.stats.deduplicated);
    counter('nlp_abandoned_total', 'Texts dropped before computing because their clients went away', () => batcher.stats.abandoned);
    counter('nlp_overloaded_total', 'Texts refused with OVERLOADED because the queue was full', () => batcher.stats.rejected);
  }

  readonly observeCacheLookup = (tier: string, result: string): void => {
    this.cacheRequests.inc({ tier, result });
  };

  readonly observeBreaker = (model: string, state: 'CLOSED' | 'OPEN' | 'HALF_OPEN'): void => {
    this.circuit.set({ model }, state === 'CLOSED' ? 0 : state === 'HALF_OPEN' ? 1 : 2);
  };

  readonly observeFallback = (model: string, fallback: string): void => {
    this.fallbacks.inc({ model, fallback });
  };

  /** Every model starts with a closed breaker, so the gauge exists before anything fails. */
  initModels(models: readonly string[]): void {
    for (const model of models) this.circuit.set({ model }, 0);
  }

  /** Hook for Model.onCall. */
  readonly observeCall = (call: ModelCall): void => {
    this.batchSize.observe({ model: call.model }, call.rows);
    this.inference.observe({ model: call.model }, call.seconds);
    this.calls.inc({ model: call.model });
  };
}
