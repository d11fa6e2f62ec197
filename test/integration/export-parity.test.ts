// Exports as people bring them, served by a real gateway process over HTTP, agree with
// @huggingface/transformers on the same folders: token ids exactly, classification scores and
// embeddings within 1e-4, one text at a time and batched, fp32 and int8. The measured differences go
// to test-results/export-parity.json (docs/models.md quotes them).
//
// Texts over a model's limit: transformers.js drops the final special token when it truncates (see
// test/support/transformers-reference.ts); the gateway keeps it, as Python's transformers does. Those
// texts are compared with transformers.js's model on ids truncated the Python way, and the difference
// itself is asserted, so that a change on either side shows.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../src/inference/model-folder/read-model-folder.js';
import { createTextEncoder } from '../../src/inference/text-encoder.js';
import { ClassifyBatchDocument, ClassifyDocument, EmbedBatchDocument, EmbedDocument } from '../generated/graphql.js';
import { EXPORTS, exportsRepo, FIXTURES, sameLengthTexts, servedName, TEXTS, type ExportFixture, type Variant } from '../support/exports.js';
import { REPO, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { referenceClassifier, referenceEmbedder, referenceTokenizer, type ReferenceTokenizer } from '../support/transformers-reference.js';

const TOLERANCE = 1e-4;
const VARIANTS: Variant[] = ['fp32', 'int8'];

let gw: GatewayProcess;
/** fixture -> measure -> largest absolute difference seen */
const measured: Record<string, Record<string, number>> = {};

function record(f: ExportFixture, key: string, diff: number): number {
  const row = (measured[f.name] ??= {});
  row[key] = Math.max(row[key] ?? 0, diff);
  return diff;
}

function maxAbs(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

/** Score differences between the gateway's answer (any order) and a label -> score map. */
function scoreDiff(got: readonly { label: string; score: number }[], expected: Map<string, number>): number {
  expect(got.map((s) => s.label).sort()).toEqual([...expected.keys()].sort());
  return maxAbs(got.map((s) => s.score), got.map((s) => expected.get(s.label)!));
}

beforeAll(async () => {
  const repo = await exportsRepo();
  // No result cache: a batched answer must be computed in its batch, not read back from a single one.
  gw = await startGatewayProcess({ ...repo.env, CACHE_MAX_ENTRIES: '0', INFERENCE_WORKERS: '1' });
  await gw.waitReady(180_000);
});

afterAll(async () => {
  await mkdir(path.join(REPO, 'test-results'), { recursive: true });
  await writeFile(path.join(REPO, 'test-results/export-parity.json'), `${JSON.stringify(measured, null, 2)}\n`);
  if (gw) expect(await gw.stop()).toBe(0);
});

describe.each(FIXTURES)('$name', (f) => {
  let tok: ReferenceTokenizer;
  const fits = (text: string) => tok.fullLength(text) <= tok.maxTokens;
  /**
   * fp32: texts of mixed lengths (the gateway may cut such a batch into several calls; fp32 answers do
   * not depend on it). int8: texts of one length, which the gateway runs as one call as transformers.js
   * does: a dynamically quantized graph scales activations per call, so an int8 answer depends on the
   * texts sharing its call (measured below, in transformers.js alone).
   */
  const batchTexts = (variant: Variant) => (variant === 'fp32' ? TEXTS.filter(fits) : sameLengthTexts((t) => tok.fullLength(t)));

  /** How far one text's int8 answer moves when a long text shares its call, in transformers.js itself. */
  async function recordNeighbourEffect(fx: ExportFixture, run: (rows: number[][]) => Promise<number[][]>): Promise<void> {
    const short = tok.truncatedIds(TEXTS[0]!);
    const long = tok.truncatedIds(TEXTS.at(-1)!);
    const [alone] = await run([short]);
    const [shared] = await run([short, long]);
    // Were it nil, int8 batches could be compared at mixed lengths like fp32 ones.
    expect(record(fx, 'int8 answer moved by a call neighbour (transformers.js)', maxAbs(alone!, shared!))).toBeGreaterThan(1e-3);
  }

  beforeAll(async () => {
    tok = await referenceTokenizer(f);
  });

  it('tokenizes every text to exactly the ids transformers.js gives (Python-style at the limit), with its padding id', async () => {
    const folder = await readModelFolder(path.join(EXPORTS, f.name), 'fp32');
    expect(folder.maxTokens).toBe(tok.maxTokens);
    const encoder = createTextEncoder({ tokenizer: folder.tokenizer, config: folder.tokenizerConfig, maxTokens: folder.maxTokens });
    expect(encoder.padId).toBe(tok.padId);
    let over = 0;
    for (const text of TEXTS) {
      const mine = encoder.encode(text);
      const label = JSON.stringify(text.slice(0, 30));
      expect(mine.truncated, label).toBe(!fits(text));
      if (fits(text)) {
        expect(mine.ids, label).toEqual(tok.ids(text));
      } else {
        over++;
        expect(mine.ids, label).toEqual(tok.truncatedIds(text));
        // transformers.js's own truncation: the same ids but for the last, where it lost the special token.
        const theirs = tok.ids(text);
        expect(theirs.slice(0, -1)).toEqual(mine.ids.slice(0, -1));
        expect(theirs.at(-1)).not.toBe(mine.ids.at(-1));
      }
    }
    expect(over).toBeGreaterThan(0);
  });

  describe.each(VARIANTS)('%s', (variant) => {
    const model = servedName(f, variant);

    if (f.task === 'classification') {
      it('classifies like the text-classification pipeline, one text at a time', async () => {
        const ref = await referenceClassifier(f, variant, tok.padId);
        try {
          const tops: number[] = [];
          for (const text of TEXTS) {
            const [expected] = fits(text) ? await ref.pipeline([text]) : await ref.ids([tok.truncatedIds(text)]);
            const { data, errors } = await execute(gw.url, ClassifyDocument, { text, model });
            expect(errors).toBeUndefined();
            const got = data!.classify;
            expect(got.model.name).toBe(model);
            expect(got.tokens).toBe(tok.truncatedIds(text).length);
            expect(got.truncated).toBe(!fits(text));
            expect(record(f, `${variant} single`, scoreDiff(got.scores, expected!))).toBeLessThanOrEqual(TOLERANCE);
            tops.push(got.score);
          }
          // Answers that hardly move between texts would make the comparison weak.
          expect(Math.max(...tops) - Math.min(...tops)).toBeGreaterThan(0.05);
        } finally {
          await ref.dispose();
        }
      });

      it('classifies a batch like the pipeline classifies it' + (variant === 'fp32' ? ', and a batch holding a truncated text' : ' (texts of one length)'), async () => {
        const ref = await referenceClassifier(f, variant, tok.padId);
        try {
          const texts = batchTexts(variant);
          const expected = await ref.pipeline(texts);
          const { data } = await execute(gw.url, ClassifyBatchDocument, { texts, model });
          data!.classifyBatch.forEach((got, i) => record(f, `${variant} batched`, scoreDiff(got.scores, expected[i]!)));
          if (variant === 'fp32') {
            const withLong = await ref.ids(TEXTS.map((t) => tok.truncatedIds(t)));
            const all = await execute(gw.url, ClassifyBatchDocument, { texts: [...TEXTS], model });
            all.data!.classifyBatch.forEach((got, i) => record(f, `${variant} batched`, scoreDiff(got.scores, withLong[i]!)));
          }
          expect(measured[f.name]![`${variant} batched`]).toBeLessThanOrEqual(TOLERANCE);
          if (variant === 'int8') await recordNeighbourEffect(f, (rows) => ref.ids(rows).then((maps) => maps.map((m) => [...m.values()])));
        } finally {
          await ref.dispose();
        }
      });
    } else {
      it('embeds like transformers.js, raw and as the model normalises, one text at a time', async () => {
        const ref = await referenceEmbedder(f, variant, tok.padId);
        try {
          const vectors: number[][] = [];
          for (const text of TEXTS) {
            const expect1 = (normalize: boolean) =>
              fits(text) ? ref.pipeline([text], normalize) : ref.ids([tok.truncatedIds(text)], normalize);
            const [raw] = await expect1(false);
            const [unit] = await expect1(true);
            const plain = await execute(gw.url, EmbedDocument, { text, model, normalize: false });
            expect(plain.errors).toBeUndefined();
            const got = plain.data!.embed;
            expect(got.tokens).toBe(tok.truncatedIds(text).length);
            expect(got.dimensions).toBe(raw!.length);
            record(f, `${variant} single`, maxAbs(got.values, raw!));
            // normalize not given: the model's own choice (modules.json's Normalize module).
            const asModel = await execute(gw.url, EmbedDocument, { text, model });
            record(f, `${variant} single`, maxAbs(asModel.data!.embed.values, f.normalize ? unit! : raw!));
            vectors.push(got.values);
          }
          expect(measured[f.name]![`${variant} single`]).toBeLessThanOrEqual(TOLERANCE);
          // Vectors that hardly move between texts would make the comparison weak.
          expect(maxAbs(vectors[0]!, vectors[1]!)).toBeGreaterThan(0.05);
        } finally {
          await ref.dispose();
        }
      });

      it('embeds a batch like transformers.js embeds it' + (variant === 'fp32' ? ', and a batch holding a truncated text' : ' (texts of one length)'), async () => {
        const ref = await referenceEmbedder(f, variant, tok.padId);
        try {
          const texts = batchTexts(variant);
          const expected = await ref.pipeline(texts, false);
          const { data } = await execute(gw.url, EmbedBatchDocument, { texts, model, normalize: false });
          data!.embedBatch.forEach((got, i) => record(f, `${variant} batched`, maxAbs(got.values, expected[i]!)));
          if (variant === 'fp32') {
            const withLong = await ref.ids(TEXTS.map((t) => tok.truncatedIds(t)), false);
            const all = await execute(gw.url, EmbedBatchDocument, { texts: [...TEXTS], model, normalize: false });
            all.data!.embedBatch.forEach((got, i) => record(f, `${variant} batched`, maxAbs(got.values, withLong[i]!)));
          }
          expect(measured[f.name]![`${variant} batched`]).toBeLessThanOrEqual(TOLERANCE);
          if (variant === 'int8') await recordNeighbourEffect(f, (rows) => ref.ids(rows, false));
        } finally {
          await ref.dispose();
        }
      });
    }
  });
});
