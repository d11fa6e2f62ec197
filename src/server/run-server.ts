// Runs the gateway as a process: configuration, start-up, signals, and the exit code and one JSON log
// line for every way start-up can fail. Expected failures (configuration, model repository, address in
// use) are logged as facts without a stack; only unexpected ones carry their stack.
import { ExitCode } from '../cli/exit-codes.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { ModelLoadError } from '../errors/errors.js';
import { createLogger, flushLogs, type Logger } from '../telemetry/logger.js';
import { stopTracing } from '../telemetry/tracing.js';
import { ListenError, startGateway } from './gateway.js';

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
  try {
    const gateway = await startGateway(config, log);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        log.info({ signal }, 'shutdown requested');
        gateway.shutdown().then(
          () => stopTracing().then(() => exit(log, ExitCode.OK)),
          (e) => {
            log.error({ err: e }, 'shutdown failed');
            return exit(log, ExitCode.FAILURE);
          },
        );
      });
    }
    await gateway.ready;
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
