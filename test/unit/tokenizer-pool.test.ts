import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/inference/model.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { OnnxBackend } from '../../src/inference/onnx/onnx-backend.js';
import { TokenizerPool } from '../../src/inference/tokenize/tokenizer-pool.js';
import { loadConfig } from '../../src/config/config.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('TokenizerPool', () => {
  let model: Model;
  let pool: TokenizerPool;
  beforeAll(async () => {
    const config = loadConfig({});
    model = await loadModel(path.join(repo, 'models/spam-bert'), {
      variant: 'fp32',
      openBackend: (file) => OnnxBackend.open(file, config, () => undefined),
      log: () => undefined,
    });
    pool = new TokenizerPool(2);
  });
  afterAll(async () => {
    await pool.close();
    await model.close();
  });

  const texts = [
    'Win a FREE cruise!!! Click http://example.com now',
    'Ünïcödé àccents, 東京都の天気 and emoji 👩‍👩‍👧',
    '',
    '   ',
    'word '.repeat(400),
    'The meeting notes are attached; see section 3.2 for the budget.',
  ];

  it('gives exactly the ids, lengths and flags of the event-loop encoder, in order', async () => {
    for (const countAll of [false, true]) {
      const pooled = await Promise.all(texts.map((t) => pool.encode(model, t, countAll)));
      pooled.forEach(({ encoded, ms }, i) => {
        expect(encoded).toEqual(model.encoder.encode(texts[i]!, countAll));
        expect(ms).toBeGreaterThanOrEqual(0);
      });
    }
    // The long text: cut to maxTokens, and with countAll its full length is known.
    const long = await pool.encode(model, texts[4]!, true);
    expect(long.encoded.truncated).toBe(true);
    expect(long.encoded.ids.length).toBe(128);
    expect(long.encoded.fullLength).toBe(402);
  });

  it('sends the texts asked for in one turn of the event loop as one message', async () => {
    const before = pool.messages;
    const many = Array.from({ length: 40 }, (_, i) => `message number ${i} about the quarterly report`);
    const out = await Promise.all(many.map((t) => pool.encode(model, t, false)));
    expect(pool.messages - before).toBe(1);
    expect(out.map((o) => o.encoded.ids)).toEqual(many.map((t) => model.encoder.encode(t).ids));
  });

  it('tokenizes on the event loop, with one warning, when no thread can', async () => {
    const warnings: string[] = [];
    const other = new TokenizerPool(1, 0, (msg) => warnings.push(msg));
    await other.close();
    const texts = ['hello there', 'general kenobi'];
    const out = await Promise.all(texts.map((t) => other.encode(model, t, false)));
    expect(out.map((o) => o.encoded)).toEqual(texts.map((t) => model.encoder.encode(t)));
    expect(other.fallbacks).toBe(2);
    expect(warnings).toEqual(['tokenizer thread failed; tokenizing on the event loop']);
  });
});
