// Entry point: configuration, then the gateway, then signal handling.
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config.js';
import { startGateway } from './server/gateway.js';
import { createLogger, flushLogs } from './telemetry/logger.js';
import { stopTracing } from './telemetry/tracing.js';

let config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(2);
}

const log = createLogger(config.LOG_LEVEL);
// Node's own process warnings (deprecations, listener counts) become JSON log lines, not plain text on stderr.
process.removeAllListeners('warning');
process.on('warning', (w) => log.warn({ warning: w.name, detail: w.message }, 'node process warning'));
try {
  const gateway = await startGateway(config, log);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutdown requested');
      gateway.shutdown().then(
        () => stopTracing().then(() => flushLogs(log)).then(() => process.exit(0)),
        (e) => {
          log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  await gateway.ready;
} catch (e) {
  log.fatal({ err: e }, 'start-up failed');
  await flushLogs(log);
  process.exit(1);
}
