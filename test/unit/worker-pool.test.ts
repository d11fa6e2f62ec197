// The worker-thread runner on real ONNX graphs: same answers as the main thread, calls timed from
// when a worker starts them, and a pool that stays whole when workers overrun or die.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRunner } from '../../src/inference/onnx/local-runner.js';
import { WorkerPool } from '../../src/inference/onnx/worker-pool.js';
import { CallTimeoutError, type CallInput, type PostProcess } from '../../src/inference/runner.js';
import { REPO } from '../support/gateway-process.js';
import { ONNX_FIXTURES } from '../support/model-repo.js';
import { SETTINGS } from '../support/runners.js';
import { until } from '../support/wait.js';

const softmax: PostProcess = { kind: 'softmax', labels: 2 };
const tiny = path.join(ONNX_FIXTURES, 'tiny-classifier.onnx');
const slow = path.join(ONNX_FIXTURES, 'slow-classifier.onnx');

/** Ragged rows as a call. */
const call = (rows: number[][]): CallInput => ({ ids: Int32Array.from(rows.flat()), lengths: Int32Array.from(rows.map((r) => r.length)) });
const rows = [[2, 4, 5, 3], [2, 4, 3], [2, 3]];

function open(file: string, size: number, timeoutMs = 10_000, post = softmax) {
  const restarts: string[] = [];
  const pool = WorkerPool.open(file, SETTINGS, size, { nice: 0, timeoutMs, warn: () => undefined, onRestart: (r) => restarts.push(r) }).then(async (p) => {
    await p.configure(post, 0);
    return p;
  });
  return { pool, restarts };
}

describe('WorkerPool', () => {
  it('answers exactly as the main thread does, padding and softmax included, on every worker', async () => {
    const local = await LocalRunner.open(tiny, SETTINGS, () => undefined);
    await local.configure(softmax, 0);
    const { pool: opening } = open(tiny, 2);
    const pool = await opening;
    try {
      expect(pool.capacity).toBe(2);
      expect(pool.output).toBe('logits');
      const expected = await local.run(call(rows));
      // The tiny graph's logits are [0.1 n, -0.1 n] for n real tokens: padding must not count.
      expect(expected.values[0]! / expected.values[1]!).toBeCloseTo(Math.exp(0.8), 5);
      for (let round = 0; round < 5; round++) {
        const [a, b] = await Promise.all([pool.run(call(rows)), pool.run(call(rows))]);
        for (const out of [a!, b!]) {
          expect(out.width).toBe(2);
          expect(Array.from(out.values)).toEqual(Array.from(expected.values));
          expect(out.computeMs).toBeGreaterThan(0);
        }
      }
    } finally {
      await Promise.all([local.close(), pool.close()]);
    }
  });

  it('mean-pools only the real tokens: a text alone and beside a longer one gives the same vector', async () => {
    const glove = path.join(REPO, 'models/glove-embed-100d/onnx/model.onnx');
    const post: PostProcess = { kind: 'pool', pooling: 'mean', dimensions: 100 };
    const { pool: opening } = open(glove, 1, 10_000, post);
    const pool = await opening;
    try {
      const alone = await pool.run(call([[5, 6, 7]]));
      const beside = await pool.run(call([[5, 6, 7], [8, 9, 10, 11, 12, 13]]));
      expect(Array.from(beside.values.subarray(0, 100))).toEqual(Array.from(alone.values));
      let sum = 0;
      for (const x of alone.values) sum += x * x;
      expect(alone.norms![0]).toBeCloseTo(Math.sqrt(sum), 5);
    } finally {
      await pool.close();
    }
  });

  it('fails a call that overruns its timeout, timed from its start, and replaces the worker without killing it mid-call', async () => {
    const { pool: opening, restarts } = open(slow, 2, 300);
    const pool = await opening;
    try {
      const started = performance.now();
      // An id of 10 or more makes the slow graph spin for a second or two.
      const error = await pool.run(call([[2, 11, 3]])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallTimeoutError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(299);
      expect(restarts).toEqual(['timeout']);
      expect(pool.restarts).toEqual({ died: 0, timeout: 1 });
      // The overrun thread is still inside onnxruntime: retired, not terminated (that would abort the process).
      expect(pool.stuck).toBe(1);
      await until(() => pool.capacity === 2, 'the replacement worker', 20_000, 20);
      expect((await pool.run(call([[2, 3]]))).values).toHaveLength(2);
      await until(() => pool.stuck === 0, 'the overrun call to return and its thread to stop', 20_000, 20);
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker whose thread dies, configured like the one it replaces', async () => {
    const { pool: opening, restarts } = open(tiny, 2, 60_000);
    const pool = await opening;
    try {
      // The thread ends (as after an uncaught error or out of memory in it).
      const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
      await workers[0]!.worker.terminate();
      await until(() => restarts.length === 1, 'the death to be noticed', 20_000, 20);
      expect(restarts).toEqual(['died']);
      await until(() => pool.capacity === 2, 'the replacement worker', 20_000, 20);
      const [a, b] = await Promise.all([pool.run(call(rows)), pool.run(call(rows))]);
      expect(Array.from(a!.values)).toEqual(Array.from(b!.values));
    } finally {
      await pool.close();
    }
  });

  it('on close, lets the call in progress finish and answer, then stops every thread', async () => {
    const { pool: opening } = open(slow, 1, 60_000);
    const pool = await opening;
    const held = pool.run(call([[2, 11, 3]]));
    await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    expect((await held).values).toHaveLength(2);
    await expect(pool.run(call([[2]]))).rejects.toThrow(/closed/);
  });

  it('refuses to start when the model cannot be loaded, naming the problem', async () => {
    await expect(WorkerPool.open(path.join(ONNX_FIXTURES, 'missing.onnx'), SETTINGS, 2, { nice: 0, timeoutMs: 100, warn: () => undefined })).rejects.toThrow(
      /missing\.onnx|Load model|file/i,
    );
  });
});
