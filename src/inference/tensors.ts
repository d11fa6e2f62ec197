// Token id lists -> the padded int64 matrices a transformer takes.

export interface PaddedBatch {
  batch: number;
  sequence: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

/** Right-pads every row to the longest one; mask 1 over real tokens, 0 over padding. */
export function padBatch(rows: readonly (readonly number[])[], padId: number): PaddedBatch {
  if (rows.length === 0) throw new RangeError('padBatch needs at least one row');
  const sequence = Math.max(...rows.map((r) => r.length));
  const size = rows.length * sequence;
  const inputIds = new BigInt64Array(size).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(size);
  rows.forEach((row, b) => {
    const base = b * sequence;
    for (let i = 0; i < row.length; i++) {
      inputIds[base + i] = BigInt(row[i]!);
      attentionMask[base + i] = 1n;
    }
  });
  return { batch: rows.length, sequence, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(size) };
}
