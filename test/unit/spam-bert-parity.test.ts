// The gateway's own path (tokenizer.json -> onnxruntime-node -> softmax) reproduces what PyTorch
// computed for the trained classifier at export time: catches tokenization and input-mapping bugs
// without PyTorch in CI.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassificationModel } from '../../src/inference/model.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { OnnxBackend } from '../../src/inference/onnx/onnx-backend.js';
import { REPO } from '../support/gateway-process.js';

interface Case {
  text: string;
  ids: number[];
  truncated: boolean;
  logits: number[];
  probs: number[];
}

const folder = path.join(REPO, 'models/spam-bert');
const settings = { ORT_EXECUTION_PROVIDERS: ['cpu' as const], ORT_GRAPH_OPTIMIZATION: 'all' as const, ORT_INTRA_OP_THREADS: 0, ORT_ALLOW_SPINNING: false };
const open = (variant: 'fp32' | 'quantized') =>
  loadModel(folder, {
    variant,
    openBackend: (file) => OnnxBackend.open(file, settings, () => undefined),
    log: () => undefined,
  }) as Promise<ClassificationModel>;

let fixture: { model: string; maxTokens: number; cases: Case[] };
let fp32: ClassificationModel;
let int8: ClassificationModel;

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
      expect(e.ids, c.text.slice(0, 40)).toEqual(c.ids);
      expect(e.truncated).toBe(c.truncated);
    }
  });

  it('gives PyTorch probabilities within 1e-4 (fp32), one text at a time and batched', async () => {
    const encoded = fixture.cases.map((c) => fp32.encoder.encode(c.text));
    const batched = await fp32.classify(encoded);
    for (const [i, c] of fixture.cases.entries()) {
      const [alone] = await fp32.classify([encoded[i]!]);
      for (const out of [alone!, batched[i]!]) {
        const byLabel = Object.fromEntries(out.scores.map((s) => [s.label, s.score]));
        fp32.spec.labels.forEach((label, j) => expect(Math.abs(byLabel[label]! - c.probs[j]!)).toBeLessThan(1e-4));
      }
    }
  });

  it('int8 variant agrees with fp32 on every label and within a few points of probability', async () => {
    expect(int8.file).toBe('onnx/model_quantized.onnx');
    const encoded = fixture.cases.map((c) => int8.encoder.encode(c.text));
    const out = await int8.classify(encoded);
    for (const [i, c] of fixture.cases.entries()) {
      const top = c.probs.indexOf(Math.max(...c.probs));
      if (Math.abs(c.probs[0]! - c.probs[1]!) > 0.2) expect(out[i]!.scores[0]!.label).toBe(int8.spec.labels[top]);
      const byLabel = Object.fromEntries(out[i]!.scores.map((s) => [s.label, s.score]));
      int8.spec.labels.forEach((label, j) => expect(Math.abs(byLabel[label]! - c.probs[j]!)).toBeLessThan(0.05));
    }
  });
});
