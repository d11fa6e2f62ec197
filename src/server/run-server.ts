// Runs the gateway as a process: configuration, signals, start-up, and the exit code and one JSON log
// line for every way start-up can fail. Expected failures (configuration, model repository, address in
// use) are logged as facts without a stack; only unexpected ones carry their stack.
//
// The gateway owns SIGTERM and SIGINT from the first moment (Apollo is told to leave them alone), so
// that the same drain runs whatever NODE_ENV says, and so that a signal during start-up is not lost:
// as PID 1 in a container, a signal without a handler is ignored. A second signal ends the process
// at once. SIGHUP reloads the model repository (docs/models.md); one that comes during start-up is
// kept for when the models are ready (without a handler, SIGHUP would end the process).
import { ExitCode } from '../cli/exit-codes.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { ModelLoadError } from '../errors/errors.js';
import { createLogger, flushLogs, type Logger } from '../telemetry/logger.js';
import { stopTracing } from '../telemetry/tracing.js';
import { ListenError, startGateway, type Gateway } from './gateway.js';

async function exit(log: Logger, code: ExitCode): Promise<never> {
  await flushLogs(log);
  process.exit(code);
}

/** Starts the gateway from `env`; returns once it is ready (the process then lives until a signal). */
export async function runServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const log = createLogger('info');
    log.fatal({ problems: e.problems }, e.message);
    return exit(log, ExitCode.USAGE);
  }

  const log = createLogger(config.LOG_LEVEL);
  // Node's own process warnings (deprecations, listener counts) become JSON log lines, not plain text on stderr.
  process.removeAllListeners('warning');
  process.on('warning', (w) => log.warn({ warning: w.name, detail: w.message }, 'node process warning'));

  let starting: Promise<Gateway> | undefined;
  /** Set once the gateway listens: before that there is nothing to drain. */
  let listening: Gateway | undefined;
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown; exiting now');
        return void exit(log, ExitCode.FAILURE);
      }
      stopping = true;
      log.info({ signal }, 'shutdown requested');
      // Not listening yet (reading the model folders, which may hang on a slow volume): no request
      // can be in flight and no model is loaded, so there is nothing to drain.
      if (!listening) return void exit(log, ExitCode.OK);
      listening.shutdown(stopTracing).then(
        () => exit(log, ExitCode.OK),
        (e: unknown) => {
          log.error({ err: e }, 'shutdown failed');
          return exit(log, ExitCode.FAILURE);
        },
      );
    });
  }

  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info({ signal: 'SIGHUP' }, 'model reload requested');
    void starting?.then((gateway) => gateway.reload('signal')).catch(() => undefined);
  });

  try {
    starting = startGateway(config, log);
    const gateway = (listening = await starting);
    // Models that cannot load stop the process, unless a shutdown has begun (it ends loading itself).
    await gateway.ready.catch((e: unknown) => {
      if (!stopping) throw e;
    });
  } catch (e) {
    if (e instanceof ModelLoadError) {
      log.fatal({ error: e.message, folder: e.folder }, 'start-up failed');
      return exit(log, ExitCode.MODELS_INVALID);
    }
    if (e instanceof ListenError) {
      log.fatal({ error: e.message, host: e.host, port: e.port, code: e.code }, 'start-up failed');
      return exit(log, ExitCode.CANNOT_LISTEN);
    }
    log.fatal({ err: e }, 'start-up failed');
    return exit(log, ExitCode.FAILURE);
  }
}
