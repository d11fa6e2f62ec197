// When the gateway asks a client to come back: `extensions.retryAfterMs` on the error (milliseconds),
// else the HTTP `Retry-After` header (seconds). Either may be absent.
import type { GraphQLErrorBody } from './errors.js';

export function retryHintMs(error: GraphQLErrorBody | undefined, retryAfterHeader: string | null): number | undefined {
  const fromError = error?.extensions?.retryAfterMs;
  if (typeof fromError === 'number' && Number.isFinite(fromError) && fromError >= 0) return fromError;
  if (retryAfterHeader !== null && /^\s*\d+(\.\d+)?\s*$/.test(retryAfterHeader)) return Number(retryAfterHeader) * 1000;
  return undefined;
}
