// Every HTTP route of the gateway on one node:http handler: /graphql (Apollo), /healthz (alive),
// /readyz (ready for traffic), /metrics (Prometheus). /graphql answers 503 with Retry-After while
// models load and while draining, never 200 with an error, so that load balancers and clients retry
// elsewhere.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { ErrorCode } from '../errors/codes.js';
import type { HealthService } from '../service/health.js';
import { graphqlHandler, type GraphQLHandlerOptions } from './graphql-handler.js';
import { sendError, sendJson } from './http-reply.js';
import type { RequestTracker } from './request-tracker.js';

export interface RoutesOptions extends GraphQLHandlerOptions {
  health: HealthService;
  metrics: Registry;
  requests: RequestTracker;
  /** Seconds a client is told to wait (Retry-After) while the gateway loads or drains. */
  retryAfterSeconds: number;
  /** Logs a failure no route handled (a bug): the client gets a bare 500. */
  onError: (error: unknown) => void;
}

export function createRequestHandler(options: RoutesOptions) {
  const { health, metrics, requests, retryAfterSeconds } = options;
  const graphql = graphqlHandler(options);

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, search: string) => void | Promise<void>> = {
    '/healthz': (_req, res) => sendJson(res, 200, { status: 'alive' }),
    '/readyz': (_req, res) => {
      const models = health.report().models.map(({ name, ready }) => ({ name, ready }));
      const status = health.ready ? 'ready' : health.isDraining ? 'draining' : 'loading';
      sendJson(res, health.ready ? 200 : 503, { status, models });
    },
    '/metrics': async (_req, res) => {
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
    '/graphql': (req, res, search) => {
      if (!health.ready) {
        // Refused with a clean 503 (and, when draining, Connection: close) rather than a reset.
        const retry = { 'retry-after': retryAfterSeconds };
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
    const route = routes[pathname];
    if (!route) return sendJson(res, 404, { errors: [{ message: `no route ${pathname}`, extensions: { code: 'NOT_FOUND' } }] });
    if (pathname !== '/graphql' && req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { errors: [{ message: `${req.method} not allowed on ${pathname}` }] }, { allow: 'GET, HEAD' });
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
