// The export fixtures are what their builder says they are: each fp32 graph computes what the PyTorch
// architecture computed at build time (reference outputs on padded batches, saved by
// test/fixtures/export-builder/build.py), and each stays small enough to commit.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { EXPORTS, FIXTURES } from '../support/exports.js';
import { REPO } from '../support/gateway-process.js';

interface Reference {
  inputs: Record<string, number[][]>;
  outputs: Record<string, { dims: number[]; data: number[] }>;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

describe.each(FIXTURES)('$name', (f) => {
  it('computes what PyTorch computed, padding rows included (within 1e-4)', async () => {
    const ref = JSON.parse(await readFile(path.join(REPO, 'test/fixtures/export-builder/reference', `${f.name}.json`), 'utf8')) as Reference;
    const session = await ort.InferenceSession.create(path.join(EXPORTS, f.name, f.subfolder, `${f.fp32}.onnx`));
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, rows] of Object.entries(ref.inputs)) {
        feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
      }
      expect([...session.inputNames].sort()).toEqual(Object.keys(ref.inputs).sort());
      const out = await session.run(feeds);
      for (const [name, expected] of Object.entries(ref.outputs)) {
        const got = out[name]!;
        expect([...got.dims]).toEqual(expected.dims);
        const data = got.data as Float32Array;
        let diff = 0;
        expected.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - data[i]!))));
        expect(diff, name).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await session.release();
    }
  });

  it('is small enough to commit (under 400 KiB with its int8 variant)', async () => {
    expect(await folderBytes(path.join(EXPORTS, f.name))).toBeLessThan(400 * 1024);
  });
});
