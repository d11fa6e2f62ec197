// Everything the gateway reports, in one place: Prometheus metrics, drift gauges, trace spans and
// request logs, offered to the core as hooks. The core runs the same without any of them.
import type { ApolloServerPlugin } from '@apollo/server';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { AnswerEvent, PathHooks } from '../resilience/inference-path.js';
import type { ShadowEvent } from '../resilience/shadow-traffic.js';
import type { ReloadHooks } from '../service/model-reloader.js';
import type { BreakerStateName } from '../resilience/model-guard.js';
import type { SchedulerObserver } from '../scheduler/model-scheduler.js';
import { metricsPlugin } from './apollo-metrics-plugin.js';
import { DriftMonitor } from './drift.js';
import type { Logger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { ModelVersionMetrics } from './model-versions.js';
import { requestLogPlugin } from './request-log-plugin.js';
import { ShadowAgreement } from './shadow-agreement.js';
import { traceHooks } from './trace-hooks.js';

export class Telemetry {
  readonly metrics = new GatewayMetrics();
  private drift: DriftMonitor | undefined;
  private readonly shadow: ShadowAgreement;
  private versions: ModelVersionMetrics | undefined;

  constructor(
    private readonly log: Logger,
    private readonly driftWindow: number,
  ) {
    this.shadow = new ShadowAgreement(this.metrics.registry, driftWindow);
  }

  /** How a model's scheduler is watched: queue waits and calls as metrics, batches as spans. */
  private schedulerObserver(model: string, version: string): SchedulerObserver {
    return {
      onDispatch: (items) => {
        for (const item of items) this.metrics.observeQueueWait(model, item.waitedMs);
        return traceHooks.onDispatch(model, version, items);
      },
      onCall: (call) => this.metrics.observeCall(model, call),
    };
  }

  /** What each text carries of its request, for the hooks below (its trace span). */
  readonly requestTag = traceHooks.requestTag;

  readonly pathHooks: PathHooks = {
    onTokenize: (model, ms, tokens, tag) => {
      this.metrics.observeTokenize(model, ms);
      traceHooks.onTokenize(model, ms, tokens, tag);
    },
    onCacheLookup: traceHooks.onCacheLookup,
    onAnswer: (event: AnswerEvent) => {
      this.metrics.observeAnswer(event);
      this.versions?.observeAnswer(event.model, event.version);
      this.drift?.observe(event);
    },
    onShadow: (event: ShadowEvent) => this.shadow.observe(event),
    onFallback: (model, fallback, tag) => {
      this.metrics.observeFallback(model, fallback);
      traceHooks.onFallback(model, fallback, tag);
    },
    onBreakerState: (model, state: BreakerStateName) => {
      this.metrics.observeBreaker(model, state);
      traceHooks.onBreakerState(model, state);
      this.log[state === 'CLOSED' ? 'info' : 'warn']({ model, breaker: state }, 'circuit breaker state changed');
    },
    scheduler: (model, version) => this.schedulerObserver(model, version),
  };

  /** A request answered before GraphQL ran: logged like any request (debug when its client went away), counted by code. */
  readonly onRefused = (request: { requestId: string; status: number; code: string; key?: string; ms: number }): void => {
    this.metrics.observeRefused(request.code);
    this.log[request.status === 499 ? 'debug' : 'info'](
      { requestId: request.requestId, key: request.key, status: request.status, errors: [request.code], ms: Math.round(request.ms * 10) / 10 },
      'graphql request refused',
    );
  };

  /** Hook for a model's worker pool: a worker was replaced. */
  onWorkerRestart(model: string): (reason: 'died' | 'timeout') => void {
    return (reason) => this.metrics.observeRestart(model, reason);
  }

  apolloPlugins(isModel: (name: string) => boolean): ApolloServerPlugin<any>[] {
    return [metricsPlugin(this.metrics.request, isModel), requestLogPlugin(this.log)];
  }

  /** Once models are loaded: drift gauges against each serving version's baseline, and every version's state. */
  watchModels(registry: ModelRegistry): void {
    this.drift = new DriftMonitor(this.metrics.registry, driftModels(registry), { window: this.driftWindow });
    this.versions = new ModelVersionMetrics(
      this.metrics.registry,
      () => registry.namesWithProblems().flatMap((name) => registry.versionsOf(name)),
      () => registry.namesWithProblems().filter((name) => registry.problemOf(name) !== undefined),
    );
  }

  /** What a model reload reports: logs, metrics, trace events; after each, drift follows the serving versions. */
  reloadHooks(registry: ModelRegistry): ReloadHooks {
    return {
      log: (level, msg, fields) => this.log[level](fields, msg),
      onResult: (model, result, problem) => {
        this.versions?.observeReload(model, result);
        if (problem) traceHooks.onModelEvent('model.failed', { 'nlp.model': model, 'nlp.reload.problem': registry.publicProblem(problem) });
        this.drift?.follow(driftModels(registry));
        if (!registry.routesOf(model)?.shadow) this.shadow.forget(model);
      },
      onStateChange: (change) => {
        this.log.info({ ...change }, 'model version state changed');
        traceHooks.onModelEvent('model.state', {
          'nlp.model': change.model,
          'nlp.model.version': change.version,
          'nlp.model.state.from': change.from,
          'nlp.model.state.to': change.to,
          'nlp.model.share': change.share,
          'nlp.model.shadow_sample': change.sample,
        });
      },
      onPass: (trigger) => traceHooks.onReloadPass(trigger),
    };
  }
}

function driftModels(registry: ModelRegistry) {
  return registry.list().map((m) => ({
    name: m.name,
    version: m.version,
    task: m.spec.task,
    labels: m.spec.task === 'classification' ? m.spec.labels : undefined,
    maxTokens: m.spec.maxTokens,
    baseline: m.spec.baseline,
  }));
}
