// Structured JSON logs. Callers log lengths, hashes and names, never input text.
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Logs go to stdout through an asynchronous buffer. Lines logged in one turn of the event loop are
 * written together when the turn ends (a write per request line cost about a twentieth of the event
 * loop under load), so they still reach stdout at once; flushLogs() before exiting.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  const write = destination.write.bind(destination);
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    destination.flush();
  };
  destination.write = (line: string) => {
    const written = write(line);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
    return written;
  };
  return pino({ level, base: { service: 'nlp-gateway' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export function flushLogs(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
