// Small helpers to answer on a bare node:http response: JSON bodies, and GraphQL-shaped errors for
// failures that happen before GraphQL runs (so every client sees one error format).
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors/codes.js';

export type Headers = Record<string, string | number>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** `{ errors: [{ message, extensions: { code, ...details } }] }`, as GraphQL errors look. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode | string,
  message: string,
  headers: Headers = {},
  details: Record<string, unknown> = {},
): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, ...details } }] }, headers);
}
