import { describe, expect, it } from 'vitest';
import { JsonShapeScanner } from '../../src/server/json-shape.js';

const limits = { maxDepth: 4, maxValues: 20 };

/** Feeds `text` split at every position into two chunks (and whole): the verdict must not depend on where chunks end. */
function verdicts(text: string, l = limits): Set<string | undefined> {
  const bytes = Buffer.from(text);
  const out = new Set<string | undefined>();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const s = new JsonShapeScanner(l);
    out.add(s.push(bytes.subarray(0, cut)) ?? s.push(bytes.subarray(cut)));
  }
  return out;
}

describe('JSON shape scanner', () => {
  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(verdicts('{"a":[[{"b":1}]]}')).toEqual(new Set([undefined]));
    expect(verdicts('{"a":[[{"b":[1]}]]}')).toEqual(new Set(['depth']));
  });

  it('counts containers and items against the value limit', () => {
    expect(verdicts(`[${'1,'.repeat(18)}1]`)).toEqual(new Set([undefined]));
    expect(verdicts(`[${'1,'.repeat(20)}1]`)).toEqual(new Set(['values']));
  });

  it('ignores brackets, braces and commas inside strings, escaped quotes included', () => {
    const tricky = JSON.stringify({ t: '[[[[[[{{{{,,,,,,,,,,,,,,,,,,,,,,,,"\\"]]]]' });
    expect(verdicts(tricky)).toEqual(new Set([undefined]));
    expect(verdicts(JSON.stringify({ t: 'ends with a backslash \\', u: '[[[[[[' }))).toEqual(new Set([undefined]));
    expect(verdicts(JSON.stringify({ t: '\\\\\\"[[[[[[' }))).toEqual(new Set([undefined]));
  });

  it('still sees structure after a string that ends in escaped backslashes', () => {
    expect(verdicts(`{"t":"\\\\\\\\","u":[[[[1]]]]}`)).toEqual(new Set(['depth']));
  });

  it('refuses a 100,000-deep body at the first byte over the limit, in microseconds', () => {
    const s = new JsonShapeScanner({ maxDepth: 32, maxValues: 10_000 });
    const started = performance.now();
    expect(s.push(Buffer.from('['.repeat(100_000)))).toBe('depth');
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('skips long strings without looking at each byte of them', () => {
    const body = Buffer.from(JSON.stringify({ variables: { texts: Array.from({ length: 256 }, (_, i) => `${i} ${'free money '.repeat(3000)}`) } }));
    const s = new JsonShapeScanner({ maxDepth: 32, maxValues: 10_000 });
    for (let at = 0; at < body.length; at += 65_536) expect(s.push(body.subarray(at, at + 65_536))).toBeUndefined();
  });
});
