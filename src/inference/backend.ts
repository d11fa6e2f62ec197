// The contract between the inference layer and whatever runs a graph: onnxruntime in-process today,
// worker threads or a remote server later, a fake in tests. Results come back in request order.
import type { PaddedBatch } from './tensors.js';

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface RunResult {
  outputs: Record<string, OutputTensor>;
  /** Time the graph itself ran, in ms: no queueing or hand-off (what the cost model learns from). */
  computeMs: number;
  /** Ran on a session with more threads than under load (a lone call): not timed like the others. */
  solo?: boolean;
}

export interface InferenceBackend {
  /** Names of the graph's inputs, as the graph declares them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Execution provider actually in use (after any fallback). */
  readonly executionProvider: string;
  /** `options.solo: false`: never on a solo session, even when alone (timings that must match load). */
  run(batch: PaddedBatch, outputs: readonly string[], options?: { solo?: boolean }): Promise<RunResult>;
  /**
   * Optional: pick between the backend's ways of running by timing a typical call (`probe` makes a
   * fresh batch each time). Called once at load, before any traffic; returns what it measured and chose.
   */
  tune?(probe: () => PaddedBatch, outputs: readonly string[]): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}
