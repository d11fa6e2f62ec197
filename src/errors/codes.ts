// Public error codes: part of the API (extensions.code). Add, never rename.
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  WRONG_TASK = 'WRONG_TASK',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  OVERLOADED = 'OVERLOADED',
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  /** The client went away before its answer was ready (its work was dropped); a client event, not a fault. */
  CLIENT_CLOSED_REQUEST = 'CLIENT_CLOSED_REQUEST',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** No such HTTP route (a wrong URL; answered with 404 before GraphQL runs). */
  NOT_FOUND = 'NOT_FOUND',
}
