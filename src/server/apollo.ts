// Apollo Server for the gateway schema: no landing page from a CDN, no batched HTTP requests, CSRF
// prevention on, errors through the one formatter, telemetry as plugins. Lean on purpose: the
// cache-control plugin (which wraps every resolver) is off, and the gateway, not Apollo, handles
// SIGTERM/SIGINT (Apollo would otherwise stop itself on them unless NODE_ENV is `test`).
import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLSchema } from 'graphql';
import { makeFormatError } from '../errors/format-error.js';
import type { GatewayContext } from '../schema/context.js';
import type { Logger } from '../telemetry/logger.js';

export interface ApolloOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  log: Logger;
  /** How long draining may wait for requests in progress. */
  graceMs: number;
  plugins: ApolloServerPlugin<GatewayContext>[];
}

export function createApollo({ schema, httpServer, log, graceMs, plugins }: ApolloOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: makeFormatError((error) => log.error({ err: error }, 'internal error in a request')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: Math.max(graceMs, 1) }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      ...plugins,
    ],
  });
}
