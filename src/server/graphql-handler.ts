// POST/GET /graphql on a bare node:http handler: the body read with its limit, then Apollo Server's
// own HTTP pipeline (CSRF prevention, parsing, validation, execution). No framework in between: this
// is the whole per-request cost outside GraphQL itself.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { ErrorCode } from '../errors/codes.js';
import type { GatewayContext } from '../schema/context.js';
import { sendError } from './http-reply.js';
import { BodyError, parseJson, readBody } from './request-body.js';

export type BaseContext = Omit<GatewayContext, 'signal' | 'requestId' | 'client' | 'usage'>;

export interface GraphQLHandlerOptions {
  apollo: ApolloServer<GatewayContext>;
  context: BaseContext;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

/** Request ids accepted from clients: short and plain, so they are safe to log. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const JSON_TYPE = /^application\/(graphql-response\+)?json\b|\+json\b/i;

export function graphqlHandler({ apollo, context, maxBodyBytes }: GraphQLHandlerOptions) {
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const asked = req.headers['x-request-id'];
    const requestId = typeof asked === 'string' && REQUEST_ID.test(asked) ? asked : randomUUID();
    res.setHeader('x-request-id', requestId);

    let body: unknown;
    if (req.method === 'POST') {
      try {
        const raw = await readBody(req, maxBodyBytes);
        body = JSON_TYPE.test(req.headers['content-type'] ?? '') ? parseJson(raw) : raw.toString('utf8');
      } catch (e) {
        if (!(e instanceof BodyError)) throw e;
        return sendError(res, e.status, ErrorCode.BAD_USER_INPUT, e.message, e.status === 413 ? { connection: 'close' } : {});
      }
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => {
        // Aborted when the client goes away before its answer is sent: queued work for it is dropped.
        const gone = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        return { ...context, signal: gone.signal, requestId, client: clientOf(req), usage: { texts: 0, tokens: 0 } };
      },
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
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

/** Who is asking, for fair shares and limits: the peer address until API keys name the client. */
function clientOf(req: IncomingMessage): string {
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}
