// Apollo Server for the gateway schema: no landing page from a CDN, no batched HTTP requests, CSRF
// prevention on, errors through the one formatter, telemetry as plugins. Lean on purpose: the
// cache-control plugin (which wraps every resolver) is off, and the gateway, not Apollo, handles
// SIGTERM/SIGINT (Apollo would otherwise stop itself on them unless NODE_ENV is `test`) and drains the
// HTTP server (server/http-drain.ts: one deadline for the whole shutdown, not Apollo's second one).
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { makeFormatError } from '../errors/format-error.js';
import type { GatewayContext } from '../schema/context.js';
import type { Logger } from '../telemetry/logger.js';

export interface ApolloOptions {
  schema: GraphQLSchema;
  log: Logger;
  plugins: ApolloServerPlugin<GatewayContext>[];
}

export function createApollo({ schema, log, plugins }: ApolloOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: makeFormatError((error) => log.error({ err: error }, 'internal error in a request')),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      ...plugins,
    ],
  });
}
