// The one place where errors become what a client sees.
import { HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from './codes.js';
import { GatewayError } from './errors.js';

/** Codes produced by GraphQL itself (parse, validation, variable coercion) that pass through unchanged. */
export const GRAPHQL_OWN_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export type InternalErrorSink = (error: unknown) => void;

/**
 * The typed error behind `error`: thrown by a resolver (Apollo wraps it with a path), or by a plugin
 * hook as a request refusal (see refusal()), or `error` itself.
 */
function typedError(error: unknown): unknown {
  const original = unwrapResolverError(error);
  if (original instanceof GraphQLError && original.originalError instanceof GatewayError) return original.originalError;
  return original;
}

/**
 * The code a client sees for `error` (as Apollo hands it over): a typed error's own code, GraphQL's
 * own codes unchanged, INTERNAL_SERVER_ERROR for anything else. `code` defaults to the error's
 * extensions.code. Shared by formatError and telemetry, so metrics and logs count what clients saw.
 */
export function publicCode(error: unknown, code: unknown = (error as { extensions?: { code?: unknown } })?.extensions?.code): string {
  const original = typedError(error);
  if (original instanceof GatewayError) return original.code;
  return typeof code === 'string' && GRAPHQL_OWN_CODES.has(code) && original === error ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * A typed error that refuses the whole request from a plugin hook, carrying its HTTP status (and
 * headers, e.g. Retry-After) to Apollo; formatError then shows it like any typed error.
 */
export function refusal(error: GatewayError, headers: Record<string, string> = {}): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, http: { status: error.httpStatus, headers: new HeaderMap(Object.entries(headers)) } },
  });
}

/** Builds Apollo's formatError: typed errors keep their code; anything else is hidden. */
export function makeFormatError(onInternal: InternalErrorSink) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = typedError(error);
    if (original instanceof GatewayError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = publicCode(error, formatted.extensions?.code);
    if (code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    onInternal(original);
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
