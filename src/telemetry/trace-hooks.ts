// Spans for the parts of a request that OpenTelemetry's instrumentations cannot see: tokenization,
// the cross-request batch (one span per model call, linked to every request span it served) and the
// inference inside it; cache, fallback and breaker outcomes become events on the request's span.
// Texts are processed in batches of many requests, outside their request's context, so each text
// carries its request's span (requestTag) and the hooks use it explicitly. With no SDK started,
// there is no span to carry and every hook returns at once. Model reloads are root spans of their
// own, with an event per version state change (a rollout event) and per failure.
import { context, trace, type Link, type Span } from '@opentelemetry/api';
import type { CallStats, DispatchScope } from '../scheduler/model-scheduler.js';
import type { ReloadReport } from '../service/model-reloader.js';

const tracer = trace.getTracer('nlp-gateway');

/** A finished span under `parent`, from a duration measured by the core. */
function finishedSpan(parent: Span, name: string, ms: number, attributes: Record<string, string | number>): void {
  const end = Date.now();
  tracer.startSpan(name, { startTime: end - ms, attributes }, trace.setSpan(context.active(), parent)).end(end);
}

const spanOf = (tag: unknown): Span | undefined => (tag && typeof (tag as Span).spanContext === 'function' ? (tag as Span) : undefined);

export const traceHooks = {
  /** What a text carries of its request: the request's active span, if it is traced. */
  requestTag: (): unknown => trace.getActiveSpan(),

  /** Ties each model call to the requests it served. */
  onDispatch(model: string, version: string, items: readonly { tag: unknown; waitedMs: number }[]): DispatchScope | undefined {
    const links: Link[] = items.flatMap(({ tag }) => {
      const span = spanOf(tag);
      return span ? [{ context: span.spanContext() }] : [];
    });
    if (links.length === 0) return undefined;
    // A root span: a batch serves many requests, so it belongs to none of them; links tie it to each.
    const span = tracer.startSpan(`batch ${model}`, {
      root: true,
      links,
      attributes: { 'nlp.model': model, 'nlp.model.version': version, 'nlp.batch.size': items.length, 'nlp.batch.max_wait_ms': Math.max(...items.map((i) => i.waitedMs)) },
    });
    return {
      end(outcome: { call?: CallStats; error?: unknown }) {
        const { call, error } = outcome;
        if (call) {
          finishedSpan(span, 'inference', call.seconds * 1000, { 'nlp.model': model, 'nlp.batch.rows': call.rows, 'nlp.batch.padded_tokens': call.paddedTokens });
        }
        if (error) span.recordException(error as Error);
        span.setStatus({ code: error ? 2 : 1 });
        span.end();
      },
    };
  },

  onTokenize(model: string, ms: number, tokens: number, tag: unknown): void {
    const span = spanOf(tag);
    if (span) finishedSpan(span, 'tokenize', ms, { 'nlp.model': model, 'nlp.tokens': tokens });
  },

  onCacheLookup(hit: boolean, tag: unknown): void {
    spanOf(tag)?.addEvent('cache', { 'nlp.cache.result': hit ? 'hit' : 'miss' });
  },

  onFallback(model: string, fallback: string, tag: unknown): void {
    spanOf(tag)?.addEvent('fallback', { 'nlp.model': model, 'nlp.fallback': fallback });
  },

  onBreakerState(model: string, state: string): void {
    trace.getActiveSpan()?.addEvent('breaker', { 'nlp.model': model, 'nlp.breaker.state': state });
  },

  /** A reload pass: a root span, ended with what it did. */
  onReloadPass(trigger: string): { end(report: ReloadReport): void } {
    const span = tracer.startSpan('models reload', { root: true, attributes: { 'nlp.reload.trigger': trigger } });
    reloadSpan = span;
    return {
      end(report) {
        span.setAttributes({
          'nlp.reload.applied': report.applied.join(','),
          'nlp.reload.failed': report.failed.map((f) => f.model).join(','),
          'nlp.reload.loaded': report.loaded.join(','),
          'nlp.reload.retired': report.retired.join(','),
        });
        span.setStatus({ code: report.failed.length > 0 ? 2 : 1 });
        span.end();
        if (reloadSpan === span) reloadSpan = undefined;
      },
    };
  },

  /** A version changed state (loaded into a rollout, promoted, drained, retired) or failed to load. */
  onModelEvent(name: 'model.state' | 'model.failed', attributes: Record<string, string | number>): void {
    if (reloadSpan) return void reloadSpan.addEvent(name, attributes);
    // After the pass (a drained version retiring): a span of its own.
    const span = tracer.startSpan(name, { root: true, attributes });
    span.end();
  },
};

/** The reload pass in progress, whose span collects model events. */
let reloadSpan: Span | undefined;
