// How one batch of texts becomes model calls: sorted by length, cut into sub-batches so that short
// texts do not pay for the padding of long ones and no call exceeds a token budget. On CPU a padded
// token costs as much as a real one, so padding waste is what batching must never buy.

export interface PaddingPolicy {
  /** Most padded tokens (rows x longest row) in one model call. */
  maxBatchTokens: number;
  /** Most padded tokens allowed per real token in a sub-batch, e.g. 1.25 = 25% padding. */
  maxPaddingRatio: number;
}

/**
 * Groups item indices into sub-batches. Items are taken shortest first; an item joins the current
 * sub-batch while the padded size stays within the budget and the padding ratio. Every item lands in
 * exactly one sub-batch; a single item longer than the budget gets a sub-batch of its own.
 */
export function planSubBatches(lengths: readonly number[], policy: PaddingPolicy): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const plan: number[][] = [];
  let current: number[] = [];
  let real = 0;
  for (const i of order) {
    const len = lengths[i]!;
    // Sorted ascending, so the newcomer is the longest row of the sub-batch it joins.
    const padded = (current.length + 1) * len;
    const fits = padded <= policy.maxBatchTokens && padded <= policy.maxPaddingRatio * (real + len);
    if (current.length > 0 && !fits) {
      plan.push(current);
      current = [];
      real = 0;
    }
    current.push(i);
    real += len;
  }
  if (current.length > 0) plan.push(current);
  return plan;
}
