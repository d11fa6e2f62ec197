// The errors a call can end in, with codes a partner app can switch over exhaustively: the server's
// (generated from its source, see scripts/client-error-codes.mjs) and the client's own.
import { SERVER_ERROR_CODES, type ServerErrorCode } from './generated/error-codes.js';

/** Failures decided by the client, not reported by the gateway. */
export const CLIENT_ERROR_CODES = [
  /** The call's timeoutMs passed (retries and waits included). */
  'TIMEOUT',
  /** The caller's AbortSignal fired. */
  'ABORTED',
  /** No HTTP answer (connection refused or reset, DNS). */
  'NETWORK_ERROR',
  /** An answer that is not a GraphQL response (e.g. a proxy's HTML error page). */
  'BAD_RESPONSE',
  /** A code this version of the client does not know (a newer gateway); see `serverCode`. */
  'UNKNOWN_CODE',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type ErrorCode = ServerErrorCode | ClientErrorCode;
export { SERVER_ERROR_CODES, type ServerErrorCode };

const KNOWN: ReadonlySet<string> = new Set(SERVER_ERROR_CODES);

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorBody {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GatewayErrorInit {
  code: ErrorCode;
  message: string;
  status?: number;
  serverCode?: string;
  retryAfterMs?: number;
  errors?: readonly GraphQLErrorBody[];
  attempts?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  override name = 'GatewayError';
  /** What went wrong, for `switch`: the gateway's extensions.code or one of CLIENT_ERROR_CODES. */
  readonly code: ErrorCode;
  /** The code as the gateway sent it (differs from `code` only for UNKNOWN_CODE). */
  readonly serverCode?: string;
  /** HTTP status of the answer, when there was one. */
  readonly status?: number;
  /** How long the gateway asked the client to wait before trying again, when it said. */
  readonly retryAfterMs?: number;
  /** Every error of the response (the first one gave `code` and `message`). */
  readonly errors: readonly GraphQLErrorBody[];
  /** Attempts made, retries included. */
  attempts: number;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.serverCode = init.serverCode;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.errors = init.errors ?? [];
    this.attempts = init.attempts ?? 1;
  }
}

/** The typed code for what the gateway sent. */
export function errorCodeOf(serverCode: string | undefined): ErrorCode {
  if (serverCode === undefined) return 'BAD_RESPONSE';
  return KNOWN.has(serverCode) ? (serverCode as ServerErrorCode) : 'UNKNOWN_CODE';
}
