// Spans for the parts of a request that OpenTelemetry's instrumentations cannot see: tokenization,
// the cross-request batch (one span per model call, linked to every request span it served) and the
// inference inside it; cache and breaker outcomes become events on the request's span. With no SDK
// started, every call here is a cheap no-op.
import { context, trace, type Link, type SpanContext } from '@opentelemetry/api';
import type { BatchObserver } from '../batching/batcher.js';
import type { ModelCall } from '../inference/model.js';

const tracer = trace.getTracer('nlp-gateway');

/** Creates an already-finished span under the active span, from a duration measured by the core. */
function finishedSpan(name: string, ms: number, attributes: Record<string, string | number>): void {
  const end = Date.now();
  tracer.startSpan(name, { startTime: end - ms, attributes }).end(end);
}

export const traceHooks = {
  batchObserver: {
    onEnqueue: () => trace.getActiveSpan()?.spanContext(),
    onDispatch(lane, items) {
      const links: Link[] = items.flatMap(({ tag }) => (tag ? [{ context: tag as SpanContext }] : []));
      // A root span: a batch serves many requests, so it belongs to none of them; links tie it to each.
      const span = tracer.startSpan(`batch ${lane}`, {
        root: true,
        links,
        attributes: { 'nlp.model': lane, 'nlp.batch.size': items.length, 'nlp.batch.max_wait_ms': Math.max(...items.map((i) => i.waitedMs)) },
      });
      return {
        run: <T>(fn: () => T): T => context.with(trace.setSpan(context.active(), span), fn),
        end(error?: unknown) {
          if (error) span.recordException(error as Error);
          span.setStatus({ code: error ? 2 : 1 });
          span.end();
        },
      };
    },
  } satisfies BatchObserver,

  onTokenize(model: string, ms: number, tokens: number): void {
    finishedSpan('tokenize', ms, { 'nlp.model': model, 'nlp.tokens': tokens });
  },

  onModelCall(call: ModelCall): void {
    finishedSpan('inference', call.seconds * 1000, { 'nlp.model': call.model, 'nlp.batch.rows': call.rows, 'nlp.batch.padded_tokens': call.paddedTokens });
  },

  onCacheLookup(tier: string, result: string): void {
    trace.getActiveSpan()?.addEvent('cache', { 'nlp.cache.tier': tier, 'nlp.cache.result': result });
  },

  onFallback(model: string, fallback: string): void {
    trace.getActiveSpan()?.addEvent('fallback', { 'nlp.model': model, 'nlp.fallback': fallback });
  },

  onBreakerState(model: string, state: string): void {
    trace.getActiveSpan()?.addEvent('breaker', { 'nlp.model': model, 'nlp.breaker.state': state });
  },
};
