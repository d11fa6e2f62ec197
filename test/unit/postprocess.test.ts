import { describe, expect, it } from 'vitest';
import { clsPool, l2Normalize, meanPool, softmax } from '../../src/inference/postprocess.js';

describe('softmax', () => {
  it('matches hand-computed probabilities', () => {
    // e^0 / (e^0 + e^ln3) = 1/4, e^ln3 / (...) = 3/4
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });

  it('is stable for huge logits and sums to 1', () => {
    const p = softmax([1000, 1000, 999]);
    expect(p[0]).toBeCloseTo(p[1]!, 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Number.isFinite(p[2])).toBe(true);
  });
});

describe('pooling', () => {
  // batch 2, sequence 3, hidden 2
  const hidden = new Float32Array([1, 2, 3, 4, 100, 100, /* row 1 */ 5, 6, 7, 8, 9, 10]);
  const mask = new BigInt64Array([1n, 1n, 0n, 1n, 1n, 1n]);

  it('mean pooling ignores masked positions', () => {
    expect(Array.from(meanPool(hidden, mask, 0, 3, 2))).toEqual([2, 3]);
    expect(Array.from(meanPool(hidden, mask, 1, 3, 2))).toEqual([7, 8]);
  });

  it('cls pooling takes the first token', () => {
    expect(Array.from(clsPool(hidden, 1, 3, 2))).toEqual([5, 6]);
  });

  it('l2 normalisation gives unit length and keeps zero vectors zero', () => {
    expect(Array.from(l2Normalize(new Float32Array([3, 4])))).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(l2Normalize(new Float32Array([0, 0])))).toEqual([0, 0]);
  });
});
