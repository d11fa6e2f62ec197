// Public error codes: part of the API (extensions.code). Add, never rename. docs/security.md lists
// each with its HTTP status and when it is given.
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  WRONG_TASK = 'WRONG_TASK',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  OVERLOADED = 'OVERLOADED',
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  /** The client went away before its answer was ready (its work was dropped); a client event, not a fault. */
  CLIENT_CLOSED_REQUEST = 'CLIENT_CLOSED_REQUEST',
  /** The document is over a shape limit (tokens, aliases, depth, directives, cost, repeated fields, size). */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** The operation would cost more model work (texts, tokens) than one operation may. */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
  /** The client's token bucket is empty; extensions.retryAfterMs says when to retry. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** API keys are on and the request has no valid key. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The key may not do this (call this model, read /metrics), or the browser origin is not allowed. */
  FORBIDDEN = 'FORBIDDEN',
  /** No such HTTP route (a wrong URL; answered with 404 before GraphQL runs). */
  NOT_FOUND = 'NOT_FOUND',
  /** The route exists but not for this HTTP method. */
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** Codes that mean the client did something wrong or was refused by policy, never a fault of ours. */
export const CLIENT_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.MODEL_NOT_FOUND,
  ErrorCode.WRONG_TASK,
  ErrorCode.CLIENT_CLOSED_REQUEST,
  ErrorCode.QUERY_TOO_COMPLEX,
  ErrorCode.BUDGET_EXCEEDED,
  ErrorCode.RATE_LIMITED,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.NOT_FOUND,
  ErrorCode.METHOD_NOT_ALLOWED,
]);
