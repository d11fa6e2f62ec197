// nlp-gateway/client: a typed client for the gateway's GraphQL API, for browsers and Node.
//
//   import { createClient } from 'nlp-gateway/client';
//   const gateway = createClient({ url: 'http://localhost:4000/graphql', apiKey: process.env.KEY });
//   const { label, score } = await gateway.classify('WIN a FREE cruise!');
export { createClient, DEFAULT_RETRY_ON, type CallOptions, type Client, type ClientOptions, type RetryEvent } from './client.js';
export {
  CLIENT_ERROR_CODES,
  GatewayError,
  SERVER_ERROR_CODES,
  type ClientErrorCode,
  type ErrorCode,
  type GraphQLErrorBody,
  type ServerErrorCode,
} from './errors.js';
// Every public operation as a typed document, with its result and variables types, for `request`.
export * from './generated/graphql.js';
