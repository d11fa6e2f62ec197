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
   * Pairs of texts of one length, for int8 batches. A dynamically quantized graph scales activations
   * per call, so an int8 answer depends on the texts sharing its call (measured below, in
   * transformers.js alone); the gateway decides by cost whether two texts share a call. A pair is run
   * either way, so its answers must equal transformers.js's for one of the two.
   */
  const int8Pairs = () => {
    const texts = sameLengthTexts((t) => tok.fullLength(t), 6);
    return [0, 2, 4].map((i) => texts.slice(i, i + 2)).filter((p) => p.length === 2);
  };

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
      const encoded = encoder.encode(text);
      const mine = { ...encoded, ids: Array.from(encoded.ids) };
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

      it(variant === 'fp32' ? 'classifies a batch like the pipeline, and a batch holding a truncated text' : 'classifies pairs as transformers.js does, in one call or one each', async () => {
        const ref = await referenceClassifier(f, variant, tok.padId);
        const batch = async (texts: string[]) => (await execute(gw.url, ClassifyBatchDocument, { texts, model })).data!.classifyBatch;
        const diffs = (got: Awaited<ReturnType<typeof batch>>, expected: Map<string, number>[]) =>
          Math.max(...got.map((g, i) => scoreDiff(g.scores, expected[i]!)));
        try {
          if (variant === 'fp32') {
            const fitting = TEXTS.filter(fits);
            record(f, 'fp32 batched', diffs(await batch(fitting), await ref.pipeline(fitting)));
            record(f, 'fp32 batched', diffs(await batch([...TEXTS]), await ref.ids(TEXTS.map((t) => tok.truncatedIds(t)))));
          } else {
            for (const pair of int8Pairs()) {
              const got = await batch(pair);
              const joint = diffs(got, await ref.pipeline(pair));
              const alone = diffs(got, [...(await ref.pipeline([pair[0]!])), ...(await ref.pipeline([pair[1]!]))]);
              record(f, 'int8 batched', Math.min(joint, alone));
            }
            await recordNeighbourEffect(f, (rows) => ref.ids(rows).then((maps) => maps.map((m) => [...m.values()])));
          }
          expect(measured[f.name]![`${variant} batched`]).toBeLessThanOrEqual(TOLERANCE);
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

      it(variant === 'fp32' ? 'embeds a batch like transformers.js, and a batch holding a truncated text' : 'embeds pairs as transformers.js does, in one call or one each', async () => {
        const ref = await referenceEmbedder(f, variant, tok.padId);
        const batch = async (texts: string[]) =>
          (await execute(gw.url, EmbedBatchDocument, { texts, model, normalize: false })).data!.embedBatch.map((e) => e.values);
        const diffs = (got: number[][], expected: number[][]) => Math.max(...got.map((g, i) => maxAbs(g, expected[i]!)));
        try {
          if (variant === 'fp32') {
            const fitting = TEXTS.filter(fits);
            record(f, 'fp32 batched', diffs(await batch(fitting), await ref.pipeline(fitting, false)));
            record(f, 'fp32 batched', diffs(await batch([...TEXTS]), await ref.ids(TEXTS.map((t) => tok.truncatedIds(t)), false)));
          } else {
            for (const pair of int8Pairs()) {
              const got = await batch(pair);
              const joint = diffs(got, await ref.pipeline(pair, false));
              const alone = diffs(got, [...(await ref.pipeline([pair[0]!], false)), ...(await ref.pipeline([pair[1]!], false))]);
              record(f, 'int8 batched', Math.min(joint, alone));
            }
            await recordNeighbourEffect(f, (rows) => ref.ids(rows, false));
          }
          expect(measured[f.name]![`${variant} batched`]).toBeLessThanOrEqual(TOLERANCE);
        } finally {
          await ref.dispose();
        }
      });
    }
  });
});
