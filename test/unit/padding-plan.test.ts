import { describe, expect, it } from 'vitest';
import { planSubBatches } from '../../src/inference/padding-plan.js';

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
    expect(planSubBatches([600, 5], { maxBatchTokens: 512, maxPaddingRatio: 2 })).toEqual([[1], [0]]);
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
