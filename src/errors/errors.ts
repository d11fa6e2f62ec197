// Internal error classes. Each carries the public code it maps to and only a message that is safe to
// show a client; anything else thrown inside the gateway is an internal fault (see format-error.ts).
import { ErrorCode } from './codes.js';

export abstract class GatewayError extends Error {
  abstract readonly code: ErrorCode;
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

/** Too much work queued; `details.retryAfterMs` tells the client when to try again. */
export class OverloadedError extends GatewayError {
  readonly code = ErrorCode.OVERLOADED;
}

/** Every client waiting for the work has gone away; it was dropped before it was computed. */
export class ClientGoneError extends GatewayError {
  readonly code = ErrorCode.CLIENT_CLOSED_REQUEST;
  constructor() {
    super('the client went away before the answer was ready');
  }
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
