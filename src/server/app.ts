// HTTP routes: /graphql (Apollo), /healthz (alive), /readyz (ready for traffic), /metrics (Prometheus).
import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import type { Registry } from 'prom-client';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { ErrorCode } from '../errors/codes.js';
import type { GatewayContext } from '../schema/context.js';
import type { HealthService } from '../service/health.js';
import type { RequestTracker } from './request-tracker.js';

export interface AppOptions {
  apollo: ApolloServer<GatewayContext>;
  context: Omit<GatewayContext, 'signal' | 'requestId'>;
  health: HealthService;
  metrics: Registry;
  requests: RequestTracker;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

/** Request ids accepted from clients: short and plain, so they are safe to log. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A GraphQL-shaped error body for failures that happen before GraphQL runs. */
function errorBody(code: ErrorCode | string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

export function createApp({ apollo, context, health, metrics, requests, maxBodyBytes }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });

  app.get('/readyz', (_req, res) => {
    const report = health.report();
    res.status(health.ready ? 200 : 503).json({
      status: health.ready ? 'ready' : health.isDraining ? 'draining' : 'loading',
      models: report.models.map(({ name, ready }) => ({ name, ready })),
    });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  // Refused with a clean 503 once draining, so that clients retry elsewhere instead of seeing a reset.
  app.use('/graphql', (req, res, next) => {
    if (!health.isDraining) return requests.middleware(req, res, next);
    return void res
      .status(503).set('Connection', 'close').json(errorBody(ErrorCode.SHUTTING_DOWN, 'the gateway is shutting down; retry on another replica'));
  });

  app.use(
    '/graphql',
    express.json({ limit: maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const gone = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        const asked = req.get('x-request-id');
        const requestId = asked && REQUEST_ID.test(asked) ? asked : randomUUID();
        res.set('X-Request-Id', requestId);
        return { ...context, signal: gone.signal, requestId };
      },
    }),
  );

  const onBodyError: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (status === 413) {
      res.status(413).json(errorBody(ErrorCode.BAD_USER_INPUT, `request body exceeds ${maxBodyBytes} bytes`));
    } else if (status === 400) {
      res.status(400).json(errorBody(ErrorCode.BAD_USER_INPUT, 'request body is not valid JSON'));
    } else {
      res.status(500).json(errorBody(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
    }
  };
  app.use(onBodyError);
  return app;
}
