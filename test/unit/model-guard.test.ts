import { describe, expect, it } from 'vitest';
import { CallTimeoutError } from '../../src/inference/runner.js';
import { ModelCallError, ModelGuard, type BreakerStateName } from '../../src/resilience/model-guard.js';

const options = { failureRatio: 0.5, window: 4, minimumCalls: 2, halfOpenAfterMs: 100 };
const fail = async () => {
  throw new Error('graph failed');
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ModelGuard', () => {
  it('passes answers through while closed', async () => {
    const guard = new ModelGuard('m', options);
    expect(await guard.execute(async () => 42)).toBe(42);
    expect(guard.state).toBe('CLOSED');
  });

  it('opens after the failure ratio, fails fast while open, half-opens after the cool-down and closes on success', async () => {
    const states: BreakerStateName[] = [];
    const guard = new ModelGuard('m', options, (_m, s) => states.push(s));
    await expect(guard.execute(fail)).rejects.toMatchObject({ reason: 'failed' });
    await expect(guard.execute(fail)).rejects.toMatchObject({ reason: 'failed' });
    expect(guard.state).toBe('OPEN');
    let called = false;
    await expect(
      guard.execute(async () => {
        called = true;
        return 1;
      }),
    ).rejects.toMatchObject({ reason: 'open' });
    expect(called).toBe(false);
    await sleep(120);
    expect(guard.state).toBe('HALF_OPEN');
    expect(await guard.execute(async () => 7)).toBe(7);
    expect(guard.state).toBe('CLOSED');
    expect(states).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('counts a call the runner timed out as a timeout failure', async () => {
    const guard = new ModelGuard('m', options);
    const overrun = async () => {
      throw new CallTimeoutError(50);
    };
    const error: unknown = await guard.execute(overrun).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect((error as ModelCallError).reason).toBe('timeout');
    expect((error as ModelCallError).message).toMatch(/no answer within 50 ms/);
    await guard.execute(overrun).catch(() => undefined);
    expect(guard.state).toBe('OPEN');
  });
});
