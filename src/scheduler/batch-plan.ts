// How one batch of texts becomes model calls: sorted by length and cut into sub-batches so that the
// batch costs least in total, by the model's learnt cost (see call-cost.ts): texts share a call when
// the per-call cost saved is worth more than the padding the shorter ones pay. No call exceeds the
// token budget, and an optional padding ratio caps the waste outright.
import type { CostEstimate } from './call-cost.js';

export interface PaddingPolicy {
  /** Most padded tokens (rows x longest row) in one model call. */
  maxBatchTokens: number;
  /** Most padded tokens allowed per real token in a sub-batch, e.g. 1.25 = 25% padding; Infinity: no cap. */
  maxPaddingRatio: number;
}

/**
 * Groups item indices into sub-batches, each a run of neighbours in length order. With a cost
 * estimate the cut is the cheapest under it (exact, by dynamic programming over the sorted lengths);
 * without one, every item joins the longest group the budget and ratio allow. Every item lands in
 * exactly one sub-batch; a single item longer than the budget gets a sub-batch of its own. Groups come
 * in the order of their earliest item (items are given in arrival order), so that when they queue for
 * workers the batch stays first come, first served: shortest first would favour the median at the
 * cost of the long texts' tail latency.
 */
export function planSubBatches(lengths: readonly number[], policy: PaddingPolicy, cost?: CostEstimate): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const sorted = order.map((i) => lengths[i]!);
  const n = sorted.length;
  // best[j]: least cost of the first j sorted items; cut[j]: where the last group of that plan starts.
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  const fixed = cost?.fixedMs ?? 1;
  const perToken = cost?.perTokenMs ?? 0;
  for (let j = 1; j <= n; j++) {
    const longest = sorted[j - 1]!;
    best[j] = Number.POSITIVE_INFINITY;
    let real = 0;
    for (let i = j - 1; i >= 0; i--) {
      real += sorted[i]!;
      const rows = j - i;
      const padded = rows * longest;
      // Sorted ascending: taking one more (shorter) item only adds padding, so stop at the first misfit.
      if (rows > 1 && (padded > policy.maxBatchTokens || padded > policy.maxPaddingRatio * real)) break;
      const total = best[i]! + fixed + perToken * padded;
      if (total < best[j]!) {
        best[j] = total;
        cut[j] = i;
      }
    }
  }
  // Each group is a run of the sorted order; its earliest item is noted as it is cut out.
  const groups: { indices: number[]; earliest: number }[] = [];
  for (let j = n; j > 0; j = cut[j]!) {
    const indices = order.slice(cut[j]!, j);
    let earliest = indices[0]!;
    for (const i of indices) if (i < earliest) earliest = i;
    groups.push({ indices, earliest });
  }
  return groups.sort((a, b) => a.earliest - b.earliest).map((g) => g.indices);
}
