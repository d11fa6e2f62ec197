import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { memoizeWordPiece } from '../../src/inference/word-piece-memo.js';

const repo = path.resolve(import.meta.dirname, '../..');
const load = (model: string) => {
  const read = (f: string) => JSON.parse(readFileSync(path.join(repo, 'models', model, f), 'utf8'));
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
};

/** Real prose with code, numbers and punctuation: the repository's own documents, by paragraph. */
function paragraphs(): string[] {
  const docs = ['README.md', 'docs/drift.md', ...readdirSync(path.join(repo, 'models')).map((m) => `models/${m}/README.md`)];
  const texts = docs.flatMap((d) => {
    try {
      return readFileSync(path.join(repo, d), 'utf8').split(/\n\s*\n/);
    } catch {
      return [];
    }
  });
  return [
    ...texts,
    'Ünïcödé àccents, ﬁligatures, 東京都の天気, emoji 👩‍👩‍👧 and zero\u200bwidth',
    'supercalifragilisticexpialidocious '.repeat(3) + 'x'.repeat(150),
    '',
  ];
}

describe('memoizeWordPiece', () => {
  it('gives exactly the ids of the unwrapped tokenizer, cold and warm', () => {
    const plain = load('spam-bert');
    const memo = load('spam-bert');
    expect(memoizeWordPiece(memo, 500)).toBe(true);
    const texts = paragraphs();
    expect(texts.length).toBeGreaterThan(100);
    for (let pass = 0; pass < 2; pass++) {
      for (const text of texts) expect(memo.encode(text).ids).toEqual(plain.encode(text).ids);
    }
  });

  it('leaves a tokenizer that is not WordPiece alone', () => {
    const word = load('glove-embed-100d');
    expect(memoizeWordPiece(word)).toBe(false);
    expect(word.encode('the cat sat').ids.length).toBeGreaterThan(0);
  });
});
