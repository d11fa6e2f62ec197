// One model call on an onnxruntime session, as a worker thread (or the main thread, with no workers)
// runs it: ragged ids padded into the int64 matrices the graph takes, the graph run, and its output
// post-processed into one row per text. Everything here is per-call CPU work kept off the event loop.
import * as ort from 'onnxruntime-node';
import type { CallInput, CallOutput, PostProcess, ProbeResult } from '../runner.js';

/** Transformer inputs the gateway knows how to fill, by their Hugging Face export names. */
export const FEEDABLE_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/**
 * Right-padded [rows, sequence] int64 matrix of `input` (ids, or 1 where `mask`). Written through an
 * Int32Array view of the int64 buffer: ids are small non-negative numbers, so the low word (the first,
 * little-endian: every build onnxruntime-node ships, as the cache's codec.ts assumes too) is the id and
 * the high word stays 0, without a BigInt per element.
 */
function fill(input: CallInput, sequence: number, value: 'ids' | 'mask', padId: number): BigInt64Array {
  const rows = input.lengths.length;
  const out = new BigInt64Array(rows * sequence);
  const words = new Int32Array(out.buffer);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const n = input.lengths[r]!;
    const base = 2 * r * sequence;
    if (value === 'ids') {
      for (let i = 0; i < n; i++) words[base + 2 * i] = input.ids[at + i]!;
      if (padId !== 0) for (let i = n; i < sequence; i++) words[base + 2 * i] = padId;
    } else {
      for (let i = 0; i < n; i++) words[base + 2 * i] = 1;
    }
    at += n;
  }
  return out;
}

function longest(input: CallInput): number {
  let sequence = 0;
  for (let r = 0; r < input.lengths.length; r++) sequence = Math.max(sequence, input.lengths[r]!);
  return sequence;
}

/** The graph's inputs for `input`, filled by name. */
function feedsOf(session: ort.InferenceSession, input: CallInput, sequence: number, padId: number): Record<string, ort.Tensor> {
  const rows = input.lengths.length;
  const dims = [rows, sequence];
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const data =
      name === 'input_ids' ? fill(input, sequence, 'ids', padId) : name === 'attention_mask' ? fill(input, sequence, 'mask', 0) : new BigInt64Array(rows * sequence);
    feeds[name] = new ort.Tensor('int64', data, dims);
  }
  return feeds;
}

/** One call, post-processed into rows. `post.output` must be resolved (outputFor). */
export async function runCall(session: ort.InferenceSession, post: Required<PostProcess>, padId: number, input: CallInput): Promise<CallOutput> {
  const started = performance.now();
  const rows = input.lengths.length;
  const sequence = longest(input);
  const result = await session.run(feedsOf(session, input, sequence, padId), [post.output]);
  const tensor = result[post.output]!;
  if (tensor.type !== 'float32') throw new Error(`output ${post.output} is ${tensor.type}, expected float32`);
  const out = post.kind === 'softmax' ? softmaxRows(tensor, rows, post) : poolRows(tensor, rows, sequence, input.lengths, post);
  tensor.dispose();
  return { ...out, computeMs: performance.now() - started };
}

/** One call, reporting only the raw shape of `output` (how a folder's spec is fitted to its graph). */
export async function probeCall(session: ort.InferenceSession, output: string, padId: number, input: CallInput): Promise<ProbeResult> {
  const started = performance.now();
  const result = await session.run(feedsOf(session, input, longest(input), padId), [output]);
  const tensor = result[output]!;
  const dims = [...tensor.dims];
  tensor.dispose();
  return { dims, computeMs: performance.now() - started };
}

function softmaxRows(t: ort.Tensor, rows: number, post: Required<Extract<PostProcess, { kind: 'softmax' }>>) {
  const width = post.labels;
  if (t.dims.length !== 2 || t.dims[0] !== rows || t.dims[1] !== width) {
    throw new Error(`${post.output} has dims [${t.dims}], expected [${rows}, ${width}]`);
  }
  const logits = t.data as Float32Array;
  const values = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let max = -Infinity;
    for (let i = 0; i < width; i++) max = Math.max(max, logits[base + i]!);
    let sum = 0;
    for (let i = 0; i < width; i++) sum += values[base + i] = Math.exp(logits[base + i]! - max);
    for (let i = 0; i < width; i++) values[base + i]! /= sum;
  }
  return { values, width };
}

function poolRows(t: ort.Tensor, rows: number, sequence: number, lengths: Int32Array, post: Required<Extract<PostProcess, { kind: 'pool' }>>) {
  const width = post.dimensions;
  const rank = post.pooling === 'none' ? 2 : 3;
  if (t.dims.length !== rank || t.dims[0] !== rows || t.dims[rank - 1] !== width || (rank === 3 && t.dims[1] !== sequence)) {
    throw new Error(`${post.output} has dims [${t.dims}], expected ${rank === 3 ? `[${rows}, ${sequence}, ${width}]` : `[${rows}, ${width}]`}`);
  }
  const data = t.data as Float32Array;
  const values = new Float32Array(rows * width);
  const norms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const out = r * width;
    if (post.pooling === 'none') {
      values.set(data.subarray(r * width, (r + 1) * width), out);
    } else if (post.pooling === 'cls') {
      const base = r * sequence * width;
      values.set(data.subarray(base, base + width), out);
    } else {
      // Mean over the row's real tokens (rows are right-padded: the first `lengths[r]` positions).
      const n = lengths[r]!;
      for (let s = 0; s < n; s++) {
        const base = (r * sequence + s) * width;
        for (let h = 0; h < width; h++) values[out + h]! += data[base + h]!;
      }
      if (n > 0) for (let h = 0; h < width; h++) values[out + h]! /= n;
    }
    let sum = 0;
    for (let h = 0; h < width; h++) sum += values[out + h]! * values[out + h]!;
    norms[r] = Math.sqrt(sum);
  }
  return { values, width, norms };
}
