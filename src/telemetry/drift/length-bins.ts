// Token-length bins as the gateway can observe them. A truncated text only tells us "at least
// maxTokens", so every baseline bin at or above maxTokens is merged into one open-ended bin, and
// live lengths are bucketed the same way; comparing finer bins would report truncation as drift.
import type { Baseline } from '../../inference/model-spec.js';

/** model.json's baseline token-length histogram. */
export type TokenLengthBaseline = NonNullable<Baseline['tokenLength']>;

export interface LengthBins {
  /** Lower edge of each bin; the last bin is open-ended and starts at `cut`. */
  readonly lower: readonly number[];
  /** Baseline share per bin, summing to 1. */
  readonly base: readonly number[];
  /** Lengths at or above this are indistinguishable: min(maxTokens, last baseline edge). */
  readonly cut: number;
}

/**
 * The baseline regrouped into bins below `cut` plus one open bin [cut, inf). A baseline bin that
 * straddles the cut is split in proportion to its width on either side (lengths assumed spread evenly
 * inside a bin). Undefined when the baseline is malformed or leaves fewer than two bins.
 */
export function collapseLengthBins(baseline: TokenLengthBaseline, maxTokens: number): LengthBins | undefined {
  const { edges, share } = baseline;
  const n = edges.length;
  if (n < 2 || share.length !== n) return undefined;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(edges[i]) || (i > 0 && edges[i]! <= edges[i - 1]!)) return undefined;
    if (!(share[i]! >= 0)) return undefined;
  }
  // Past the last edge the baseline itself has one open bin, so nothing finer can be compared.
  const cut = Math.min(maxTokens, edges[n - 1]!);
  const lower: number[] = [];
  const base: number[] = [];
  let open = 0;
  for (let i = 0; i < n; i++) {
    const lo = edges[i]!;
    const s = share[i]!;
    const hi = i + 1 < n ? edges[i + 1]! : Infinity;
    if (lo >= cut) {
      open += s;
    } else if (hi <= cut) {
      lower.push(lo);
      base.push(s);
    } else {
      const below = (s * (cut - lo)) / (hi - lo);
      lower.push(lo);
      base.push(below);
      open += s - below;
    }
  }
  lower.push(cut);
  base.push(open);
  const total = base.reduce((a, b) => a + b, 0);
  if (lower.length < 2 || !(total > 0)) return undefined;
  return { lower, base: base.map((b) => b / total), cut };
}

/** Bin of one answered text; lengths below the first edge count in the first bin. */
export function lengthBin(bins: LengthBins, length: number, truncated: boolean): number {
  const last = bins.lower.length - 1;
  if (truncated || !(length < bins.cut)) return last;
  for (let i = last - 1; i > 0; i--) if (length >= bins.lower[i]!) return i;
  return 0;
}
