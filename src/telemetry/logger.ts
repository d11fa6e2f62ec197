// Structured JSON logs. Callers log lengths, hashes and names, never input text.
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Logs go to stdout through an asynchronous buffer written when it holds 8 KiB or every 250 ms,
 * whichever comes first: one write for dozens of request lines instead of one each (a write per line
 * was about a tenth of the event loop's time under load); flushLogs() before exiting.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: 'nlp-gateway' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: false, minLength: 8192, periodicFlush: 250 }),
  );
}

export function flushLogs(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
