// POST/GET /graphql on a bare node:http handler. What can be decided from the request alone is
// decided here, cheapest first, before Apollo runs: who is calling (API key or address), whether
// that client is known to be out of tokens, the body (size, JSON shape), and the document's shape
// (document-guard.ts). Then Apollo Server's own HTTP pipeline (CSRF prevention, parsing, validation,
// the admission plugin's budget and rate limit, execution).
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { ApiKeys, KeyIdentity } from '../access/api-keys.js';
import { clientAddress } from '../access/client-address.js';
import { ErrorCode } from '../errors/codes.js';
import type { DocumentGuard } from '../limits/document-guard.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { GatewayContext } from '../schema/context.js';
import { sendError, type Headers } from './http-reply.js';
import { JsonShapeScanner, shapeMessage } from './json-shape.js';
import { BodyError, parseJson, readBody, type BodyLimits } from './request-body.js';

export type BaseContext = Omit<GatewayContext, 'signal' | 'requestId' | 'client' | 'key' | 'usage'>;

/** A request answered before GraphQL ran (telemetry logs and counts it like any other). */
export interface RefusedRequest {
  requestId: string;
  status: number;
  code: string;
  /** The key's id when one was recognised. */
  key?: string;
  ms: number;
}

export interface GraphQLHandlerOptions {
  apollo: ApolloServer<GatewayContext>;
  context: BaseContext;
  body: BodyLimits;
  guard: DocumentGuard;
  /** Undefined when API keys are off. */
  keys: ApiKeys | undefined;
  trustProxyHops: number;
  /** Undefined when rate limits are off. */
  limiter: RateLimiter | undefined;
  onRefused: (request: RefusedRequest) => void;
}

/**
 * Request ids accepted from clients: generated ids only (a UUID, or 16-64 hex digits as trace and
 * proxy ids are), so that no free text a client chooses reaches the logs. Others are replaced.
 */
const REQUEST_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,64})$/i;
const JSON_TYPE = /^application\/(graphql-response\+)?json\b|\+json\b/i;
/** Bodies larger than this are parsed in a turn of the event loop of their own. */
const YIELD_ABOVE_CHARS = 256 * 1024;

export function graphqlHandler(options: GraphQLHandlerOptions) {
  const { apollo, context, guard, keys, limiter } = options;

  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const started = performance.now();
    const asked = req.headers['x-request-id'];
    const requestId = typeof asked === 'string' && REQUEST_ID.test(asked) ? asked : randomUUID();
    res.setHeader('x-request-id', requestId);
    let key: KeyIdentity | undefined;
    const refuse = (status: number, code: ErrorCode | string, message: string, headers: Headers = {}, details: Record<string, unknown> = {}) => {
      if (status !== 499) sendError(res, status, code, message, headers, details);
      options.onRefused({ requestId, status, code, key: key?.id, ms: performance.now() - started });
    };

    // Who is asking: from headers alone, before the body is read.
    let client: string;
    if (keys) {
      const auth = keys.authenticate(req.headers);
      if (!auth.ok) {
        const message = auth.reason === 'missing' ? 'an API key is required (Authorization: Bearer <key>, or x-api-key)' : 'the API key is not valid';
        return refuse(401, ErrorCode.UNAUTHENTICATED, message, { 'www-authenticate': 'Bearer realm="nlp-gateway"' });
      }
      key = auth.key;
      client = `key:${key.id}`;
    } else {
      client = `addr:${clientAddress(req, options.trustProxyHops)}`;
    }
    const waitMs = limiter?.blocked(client);
    if (waitMs !== undefined) {
      return refuse(429, ErrorCode.RATE_LIMITED, `rate limit reached; retry in ${waitMs} ms`, { 'retry-after': Math.ceil(waitMs / 1000) }, { retryAfterMs: waitMs });
    }

    let body: unknown;
    const params = new URLSearchParams(search);
    if (req.method === 'POST') {
      try {
        const json = JSON_TYPE.test(req.headers['content-type'] ?? '');
        const text = await readBody(req, options.body, json);
        // A large body is parsed, then executed, each in a turn of the event loop of its own, so
        // that health checks and other clients get a turn in between.
        const large = text.length > YIELD_ABOVE_CHARS;
        if (large) await nextTurn();
        body = json ? parseJson(text) : text;
        if (large) await nextTurn();
      } catch (e) {
        if (!(e instanceof BodyError)) throw e;
        // A body still arriving after the linger time: answer, then close the connection.
        return refuse(e.status, e.status === 499 ? ErrorCode.CLIENT_CLOSED_REQUEST : ErrorCode.BAD_USER_INPUT, e.message, req.complete ? {} : { connection: 'close' });
      }
    } else {
      for (const name of ['variables', 'extensions']) {
        for (const value of params.getAll(name)) {
          const problem = new JsonShapeScanner(options.body).push(Buffer.from(value));
          if (problem) return refuse(400, ErrorCode.BAD_USER_INPUT, shapeMessage(problem, options.body, `the ${name} parameter`));
        }
      }
    }

    const query = queryOf(req.method, body, params);
    const refused = query === undefined ? undefined : guard.check(query);
    if (refused) return refuse(400, refused.code, refused.message, {}, refused.details);

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => {
        // Aborted when the client goes away before its answer is sent: queued work for it is dropped.
        const gone = new AbortController();
        // One listener per text of the request (bounded by the operation budget): no leak to warn about.
        setMaxListeners(0, gone.signal);
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        return { ...context, signal: gone.signal, requestId, client, key, usage: { texts: 0, tokens: 0 } };
      },
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/**
 * The document Apollo will parse, found the way Apollo finds it (a string `query` in a POST body
 * object; exactly one `query` search parameter on GET); undefined when there is none, in which case
 * Apollo refuses the request itself.
 */
function queryOf(method: string | undefined, body: unknown, params: URLSearchParams): string | undefined {
  if (method === 'POST') {
    const query = body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown }).query : undefined;
    return typeof query === 'string' ? query : undefined;
  }
  const all = params.getAll('query');
  return all.length === 1 ? all[0] : undefined;
}
