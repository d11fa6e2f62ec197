import { describe, expect, it } from 'vitest';
import { CallCost } from '../../src/scheduler/call-cost.js';

describe('CallCost', () => {
  it('knows nothing until calls of two sizes have been seen', () => {
    const cost = new CallCost();
    expect(cost.estimate).toBeUndefined();
    cost.observe(100, 2);
    cost.observe(100, 2.2);
    expect(cost.estimate).toBeUndefined();
    cost.observe(400, 5);
    expect(cost.estimate).toBeDefined();
  });

  it('recovers fixed and per-token cost from noisy calls', () => {
    const cost = new CallCost();
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
    for (let i = 0; i < 400; i++) {
      const tokens = 20 + ((i * 97) % 2000);
      cost.observe(tokens, (0.4 + 0.009 * tokens) * (1 + noise()));
    }
    expect(cost.estimate!.fixedMs).toBeCloseTo(0.4, 0);
    expect(cost.estimate!.perTokenMs).toBeCloseTo(0.009, 3);
  });

  it('follows a change of machine speed, with calibration keeping the fit defined', () => {
    const cost = new CallCost(50);
    cost.calibrate(8, 1.08);
    cost.calibrate(128, 2.28);
    expect(cost.estimate!.perTokenMs).toBeCloseTo(0.01, 6);
    // Live traffic, all of one size, now twice as slow per token.
    for (let i = 0; i < 1000; i++) cost.observe(256, 1 + 0.02 * 256);
    const e = cost.estimate!;
    expect(e.fixedMs + e.perTokenMs * 256).toBeCloseTo(6.12, 1);
    expect(e.fixedMs).toBeGreaterThanOrEqual(0);
    expect(e.perTokenMs).toBeGreaterThan(0);
  });

  it('never reports a negative coefficient', () => {
    const cost = new CallCost();
    cost.observe(10, 5);
    cost.observe(1000, 4);
    expect(cost.estimate!.perTokenMs).toBe(0);
    expect(cost.estimate!.fixedMs).toBeCloseTo(4.5, 2);
    const steep = new CallCost();
    steep.observe(100, 0.5);
    steep.observe(200, 2);
    expect(steep.estimate!.fixedMs).toBe(0);
    expect(steep.estimate!.perTokenMs).toBeGreaterThan(0);
  });
});

describe('CallCost on a noisy machine', () => {
  it('counts a call far slower than predicted (a preempted thread) as at most twice the prediction', () => {
    const clean = new CallCost(50);
    const noisy = new CallCost(50);
    for (const c of [clean, noisy]) {
      c.calibrate(8, 0.3);
      c.calibrate(128, 2.1);
    }
    for (let i = 0; i < 200; i++) {
      const tokens = 8 + (i % 120);
      const ms = 0.18 + 0.015 * tokens;
      clean.observe(tokens, ms);
      // Every tenth call stalls for 50 ms.
      noisy.observe(tokens, i % 10 === 0 ? ms + 50 : ms);
    }
    const at64 = (c: CallCost) => c.estimate!.fixedMs + c.estimate!.perTokenMs * 64;
    expect(at64(noisy) / at64(clean)).toBeLessThan(1.15);
  });

  it('never reads the fixed cost below the measured hand-off floor', () => {
    const cost = new CallCost(500, 0.1);
    cost.calibrate(10, 0.1);
    cost.calibrate(100, 1.0); // fits to fixed 0, 0.01 per token
    expect(cost.estimate!.fixedMs).toBe(0.1);
    expect(cost.estimate!.perTokenMs).toBeCloseTo(0.01, 6);
  });
});
