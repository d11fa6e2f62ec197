// Preloaded with `node --import ./dist/instrumentation.js dist/main.js`: starts OpenTelemetry (when
// OTEL_EXPORTER_OTLP_ENDPOINT is set) before the gateway imports http and graphql. main.ts flushes it
// on shutdown.
import { startTracing } from './telemetry/tracing.js';

startTracing();
