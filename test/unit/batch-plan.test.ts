import { describe, expect, it } from 'vitest';
import { planSubBatches } from '../../src/scheduler/batch-plan.js';

describe('planSubBatches', () => {
  it('groups similar lengths and keeps long texts away from short ones', () => {
    const plan = planSubBatches([10, 200, 12, 190, 11], { maxBatchTokens: 10_000, maxPaddingRatio: 1.3 });
    expect(plan).toEqual([[0, 4, 2], [3, 1]]);
  });

  it('respects the token budget (rows x longest row)', () => {
    const plan = planSubBatches([100, 100, 100, 100, 100], { maxBatchTokens: 250, maxPaddingRatio: 10 });
    expect(plan).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('gives a text longer than the budget a call of its own', () => {
    expect(planSubBatches([600, 5], { maxBatchTokens: 512, maxPaddingRatio: 2 })).toEqual([[0], [1]]);
  });

  it('puts every item in exactly one sub-batch', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 3 + ((i * 37) % 250));
    const plan = planSubBatches(lengths, { maxBatchTokens: 4096, maxPaddingRatio: 1.25 });
    expect(plan.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const sub of plan) {
      const longest = Math.max(...sub.map((i) => lengths[i]!));
      const real = sub.reduce((s, i) => s + lengths[i]!, 0);
      expect(sub.length * longest).toBeLessThanOrEqual(Math.max(4096, longest));
      if (sub.length > 1) expect(sub.length * longest).toBeLessThanOrEqual(1.25 * real);
    }
  });
});

describe('planSubBatches with a call cost', () => {
  const lengths = [30, 200, 34, 190, 32, 60];
  const total = (plan: number[][], fixedMs: number, perTokenMs: number) =>
    plan.reduce((s, sub) => s + fixedMs + perTokenMs * sub.length * Math.max(...sub.map((i) => lengths[i]!)), 0);
  const policy = { maxBatchTokens: 100_000, maxPaddingRatio: Number.POSITIVE_INFINITY };

  it('runs every text alone when padding costs more than a call (a big model on a CPU)', () => {
    const plan = planSubBatches(lengths, policy, { fixedMs: 0.1, perTokenMs: 0.1 });
    // ...in arrival order, so that queued calls stay first come, first served.
    expect(plan).toEqual([[0], [1], [2], [3], [4], [5]]);
  });

  it('puts everything in one call when calls are dear and tokens cheap (a GPU)', () => {
    expect(planSubBatches(lengths, policy, { fixedMs: 50, perTokenMs: 0.001 })).toEqual([[0, 4, 2, 5, 3, 1]]);
  });

  it('finds the cheapest cut in between, and it beats both extremes', () => {
    const cost = { fixedMs: 1, perTokenMs: 0.01 };
    const plan = planSubBatches(lengths, policy, cost);
    expect(plan).toEqual([[0, 4, 2, 5], [3, 1]]);
    const alone = lengths.map((_, i) => [i]);
    const together = [lengths.map((_, i) => i)];
    expect(total(plan, 1, 0.01)).toBeLessThan(total(alone, 1, 0.01));
    expect(total(plan, 1, 0.01)).toBeLessThan(total(together, 1, 0.01));
    // Exhaustive check: no cut of the sorted order into contiguous groups is cheaper.
    const order = [0, 4, 2, 5, 3, 1];
    let cheapest = Number.POSITIVE_INFINITY;
    for (let mask = 0; mask < 1 << (order.length - 1); mask++) {
      const groups: number[][] = [[order[0]!]];
      for (let k = 1; k < order.length; k++) (mask & (1 << (k - 1)) ? groups.push([order[k]!]) : groups.at(-1)!.push(order[k]!));
      cheapest = Math.min(cheapest, total(groups, 1, 0.01));
    }
    expect(total(plan, 1, 0.01)).toBeCloseTo(cheapest, 9);
  });

  it('still keeps to the token budget and a padding cap when calls are dear', () => {
    const plan = planSubBatches(lengths, { maxBatchTokens: 400, maxPaddingRatio: 1.5 }, { fixedMs: 50, perTokenMs: 0.001 });
    for (const sub of plan) {
      const longest = Math.max(...sub.map((i) => lengths[i]!));
      const real = sub.reduce((s, i) => s + lengths[i]!, 0);
      if (sub.length > 1) {
        expect(sub.length * longest).toBeLessThanOrEqual(400);
        expect(sub.length * longest).toBeLessThanOrEqual(1.5 * real);
      }
    }
    expect(plan.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
