// Apollo Server for the gateway schema: no landing page from a CDN, no batched HTTP requests, CSRF
// prevention on, errors through the one formatter.
import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { makeFormatError } from '../errors/format-error.js';
import type { GatewayContext } from '../schema/context.js';
import type { Logger } from '../telemetry/logger.js';

export function createApollo(schema: GraphQLSchema, httpServer: Server, log: Logger, graceMs: number): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: makeFormatError((error) => log.error({ err: error }, 'internal error in a request')),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: Math.max(graceMs, 1) }), ApolloServerPluginLandingPageDisabled()],
  });
}
