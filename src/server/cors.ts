// CORS for /graphql: which other sites' pages may call the gateway from a browser. Origins come from
// CORS_ORIGINS (none by default: browsers on other origins are refused). Credentials are headers
// (Authorization, x-api-key), never cookies, so Access-Control-Allow-Credentials is never sent.
// CSRF prevention stays Apollo's: simple (preflight-free) requests are refused unless they carry a
// header only a preflighted request can.
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = ['GET', 'POST', 'OPTIONS'];
const ALLOWED_METHODS_HEADER = ALLOWED_METHODS.join(', ');
/** Request headers a browser may send: what clients of this API need, nothing else. */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'traceparent',
  'tracestate',
];
const ALLOWED_HEADERS_HEADER = ALLOWED_HEADERS.join(', ');
/** Response headers scripts may read. */
const EXPOSED_HEADERS = 'retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-request-id';

export type PreflightOutcome = 'allowed' | 'origin' | 'method' | 'headers';

export class Cors {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(
    origins: readonly string[],
    private readonly maxAgeSeconds: number,
  ) {
    this.any = origins.includes('*');
    this.origins = new Set(origins.map((o) => o.toLowerCase()));
  }

  private allowed(origin: string | undefined): origin is string {
    return origin !== undefined && (this.any || this.origins.has(origin.toLowerCase()));
  }

  /** Headers for an actual (non-preflight) response to `req`. */
  decorate(req: IncomingMessage, res: ServerResponse): void {
    if (!this.any && this.origins.size > 0) res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (!this.allowed(origin)) return;
    res.setHeader('access-control-allow-origin', this.any ? '*' : origin);
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  }

  /**
   * Answers a preflight (OPTIONS): 204 with the Access-Control-* headers when origin, method and
   * headers are all allowed; otherwise the outcome names what was not (the caller answers 403).
   */
  preflight(req: IncomingMessage, res: ServerResponse): PreflightOutcome {
    const origin = req.headers.origin;
    if (!this.allowed(origin)) return 'origin';
    const method = req.headers['access-control-request-method'];
    if (method !== undefined && !ALLOWED_METHODS.includes(method.toUpperCase())) return 'method';
    const asked = (req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    if (asked.some((h) => !ALLOWED_HEADERS.includes(h))) return 'headers';
    res.writeHead(204, {
      'access-control-allow-origin': this.any ? '*' : origin,
      'access-control-allow-methods': ALLOWED_METHODS_HEADER,
      'access-control-allow-headers': ALLOWED_HEADERS_HEADER,
      'access-control-max-age': String(this.maxAgeSeconds),
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'content-length': 0,
    });
    res.end();
    return 'allowed';
  }
}
