// POST/GET /graphql on a bare node:http handler. What can be decided from the request alone is
// decided here, cheapest first, before Apollo runs: who is calling (API key or address), whether
// that client is known to be out of tokens, the body (size, JSON shape), and the document's shape
// (document-guard.ts). Then Apollo Server's own HTTP pipeline (CSRF prevention, parsing, validation,
// the admission plugin's budget and rate limit, execution).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { ApiKeys, KeyIdentity } from '../access/api-keys.js';
import { clientAddress } from '../access/client-address.js';
import { ErrorCode } from '../errors/codes.js';
import { RateLimitedError, UnauthenticatedError, type GatewayError } from '../errors/errors.js';
import type { DocumentGuard } from '../limits/document-guard.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { GatewayContext } from '../schema/context.js';
import type { AbortState } from '../scheduler/model-scheduler.js';
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

/** A request answered before GraphQL runs (a class: nothing a client sends can pass for one). */
class Refusal {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    readonly message: string,
    readonly headers: Headers = {},
    readonly details: Record<string, unknown> = {},
  ) {}

  /** A typed error's refusal: its HTTP status, code, message and details. */
  static of(error: GatewayError, headers: Headers = {}): Refusal {
    return new Refusal(error.httpStatus, error.code, error.message, headers, error.details);
  }
}

const refusal = (...args: ConstructorParameters<typeof Refusal>) => new Refusal(...args);

export function graphqlHandler(options: GraphQLHandlerOptions) {
  const { apollo, context, guard, limiter } = options;

  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const started = performance.now();
    const asked = req.headers['x-request-id'];
    const requestId = typeof asked === 'string' && REQUEST_ID.test(asked) ? asked : randomUUID();
    res.setHeader('x-request-id', requestId);
    const refuse = (r: Refusal, key?: KeyIdentity) => {
      if (r.status !== 499) sendError(res, r.status, r.code, r.message, r.headers, r.details);
      options.onRefused({ requestId, status: r.status, code: r.code, key: key?.id, ms: performance.now() - started });
    };

    // Cheapest first: who is asking (headers only), whether they are out of tokens, then the body.
    const caller = identify(req, options);
    if (caller instanceof Refusal) return refuse(caller);
    const { client, key } = caller;
    const waitMs = limiter?.blocked(client);
    if (waitMs !== undefined) {
      return refuse(Refusal.of(new RateLimitedError(waitMs), { 'retry-after': Math.ceil(waitMs / 1000) }), key);
    }
    const params = new URLSearchParams(search);
    const payload = await readPayload(req, params, options.body);
    if (payload instanceof Refusal) return refuse(payload, key);
    const { body } = payload;
    const query = queryOf(req.method, body, params);
    const shape = query === undefined ? undefined : guard.check(query);
    if (shape) return refuse(refusal(400, shape.code, shape.message, {}, shape.details), key);

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => {
        // Whether the client went away before its answer was sent (queued work for it is then
        // dropped): read when the scheduler looks, so no AbortController or listener per request.
        const signal: AbortState = {
          get aborted() {
            return res.closed && !res.writableFinished;
          },
        };
        return { ...context, signal, requestId, client, key, usage: { texts: 0, tokens: 0 } };
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

/** The caller: its API key when keys are on (`key:<id>`), its address otherwise (`addr:<ip>`). */
function identify(req: IncomingMessage, options: Pick<GraphQLHandlerOptions, 'keys' | 'trustProxyHops'>): { client: string; key?: KeyIdentity } | Refusal {
  if (!options.keys) return { client: `addr:${clientAddress(req, options.trustProxyHops)}` };
  const auth = options.keys.authenticate(req.headers);
  if (auth.ok) return { client: `key:${auth.key.id}`, key: auth.key };
  const message = auth.reason === 'missing' ? 'an API key is required (Authorization: Bearer <key>, or x-api-key)' : 'the API key is not valid';
  return Refusal.of(new UnauthenticatedError(message), { 'www-authenticate': 'Bearer realm="nlp-gateway"' });
}

/**
 * The POST body (parsed when it is JSON; Apollo refuses other types), or undefined on GET, whose
 * JSON parameters are shape-checked here and parsed by Apollo. A large body is parsed, then
 * executed, each in a turn of the event loop of its own, so that other clients get turns between.
 */
async function readPayload(req: IncomingMessage, params: URLSearchParams, limits: BodyLimits): Promise<{ body: unknown } | Refusal> {
  if (req.method !== 'POST') {
    for (const name of ['variables', 'extensions']) {
      for (const value of params.getAll(name)) {
        const problem = new JsonShapeScanner(limits).push(Buffer.from(value));
        if (problem) return refusal(400, ErrorCode.BAD_USER_INPUT, shapeMessage(problem, limits, `the ${name} parameter`));
      }
    }
    return { body: undefined };
  }
  try {
    const json = JSON_TYPE.test(req.headers['content-type'] ?? '');
    const text = await readBody(req, limits, json);
    const large = text.length > YIELD_ABOVE_CHARS;
    if (large) await nextTurn();
    const body = json ? parseJson(text) : text;
    if (large) await nextTurn();
    return { body };
  } catch (e) {
    if (!(e instanceof BodyError)) throw e;
    const code = e.status === 499 ? ErrorCode.CLIENT_CLOSED_REQUEST : ErrorCode.BAD_USER_INPUT;
    // A body still arriving after the linger time: answer, then close the connection.
    return refusal(e.status, code, e.message, req.complete ? {} : { connection: 'close' });
  }
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
