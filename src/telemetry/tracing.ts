// OpenTelemetry set-up: configured only by the standard OTEL_* variables, off unless an OTLP endpoint
// is set. Loaded with `node --import ./dist/instrumentation.js` so that http and graphql are patched
// before anything imports them.
import type { Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { maskPii, stripQuery } from './pii.js';

/** Attributes that are a query string: dropped whole (GET /graphql carries the texts there). */
const QUERY_ATTRIBUTES = new Set(['url.query', 'http.query']);
/** Attributes that are a URL or path that may end in a query string. */
const URL_ATTRIBUTES = new Set(['url.full', 'http.url', 'http.target', 'url.original']);
/** Attributes that may quote what a client sent (documents, error messages). */
const FREE_TEXT = /^(graphql\.source|exception\.message|db\.statement)$/;

function redact(attributes: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') continue;
    if (QUERY_ATTRIBUTES.has(key)) attributes[key] = '[redacted]';
    else if (URL_ATTRIBUTES.has(key)) attributes[key] = maskPii(stripQuery(value));
    else if (FREE_TEXT.test(key)) attributes[key] = maskPii(value);
  }
}

/** Masks what libraries put in spans before the spans are exported. */
class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    redact(span.attributes as Record<string, unknown>);
    for (const event of span.events) if (event.attributes) redact(event.attributes as Record<string, unknown>);
    this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let active: NodeSDK | undefined;

/** Flushes and stops tracing, if it was started; call before the process exits. */
export async function stopTracing(): Promise<void> {
  await active?.shutdown().catch(() => undefined);
  active = undefined;
}

export function startTracing(): NodeSDK | undefined {
  if (!tracingEnabled()) return undefined;
  const sdk = (active = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'nlp-gateway',
    spanProcessors: [new RedactingSpanProcessor(new BatchSpanProcessor(new OTLPTraceExporter()))],
    instrumentations: [
      new HttpInstrumentation({
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url === '/healthz' || req.url === '/readyz',
      }),
      // allowValues false: literal values in the query document are replaced by "*", so a text
      // written inline in a query never reaches a span.
      new GraphQLInstrumentation({ allowValues: false, mergeItems: true, ignoreTrivialResolveSpans: true, depth: 2 }),
    ],
  }));
  sdk.start();
  return sdk;
}
