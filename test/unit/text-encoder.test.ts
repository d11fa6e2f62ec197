import { describe, expect, it } from 'vitest';
import { TextEncoder } from '../../src/inference/text-encoder.js';
import { bertTokenizer, wordLevelTokenizer } from '../support/tiny-tokenizers.js';

describe('TextEncoder with a BERT tokenizer', () => {
  const enc = new TextEncoder(bertTokenizer(), 6, true);

  it('wraps text in [CLS] ... [SEP] and finds [PAD] and [UNK]', () => {
    const e = enc.encode('The cat sat');
    expect(Array.from(e.ids)).toEqual([2, 4, 5, 6, 3]);
    expect(e).toMatchObject({ fullLength: 5, truncated: false, unknown: 0 });
    expect(enc.padId).toBe(0);
    expect(enc.encode('the zebra').unknown).toBe(1);
  });

  it('truncates to maxTokens keeping [CLS] first and [SEP] last, and says there were more', () => {
    const e = enc.encode('the cat sat on the mat .');
    expect(Array.from(e.ids)).toEqual([2, 4, 5, 6, 7, 3]);
    expect(e.truncated).toBe(true);
    expect(e.fullLength).toBeGreaterThan(6);
  });

  /** What tokenizing the whole text and then cutting it gives: [CLS] + the first tokens + [SEP]. */
  const wholeThenCut = (text: string, maxTokens: number) => [2, ...bertTokenizer().encode(text, { add_special_tokens: false }).ids.slice(0, maxTokens - 2), 3];

  it('gives the same ids for a long text as tokenizing it whole, reading only a prefix', () => {
    const long = 'the cat played on the mat . '.repeat(5_000);
    const big = new TextEncoder(bertTokenizer(), 128);
    const fast = big.encode(long);
    expect(Array.from(fast.ids)).toEqual(wholeThenCut(long, 128));
    expect(fast.truncated).toBe(true);
    expect(fast.fullLength).toBeGreaterThan(128);
  });

  it('cuts texts without whitespace at punctuation or CJK boundaries, with the same ids as a full pass', () => {
    const big = new TextEncoder(bertTokenizer(), 64, true);
    for (const text of ['漢字'.repeat(50_000), 'cat!'.repeat(25_000), 'the,cat.sat;'.repeat(8_000)]) {
      const fast = big.encode(text);
      expect(Array.from(fast.ids)).toEqual(wholeThenCut(text, 64));
      expect(fast.truncated).toBe(true);
    }
  });

  it('does not truncate a text that fits exactly', () => {
    const e = enc.encode('cat sat on mat');
    expect(e.ids).toHaveLength(6);
    expect(e.truncated).toBe(false);
  });
});

describe('TextEncoder with a word-level tokenizer', () => {
  it('adds no special tokens and truncates at maxTokens', () => {
    const enc = new TextEncoder(wordLevelTokenizer(), 3);
    expect(Array.from(enc.encode('the cat').ids)).toEqual([2, 3]);
    const e = enc.encode('the cat sat on');
    expect(Array.from(e.ids)).toEqual([2, 3, 4]);
    expect(e.truncated).toBe(true);
  });

  it('refuses a maxTokens that leaves no room for text', () => {
    expect(() => new TextEncoder(bertTokenizer(), 2)).toThrow(/no room/);
  });
});
