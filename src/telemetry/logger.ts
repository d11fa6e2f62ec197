// Structured JSON logs. Callers log lengths, hashes and names, never input text.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'nlp-gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
}
