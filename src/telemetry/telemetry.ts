// Everything the gateway reports, in one place: Prometheus metrics, drift gauges, trace spans and
// request logs, offered to the core as hooks. The core runs the same without any of them.
import type { ApolloServerPlugin } from '@apollo/server';
import type { BatchObserver, Batcher } from '../batching/batcher.js';
import type { Model, ModelCall } from '../inference/model.js';
import type { AnswerEvent, PathHooks } from '../resilience/inference-path.js';
import type { BreakerStateName } from '../resilience/model-guard.js';
import { metricsPlugin } from './apollo-metrics-plugin.js';
import { DriftMonitor } from './drift.js';
import type { Logger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { requestLogPlugin } from './request-log-plugin.js';
import { traceHooks } from './trace-hooks.js';

export class Telemetry {
  readonly metrics: GatewayMetrics;
  private drift: DriftMonitor | undefined;

  constructor(
    batcher: Batcher,
    private readonly log: Logger,
    private readonly driftWindow: number,
  ) {
    this.metrics = new GatewayMetrics(batcher);
  }

  readonly batchObserver: BatchObserver = {
    onEnqueue: () => traceHooks.batchObserver.onEnqueue(),
    onDispatch: (lane, items) => {
      for (const item of items) this.metrics.observeQueueWait(lane, item.waitedMs);
      return traceHooks.batchObserver.onDispatch(lane, items);
    },
  };

  readonly pathHooks: PathHooks = {
    onTokenize: (model, ms, tokens) => {
      this.metrics.observeTokenize(model, ms);
      traceHooks.onTokenize(model, ms, tokens);
    },
    onAnswer: (event: AnswerEvent) => {
      this.metrics.observeAnswer(event);
      this.drift?.observe(event);
    },
    onFallback: (model, fallback) => {
      this.metrics.observeFallback(model, fallback);
      traceHooks.onFallback(model, fallback);
    },
    onBreakerState: (model, state: BreakerStateName) => {
      this.metrics.observeBreaker(model, state);
      traceHooks.onBreakerState(model, state);
      this.log[state === 'CLOSED' ? 'info' : 'warn']({ model, breaker: state }, 'circuit breaker state changed');
    },
  };

  /** A request answered before GraphQL ran: logged like any request (debug when its client went away), counted by code. */
  readonly onRefused = (request: { requestId: string; status: number; code: string; key?: string; ms: number }): void => {
    this.metrics.observeRefused(request.code);
    this.log[request.status === 499 ? 'debug' : 'info'](
      { requestId: request.requestId, key: request.key, status: request.status, errors: [request.code], ms: Math.round(request.ms * 10) / 10 },
      'graphql request refused',
    );
  };

  readonly onCacheLookup = (tier: string, result: string): void => {
    this.metrics.observeCacheLookup(tier, result);
    traceHooks.onCacheLookup(tier, result);
  };

  readonly onModelCall = (call: ModelCall): void => {
    this.metrics.observeCall(call);
    traceHooks.onModelCall(call);
  };

  apolloPlugins(isModel: (name: string) => boolean): ApolloServerPlugin<any>[] {
    return [metricsPlugin(this.metrics.request, isModel), requestLogPlugin(this.log)];
  }

  /** Once models are loaded: drift gauges against each model's baseline, and per-call hooks. */
  watchModels(models: readonly Model[]): void {
    this.drift = new DriftMonitor(
      this.metrics.registry,
      models.map((m) => ({
        name: m.name,
        task: m.spec.task,
        labels: m.spec.task === 'classification' ? m.spec.labels : undefined,
        maxTokens: m.spec.maxTokens,
        baseline: m.spec.baseline,
      })),
      { window: this.driftWindow },
    );
    for (const model of models) model.onCall = this.onModelCall;
    this.metrics.watchCallCosts(() =>
      models.flatMap((m) => {
        const e = m.cost.estimate;
        return e ? [{ model: m.name, ...e }] : [];
      }),
    );
  }
}
