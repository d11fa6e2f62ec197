// Runners for tests that load models without a gateway: in-process (LocalRunner) or worker threads.
import type { Model } from '../../src/inference/model.js';
import { LocalRunner } from '../../src/inference/onnx/local-runner.js';
import type { RunnerRequest } from '../../src/inference/onnx/open-runner.js';
import type { OnnxSettings } from '../../src/inference/onnx/session-options.js';
import { WorkerPool } from '../../src/inference/onnx/worker-pool.js';

export const SETTINGS: OnnxSettings = { ORT_EXECUTION_PROVIDERS: ['cpu'], ORT_GRAPH_OPTIMIZATION: 'all', ORT_INTRA_OP_THREADS: 1, ORT_ALLOW_SPINNING: false };

export const localRunner =
  (warn: (msg: string) => void = () => undefined) =>
  (r: RunnerRequest) =>
    LocalRunner.open(r.file, SETTINGS, warn);

export const poolRunner =
  (workers: number, timeoutMs = 10_000) =>
  (r: RunnerRequest) =>
    WorkerPool.open(r.file, SETTINGS, workers, { nice: 0, timeoutMs, warn: () => undefined });

/** Runs `texts` through `model` as one call (tokenized here), returning each text's output row. */
export async function runTexts(model: Model, texts: readonly string[]): Promise<Float32Array[]> {
  const encoded = texts.map((t) => model.encoder.encode(t).ids);
  const out = await model.runner.run({ ids: Int32Array.from(encoded.flatMap((ids) => [...ids])), lengths: Int32Array.from(encoded.map((ids) => ids.length)) });
  return encoded.map((_, r) => out.values.slice(r * out.width, (r + 1) * out.width));
}

/** Label -> probability of one classification row. */
export function byLabel(model: Model, row: Float32Array): Record<string, number> {
  if (model.spec.task !== 'classification') throw new Error('not a classifier');
  return Object.fromEntries(model.spec.labels.map((label, i) => [label, row[i]!]));
}
