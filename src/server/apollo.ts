// Apollo Server for the gateway schema: no landing page from a CDN, no batched HTTP requests, no
// automatic persisted queries (an unbounded way to store documents we do not need), CSRF prevention
// on, introspection and suggestions as configured, the document token limit at parse time, errors
// through the one formatter, Apollo's own log lines as JSON, telemetry as plugins. Lean on purpose: the
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
  introspection: boolean;
  /** "Did you mean ...?" in validation errors. */
  suggestions: boolean;
  /** Most tokens in a document; parsing stops there, before validation. */
  maxTokens: number;
}

export function createApollo({ schema, log, plugins, introspection, suggestions, maxTokens }: ApolloOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    logger: log.child({ component: 'apollo' }),
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    introspection,
    hideSchemaDetailsFromClientErrors: !suggestions,
    parseOptions: { maxTokens },
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
