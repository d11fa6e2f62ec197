// Tokenizer threads give exactly the event loop's ids, send the texts of one turn together, share
// themselves fairly between clients, and fall back to the event loop when no thread can take a text.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/inference/model.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { TokenizerPool } from '../../src/inference/tokenize/tokenizer-pool.js';
import { REPO } from '../support/gateway-process.js';
import { localRunner } from '../support/runners.js';

const jobs = (texts: string[], client = 'c') => texts.map((text) => ({ text, client }));

describe('TokenizerPool', () => {
  let model: Model;
  let pool: TokenizerPool;
  beforeAll(async () => {
    model = await loadModel(path.join(REPO, 'models/spam-bert'), { variant: 'fp32', openRunner: localRunner(), log: () => undefined });
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
    const pooled = await Promise.all(jobs(texts).map((job) => pool.encode(model, job)));
    pooled.forEach(({ encoded, ms }, i) => {
      expect(encoded).toEqual(model.encoder.encode(texts[i]!));
      expect(ms).toBeGreaterThanOrEqual(0);
    });
    // The long text: cut to maxTokens, known to be longer.
    expect(pooled[4]!.encoded.truncated).toBe(true);
    expect(pooled[4]!.encoded.ids.length).toBe(128);
    expect(pooled[4]!.encoded.fullLength).toBeGreaterThan(128);
  });

  it('sends the texts asked for in one turn of the event loop together', async () => {
    const before = pool.messages;
    const many = Array.from({ length: 40 }, (_, i) => `message number ${i} about the quarterly report`);
    // Asked one at a time, as the inference path does, within one turn.
    const out = await Promise.all(many.map((t) => pool.encode(model, jobs([t])[0]!)));
    expect(pool.messages - before).toBeLessThanOrEqual(2); // one message per thread at most
    expect(out.map((o) => Array.from(o.encoded.ids))).toEqual(many.map((t) => Array.from(model.encoder.encode(t).ids)));
  });

  it("tokenizes a newcomer's text before a flooding client's backlog", async () => {
    const one = new TokenizerPool(1);
    try {
      const order: string[] = [];
      const flood = Array.from({ length: 2_000 }, (_, i) => `flood text number ${i} with a few more words in it to tokenize`);
      const floods = jobs(flood, 'flood').map((job, i) => one.encode(model, job).then(() => order.push(`f${i}`)));
      // The polite text comes in the next turn, once the flood is queued.
      await new Promise((r) => setImmediate(r));
      const polite = one.encode(model, jobs(['one polite text'], 'polite')[0]!).then(() => order.push('polite'));
      await Promise.all([...floods, polite]);
      // At most the two messages the thread already held (64 texts each) went first.
      expect(order.indexOf('polite')).toBeLessThanOrEqual(2 * 64 + 64);
      expect(order.indexOf('polite')).toBeLessThan(flood.length / 4);
    } finally {
      await one.close();
    }
  });

  it('tokenizes on the event loop, with one warning, when no thread can', async () => {
    const warnings: string[] = [];
    const other = new TokenizerPool(1, 0, (msg) => warnings.push(msg));
    await other.close();
    const texts = ['hello there', 'general kenobi'];
    const out = await Promise.all(jobs(texts).map((job) => other.encode(model, job)));
    expect(out.map((o) => o.encoded)).toEqual(texts.map((t) => model.encoder.encode(t)));
    expect(other.fallbacks).toBe(2);
    expect(warnings).toEqual(['no tokenizer thread available; tokenizing on the event loop']);
  });
});
