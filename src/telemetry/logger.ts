// Structured JSON logs. Callers log lengths, hashes and names, never input text.
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Logs go to stdout through an asynchronous buffer, so that a log line per request does not block
 * the event loop; flushLogs() before exiting.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: 'nlp-gateway' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: false, minLength: 0 }),
  );
}

export function flushLogs(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
