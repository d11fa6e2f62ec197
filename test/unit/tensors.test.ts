import { describe, expect, it } from 'vitest';
import { padBatch } from '../../src/inference/tensors.js';

describe('padBatch', () => {
  it('right-pads to the longest row with the pad id and masks the padding', () => {
    const b = padBatch([[101, 7, 102], [101, 102]], 0);
    expect(b.batch).toBe(2);
    expect(b.sequence).toBe(3);
    expect(Array.from(b.inputIds)).toEqual([101n, 7n, 102n, 101n, 102n, 0n]);
    expect(Array.from(b.attentionMask)).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect(Array.from(b.tokenTypeIds)).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('uses a non-zero pad id where the tokenizer has one', () => {
    expect(Array.from(padBatch([[5], [5, 6]], 9).inputIds)).toEqual([5n, 9n, 5n, 6n]);
  });

  it('refuses an empty batch', () => {
    expect(() => padBatch([], 0)).toThrow(RangeError);
  });
});
