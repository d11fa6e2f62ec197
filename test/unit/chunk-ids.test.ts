// Reading BERT-family texts chunk by chunk from memory gives exactly the ids of the whole pipeline,
// truncation included, on real prose and on the characters where "whitespace" is easy to get wrong.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { chunkable } from '../../src/inference/chunk-ids.js';
import { createTextEncoder, TextEncoder } from '../../src/inference/text-encoder.js';
import { REPO } from '../support/gateway-process.js';

const read = (folder: string, f: string) => JSON.parse(readFileSync(path.join(folder, f), 'utf8'));
const MODELS = ['models/spam-bert', 'models/glove-embed-100d', 'test/fixtures/exports/bert', 'test/fixtures/exports/distilbert', 'test/fixtures/exports/mpnet', 'test/fixtures/exports/st-cls'];

function texts(): string[] {
  const docs = ['README.md', 'docs/models.md', 'docs/drift.md', 'docs/security.md'].flatMap((d) => {
    try {
      return readFileSync(path.join(REPO, d), 'utf8').split(/\n\s*\n/);
    } catch {
      return [];
    }
  });
  const tricky = [
    'tab\tnew\nline\r\nvertical\vform\ffeed',
    'line\u2028para\u2029sep and bom\ufeffinside and nbsp\u00a0here and ideographic\u3000space',
    'combining \u0301after a space, cafe\u0301, ÉCOLE, İstanbul, straße, ﬁligature',
    '東京都の天気は晴れ、明日は雨。漢字かな交じり文',
    'emoji 👩‍👩‍👧 zero\u200bwidth joiner\u200dhere, control\u0000char\u0007bell',
    'x'.repeat(150) + ' supercalifragilisticexpialidocious '.repeat(3),
    '   leading and trailing   ',
    '',
    'a',
    'punctuation!!!...,,,;;;(((nested)))[[brackets]]{{braces}} email@example.com http://example.com/path?q=1',
  ];
  return [...docs, ...tricky];
}

describe('chunk-by-chunk ids (chunk-ids.ts)', () => {
  it('applies to the BERT family only', () => {
    expect(chunkable(read(path.join(REPO, 'models/spam-bert'), 'tokenizer.json'))).toBe(true);
    expect(chunkable(read(path.join(REPO, 'models/glove-embed-100d'), 'tokenizer.json'))).toBe(true);
    for (const other of ['roberta', 'xlm-roberta']) expect(chunkable(read(path.join(REPO, 'test/fixtures/exports', other), 'tokenizer.json'))).toBe(false);
  });

  it.each(MODELS)('%s: same ids, flags and lengths as the whole pipeline, at several limits, cold and warm', (model) => {
    const folder = path.join(REPO, model);
    const tokenizer = read(folder, 'tokenizer.json');
    const config = read(folder, 'tokenizer_config.json');
    const all = texts();
    expect(all.length).toBeGreaterThan(50);
    for (const maxTokens of [8, 64, 512]) {
      const fast = createTextEncoder({ tokenizer, config, maxTokens });
      // The pipeline itself, whole text, no memo of any kind.
      const plain = new TextEncoder(new Tokenizer(tokenizer, config), maxTokens, true, { tokenizer, config, maxTokens });
      for (let pass = 0; pass < 2; pass++) {
        for (const text of all) {
          const a = fast.encode(text);
          const b = plain.encode(text);
          expect(Array.from(a.ids), `${model} ${maxTokens}: ${JSON.stringify(text.slice(0, 40))}`).toEqual(Array.from(b.ids));
          expect(a.truncated).toBe(b.truncated);
          expect(a.unknown).toBe(b.unknown);
          if (!a.truncated) expect(a.fullLength).toBe(b.fullLength);
          else expect(a.fullLength).toBeGreaterThan(maxTokens);
        }
      }
    }
  });
});
