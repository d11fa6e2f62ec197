// The gateway's own path (tokenizer.json -> onnxruntime-node -> softmax) reproduces what PyTorch
// computed for the trained classifier at export time: catches tokenization and input-mapping bugs
// without PyTorch in CI.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/inference/model.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { REPO } from '../support/gateway-process.js';
import { byLabel, poolRunner, runTexts } from '../support/runners.js';

interface Case {
  text: string;
  ids: number[];
  truncated: boolean;
  logits: number[];
  probs: number[];
}

const folder = path.join(REPO, 'models/spam-bert');
// Worker threads, as the gateway runs it: padding and softmax happen there.
const open = (variant: 'fp32' | 'quantized') => loadModel(folder, { variant, openRunner: poolRunner(1), log: () => undefined });

let fixture: { model: string; maxTokens: number; cases: Case[] };
let fp32: Model;
let int8: Model;

beforeAll(async () => {
  fixture = JSON.parse(await readFile(path.join(REPO, 'test/fixtures/spam-bert-parity.json'), 'utf8'));
  [fp32, int8] = await Promise.all([open('fp32'), open('quantized')]);
});
afterAll(async () => {
  await Promise.all([fp32?.close(), int8?.close()]);
});

describe('spam-bert parity with the training framework', () => {
  it('covers short, truncated and non-ASCII texts', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(8);
    expect(fixture.cases.some((c) => c.truncated)).toBe(true);
    expect(fixture.maxTokens).toBe(fp32.spec.maxTokens);
  });

  it('tokenizes every text to exactly the ids PyTorch saw, truncation included', () => {
    for (const c of fixture.cases) {
      const e = fp32.encoder.encode(c.text);
      expect(Array.from(e.ids), c.text.slice(0, 40)).toEqual(c.ids);
      expect(e.truncated).toBe(c.truncated);
    }
  });

  it('gives PyTorch probabilities within 1e-4 (fp32), one text at a time and batched', async () => {
    const texts = fixture.cases.map((c) => c.text);
    const batched = await runTexts(fp32, texts);
    for (const [i, c] of fixture.cases.entries()) {
      const [alone] = await runTexts(fp32, [texts[i]!]);
      for (const row of [alone!, batched[i]!]) {
        const probs = byLabel(fp32, row);
        const labels = fp32.spec.task === 'classification' ? fp32.spec.labels : [];
        labels.forEach((label, j) => expect(Math.abs(probs[label]! - c.probs[j]!)).toBeLessThan(1e-4));
      }
    }
  });

  it('int8 variant agrees with fp32 on every label and within a few points of probability', async () => {
    expect(int8.file).toBe('onnx/model_quantized.onnx');
    const out = await runTexts(int8, fixture.cases.map((c) => c.text));
    const labels = int8.spec.task === 'classification' ? int8.spec.labels : [];
    for (const [i, c] of fixture.cases.entries()) {
      const probs = byLabel(int8, out[i]!);
      const top = c.probs.indexOf(Math.max(...c.probs));
      const best = labels.reduce((a, b) => (probs[b]! > probs[a]! ? b : a));
      if (Math.abs(c.probs[0]! - c.probs[1]!) > 0.2) expect(best).toBe(labels[top]);
      labels.forEach((label, j) => expect(Math.abs(probs[label]! - c.probs[j]!)).toBeLessThan(0.05));
    }
  });
});
