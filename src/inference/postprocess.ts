// Model outputs -> answers: softmax, pooling and normalisation, in plain typed-array code.

/** Numerically stable softmax of one row of logits. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/**
 * Mean of the token vectors of row `b` of a [batch, sequence, hidden] tensor, counting only positions
 * whose attention mask is 1 (padding never moves the result).
 */
export function meanPool(
  hidden: Float32Array,
  mask: BigInt64Array,
  b: number,
  sequence: number,
  width: number,
): Float32Array {
  const out = new Float32Array(width);
  let count = 0;
  for (let s = 0; s < sequence; s++) {
    if (mask[b * sequence + s] === 0n) continue;
    count++;
    const base = (b * sequence + s) * width;
    for (let h = 0; h < width; h++) out[h]! += hidden[base + h]!;
  }
  if (count > 0) for (let h = 0; h < width; h++) out[h]! /= count;
  return out;
}

/** The first token's vector of row `b` ([CLS] pooling). */
export function clsPool(hidden: Float32Array, b: number, sequence: number, width: number): Float32Array {
  const base = b * sequence * width;
  return hidden.slice(base, base + width);
}

export function l2Norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}

/** Scales to unit length; an all-zero vector (e.g. only unknown words) stays zero. */
export function l2Normalize(v: Float32Array): Float32Array {
  const n = l2Norm(v);
  if (n === 0) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}
