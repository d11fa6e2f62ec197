// Every HTTP route of the gateway on one node:http handler: /graphql (Apollo, and the GraphiQL IDE for
// browsers), /healthz (alive), /readyz (ready for traffic), /metrics (Prometheus), / (the IDE or an
// index). /graphql answers 503 with Retry-After while models load and while draining, never 200 with
// an error, so that load balancers and clients retry elsewhere; it answers CORS preflights (OPTIONS)
// for the allowed origins. /metrics can be protected by its own bearer tokens.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { presentedCredential, type DigestSet } from '../access/credentials.js';
import { ErrorCode } from '../errors/codes.js';
import type { HealthService } from '../service/health.js';
import type { Cors } from './cors.js';
import { graphqlHandler, type GraphQLHandlerOptions } from './graphql-handler.js';
import { sendError, sendJson } from './http-reply.js';
import { IDE_PREFIX, IdeAssets } from './ide/ide-assets.js';
import { sendIdePage } from './ide/ide-page.js';
import type { RequestTracker } from './request-tracker.js';

export interface RoutesOptions extends GraphQLHandlerOptions {
  health: HealthService;
  metrics: Registry;
  /** Digests of the tokens that may read /metrics; undefined: open. */
  metricsTokens: DigestSet<true> | undefined;
  cors: Cors;
  requests: RequestTracker;
  /** Logs a failure no route handled (a bug): the client gets a bare 500. */
  onError: (error: unknown) => void;
  /** Serve the GraphiQL IDE (GRAPHQL_IDE). */
  ide: boolean;
  version: string;
}

/** Seconds a client is told to wait (Retry-After) while the gateway loads or drains. */
const RETRY_AFTER_SECONDS = 1;
/** An Accept header a browser sends when it opens a page. */
const ACCEPTS_HTML = /\btext\/html\b/;

/** A browser opening the URL (not a GraphQL GET, which carries `query`). */
function wantsPage(req: IncomingMessage, search: string): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && ACCEPTS_HTML.test(req.headers.accept ?? '') && !new URLSearchParams(search).has('query');
}

type Route = (req: IncomingMessage, res: ServerResponse, search: string) => void | Promise<void>;

export function createRequestHandler(options: RoutesOptions) {
  const { health, metrics, metricsTokens, cors, requests, ide, version } = options;
  const graphql = graphqlHandler(options);
  const assets = ide ? new IdeAssets() : undefined;
  const index = {
    name: 'nlp-gateway',
    version,
    graphql: '/graphql',
    ide: ide ? '/graphql (open it in a browser)' : 'off (GRAPHQL_IDE)',
    health: '/healthz',
    ready: '/readyz',
    metrics: '/metrics',
    schema: 'introspection on /graphql',
  };

  const routes: Record<string, Route> = {
    '/': (req, res) => {
      if (ide && ACCEPTS_HTML.test(req.headers.accept ?? '')) {
        res.writeHead(302, { location: '/graphql', 'content-length': 0 });
        return void res.end();
      }
      sendJson(res, 200, index);
    },
    '/healthz': (_req, res) => sendJson(res, 200, { status: 'alive' }),
    '/readyz': (_req, res) => {
      const models = health.report().models.map(({ name, ready }) => ({ name, ready }));
      const status = health.ready ? 'ready' : health.isDraining ? 'draining' : 'loading';
      sendJson(res, health.ready ? 200 : 503, { status, models });
    },
    '/metrics': async (req, res) => {
      if (metricsTokens && !metricsTokens.match(presentedCredential(req.headers) ?? '')) {
        return sendError(res, 401, ErrorCode.UNAUTHENTICATED, '/metrics needs a bearer token', { 'www-authenticate': 'Bearer realm="metrics"' });
      }
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
    '/graphql': (req, res, search) => {
      if (req.method === 'OPTIONS') {
        const outcome = cors.preflight(req, res);
        if (outcome !== 'allowed') sendError(res, 403, ErrorCode.FORBIDDEN, `CORS preflight refused: ${outcome} not allowed`);
        return;
      }
      cors.decorate(req, res);
      // The page is served while models load too: its queries then get the 503 below.
      if (assets && wantsPage(req, search)) return sendIdePage(res, assets, '/graphql', 'nlp-gateway · GraphiQL', req.method === 'HEAD');
      if (!health.ready) {
        // Refused with a clean 503 (and, when draining, Connection: close) rather than a reset.
        const retry = { 'retry-after': RETRY_AFTER_SECONDS };
        if (health.isDraining) {
          return sendError(res, 503, ErrorCode.SHUTTING_DOWN, 'the gateway is shutting down; retry on another replica', { ...retry, connection: 'close' });
        }
        return sendError(res, 503, ErrorCode.MODEL_UNAVAILABLE, 'models are still loading; retry when /readyz answers 200', retry);
      }
      requests.track(res);
      return graphql(req, res, search);
    },
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);
    const own = Object.hasOwn(routes, pathname) ? routes[pathname] : undefined;
    const route = own ?? (assets && pathname.startsWith(IDE_PREFIX) ? ideAsset(assets, pathname.slice(IDE_PREFIX.length)) : undefined);
    if (!route) return sendError(res, 404, ErrorCode.NOT_FOUND, 'no such route');
    if (pathname !== '/graphql' && req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, ErrorCode.METHOD_NOT_ALLOWED, `${req.method} not allowed on ${pathname}`, { allow: 'GET, HEAD' });
    }
    Promise.resolve()
      .then(() => route(req, res, search))
      .catch((e: unknown) => {
        options.onError(e);
        if (!res.headersSent) sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
        else res.destroy();
      });
  };
}

/** The route of one IDE file; unknown names answer 404 like any unknown path. */
function ideAsset(assets: IdeAssets, name: string) {
  return async (req: IncomingMessage, res: ServerResponse, search: string) => {
    if (!(await assets.serve(req, res, name, search))) sendError(res, 404, ErrorCode.NOT_FOUND, `no route ${IDE_PREFIX}${name}`);
  };
}
