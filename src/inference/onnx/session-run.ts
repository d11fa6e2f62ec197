// One onnxruntime call on a padded batch: the inputs the graph declares, filled by name, and float32
// outputs. Shared by the in-process backend and the worker threads.
import * as ort from 'onnxruntime-node';
import type { OutputTensor } from '../backend.js';

export interface BatchTensors {
  batch: number;
  sequence: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

export async function runSession(
  session: ort.InferenceSession,
  batch: BatchTensors,
  outputs: readonly string[],
): Promise<Record<string, OutputTensor>> {
  const dims = [batch.batch, batch.sequence];
  const byName: Record<string, BigInt64Array> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) feeds[name] = new ort.Tensor('int64', byName[name]!, dims);
  const result = await session.run(feeds, [...outputs]);
  const out: Record<string, OutputTensor> = {};
  for (const name of outputs) {
    const t = result[name]!;
    if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
    out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
  }
  return out;
}
