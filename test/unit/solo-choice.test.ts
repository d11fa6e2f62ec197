import { describe, expect, it } from 'vitest';
import { SoloChoice } from '../../src/inference/onnx/solo-choice.js';

describe('SoloChoice', () => {
  it('prefers solo only when it is clearly faster, and uses the nearest measured size for new sizes', () => {
    const big = new SoloChoice();
    big.seed(128, 40, 22);
    expect(big.prefers(128)).toBe(true);
    expect(big.prefers(20)).toBe(true);
    const small = new SoloChoice();
    small.seed(128, 2.0, 1.8); // 0.9 of a worker's time: not worth the extra threads
    expect(new SoloChoice().prefers(128)).toBe(false); // nothing measured: a worker's own session
    const tiny = new SoloChoice();
    tiny.seed(128, 0.3, 0.15); // twice as fast, but saves only 0.15 ms a call
    expect(tiny.prefers(128)).toBe(false);
    expect(small.prefers(128)).toBe(false);
  });

  it('tries the other way now and then, and follows what calls really cost', () => {
    const choice = new SoloChoice();
    choice.seed(128, 40, 22);
    const ways = Array.from({ length: 64 }, () => {
      const solo = choice.choose(128);
      // On this machine solo turns out slow for this size: 45 ms against 30.
      choice.observe(128, solo, solo ? 45 : 30);
      return solo;
    });
    // Solo first (the seed), until its slow measurements outweigh the seed; then narrow, with solo
    // retried every 32nd call (which keeps confirming it is slow).
    expect(ways[0]).toBe(true);
    expect(choice.prefers(128)).toBe(false);
    expect(ways.slice(4).filter(Boolean).length).toBe(2);
  });

  it('keeps separate judgements per size', () => {
    const choice = new SoloChoice();
    choice.seed(128, 40, 22);
    for (let i = 0; i < 80; i++) {
      const solo = choice.choose(16);
      choice.observe(16, solo, solo ? 3 : 2);
    }
    expect(choice.prefers(16)).toBe(false);
    expect(choice.prefers(128)).toBe(true);
  });
});
