// For tests of the client package: the error a call that must fail rejects with.
import { GatewayError } from 'nlp-gateway/client';
import { expect } from 'vitest';

/** Awaits `call`, which must reject with a GatewayError, and returns that error. */
export async function failure(call: Promise<unknown>): Promise<GatewayError> {
  const outcome = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(GatewayError);
  return outcome as GatewayError;
}
