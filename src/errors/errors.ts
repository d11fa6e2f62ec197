// Internal error classes. Each carries the public code it maps to and only a message that is safe to
// show a client; anything else thrown inside the gateway is an internal fault (see format-error.ts).
import { ErrorCode } from './codes.js';

export abstract class GatewayError extends Error {
  abstract readonly code: ErrorCode;
  /** HTTP status when this error refuses a whole request (before execution); field errors keep 200. */
  readonly httpStatus: number = 400;
  /** Extra, client-safe facts (limits, names); never user text. */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class BadInputError extends GatewayError {
  readonly code = ErrorCode.BAD_USER_INPUT;
}

export class ModelNotFoundError extends GatewayError {
  readonly code = ErrorCode.MODEL_NOT_FOUND;
  constructor(name: string, available: string[]) {
    super(`model "${name}" does not exist; available: ${available.join(', ')}`, { model: name });
  }
}

export class WrongTaskError extends GatewayError {
  readonly code = ErrorCode.WRONG_TASK;
  constructor(name: string, task: string, wanted: string) {
    super(`model "${name}" is ${withArticle(task)} model; this operation needs ${withArticle(wanted)} model`, {
      model: name,
      task,
    });
  }
}

/** "a classification", "an embedding". */
function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

export class ModelUnavailableError extends GatewayError {
  readonly code = ErrorCode.MODEL_UNAVAILABLE;
}

/** How long a client is told to wait after OVERLOADED when the queue gives no better hint. */
const OVERLOADED_RETRY_AFTER_MS = 1000;

/** Too much work queued; `details.retryAfterMs` (always a number) tells the client when to try again. */
export class OverloadedError extends GatewayError {
  readonly code = ErrorCode.OVERLOADED;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, { ...details, retryAfterMs: typeof details['retryAfterMs'] === 'number' ? details['retryAfterMs'] : OVERLOADED_RETRY_AFTER_MS });
  }
}

/** Every client waiting for the work has gone away; it was dropped before it was computed. */
export class ClientGoneError extends GatewayError {
  readonly code = ErrorCode.CLIENT_CLOSED_REQUEST;
  constructor() {
    super('the client went away before the answer was ready');
  }
}

/** Which document limit a query broke (extensions.limit). */
export type QueryLimit = 'size' | 'tokens' | 'aliases' | 'depth' | 'directives' | 'cost' | 'fieldRepeats' | 'selections';

/** The document is over a shape limit; refused before it is validated or run. */
export class QueryTooComplexError extends GatewayError {
  readonly code = ErrorCode.QUERY_TOO_COMPLEX;
  constructor(limit: QueryLimit, max: number, message: string) {
    super(message, { limit, max });
  }
}

/** Model work of one operation, as estimated before it runs or counted after. */
export interface OperationCost {
  texts: number;
  tokens: number;
}

/** The operation would cost more model work than one operation may (texts or tokens). */
export class BudgetExceededError extends GatewayError {
  readonly code = ErrorCode.BUDGET_EXCEEDED;
  constructor(limit: keyof OperationCost, max: number, cost: OperationCost) {
    super(`this operation would process ${cost[limit]} ${limit}; one operation may process at most ${max} (split it into several)`, {
      limit,
      max,
      cost,
    });
  }
}

/** The client's token bucket cannot pay for the operation now. */
export class RateLimitedError extends GatewayError {
  readonly code = ErrorCode.RATE_LIMITED;
  override readonly httpStatus = 429;
  constructor(retryAfterMs: number) {
    super(`rate limit reached; retry in ${retryAfterMs} ms`, { retryAfterMs });
  }
}

/** API keys are on and the request carries no valid key. */
export class UnauthenticatedError extends GatewayError {
  readonly code = ErrorCode.UNAUTHENTICATED;
  override readonly httpStatus = 401;
}

/** The caller is known but may not do this. */
export class ForbiddenError extends GatewayError {
  readonly code = ErrorCode.FORBIDDEN;
  override readonly httpStatus = 403;
}

/** A model folder that cannot be served; stops start-up. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly folder: string,
    problem: string,
  ) {
    super(`model folder ${folder}: ${problem}`);
  }
}
