// Entry point: configuration, signal handling, then the gateway.
//
// The gateway owns SIGTERM and SIGINT from the first line on (Apollo is told to leave them alone), so
// that the same drain runs whatever NODE_ENV says, and so that a signal during start-up is not lost:
// as PID 1 in a container, a signal without a handler is ignored. A second signal ends the process
// at once.
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config.js';
import { startGateway, type Gateway } from './server/gateway.js';
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
let starting: Promise<Gateway> | undefined;
let stopping = false;

const exit = (code: number) => flushLogs(log).then(() => process.exit(code));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      log.warn({ signal }, 'second signal during shutdown; exiting now');
      void exit(1);
      return;
    }
    stopping = true;
    log.info({ signal }, 'shutdown requested');
    if (!starting) return void exit(0);
    // A gateway that failed to start exits through the catch below.
    starting.then(
      (gateway) =>
        gateway.shutdown(stopTracing).then(
          () => exit(0),
          (e: unknown) => {
            log.error({ err: e }, 'shutdown failed');
            return exit(1);
          },
        ),
      () => undefined,
    );
  });
}

const failed = async (e: unknown) => {
  log.fatal({ err: e }, 'start-up failed');
  await exit(1);
};

starting = startGateway(config, log);
// Models that cannot load stop the process, unless a shutdown has begun (it ends loading itself).
await starting.then(
  (gateway) => gateway.ready.catch((e: unknown) => (stopping ? undefined : failed(e))),
  failed,
);
