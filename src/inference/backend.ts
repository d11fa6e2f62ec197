// The contract between the inference layer and whatever runs a graph: onnxruntime in-process today,
// worker threads or a remote server later, a fake in tests. Results come back in request order.
import type { PaddedBatch } from './tensors.js';

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface InferenceBackend {
  /** Names of the graph's inputs, as the graph declares them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Execution provider actually in use (after any fallback). */
  readonly executionProvider: string;
  run(batch: PaddedBatch, outputs: readonly string[]): Promise<Record<string, OutputTensor>>;
  close(): Promise<void>;
}
