// The worker-thread backend gives the same answers as an in-process session and spreads runs over
// its workers. (Needs the compiled worker script: `npm test` builds first.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/inference/onnx/onnx-backend.js';
import { WorkerPoolBackend } from '../../src/inference/onnx/worker-pool-backend.js';
import { padBatch } from '../../src/inference/tensors.js';
import { ONNX_FIXTURES } from '../support/model-repo.js';

const file = path.join(ONNX_FIXTURES, 'tiny-classifier.onnx');
const settings = { ORT_EXECUTION_PROVIDERS: ['cpu' as const], ORT_GRAPH_OPTIMIZATION: 'all' as const, ORT_INTRA_OP_THREADS: 1, ORT_ALLOW_SPINNING: false };
const rows = [[2, 4, 5, 3], [2, 4, 3], [2, 3]];

describe('WorkerPoolBackend', () => {
  it('answers exactly as the in-process backend, for many concurrent runs', async () => {
    const local = await OnnxBackend.open(file, settings, () => undefined);
    const pool = await WorkerPoolBackend.open(file, settings, 2, () => undefined);
    try {
      expect(pool.inputNames).toEqual(local.inputNames);
      expect(pool.size).toBe(2);
      const { outputs: expected } = await local.run(padBatch(rows, 0), ['logits']);
      const runs = await Promise.all(Array.from({ length: 20 }, () => pool.run(padBatch(rows, 0), ['logits'])));
      for (const { outputs: out, computeMs } of runs) {
        expect(computeMs).toBeGreaterThan(0);
        expect(out.logits!.dims).toEqual([3, 2]);
        expect(Array.from(out.logits!.data)).toEqual(Array.from(expected.logits!.data));
      }
      expect(pool.idleWorkers).toBe(2);
    } finally {
      await Promise.all([local.close(), pool.close()]);
    }
  });

  it('runs lone calls solo only once solo has measured faster, and concurrent ones on the workers, with equal answers', async () => {
    const pool = await WorkerPoolBackend.open(file, settings, 2, () => undefined, { soloThreads: 2 });
    try {
      const size = rows.length * Math.max(...rows.map((r) => r.length));
      // Nothing measured yet: a lone call runs on a worker's own session, like calls under load.
      const { outputs: alone } = await pool.run(padBatch(rows, 0), ['logits']);
      expect(pool.soloRuns).toBe(0);
      await pool.tune(() => padBatch(rows, 0), ['logits']);
      // Six calls queued at once: none of them is alone, so none runs solo.
      const together = await Promise.all(Array.from({ length: 6 }, () => pool.run(padBatch(rows, 0), ['logits'])));
      expect(pool.soloRuns).toBe(0);
      for (const { outputs, solo } of together) {
        expect(solo).toBeUndefined();
        expect(Array.from(outputs.logits!.data)).toEqual(Array.from(alone.logits!.data));
      }
      // After tuning, a lone call goes the way the measurements prefer; either way the answer is the same.
      const expectSolo = pool.usesSolo(size);
      const lone = await pool.run(padBatch(rows, 0), ['logits']);
      expect(lone.solo).toBe(expectSolo);
      expect(pool.soloRuns).toBe(expectSolo ? 1 : 0);
      expect(Array.from(lone.outputs.logits!.data)).toEqual(Array.from(alone.logits!.data));
    } finally {
      await pool.close();
    }
  });

  it('fails a run with a clear error and keeps serving', async () => {
    const pool = await WorkerPoolBackend.open(file, settings, 1, () => undefined);
    try {
      await expect(pool.run(padBatch(rows, 0), ['no_such_output'])).rejects.toThrow(/no_such_output/);
      const { outputs: ok } = await pool.run(padBatch(rows, 0), ['logits']);
      expect(ok.logits!.dims).toEqual([3, 2]);
    } finally {
      await pool.close();
    }
  });

  it('refuses a file onnxruntime cannot load', async () => {
    await expect(WorkerPoolBackend.open(path.join(ONNX_FIXTURES, 'make_fixtures.py'), settings, 1, () => undefined)).rejects.toThrow();
  });
});
