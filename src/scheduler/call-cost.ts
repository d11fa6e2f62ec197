// What one model call costs, learnt from the calls the model really makes: time ~ fixed + perToken x
// padded tokens (rows x longest row). The fixed part is what batching amortises (launching a run,
// kernel set-up, hand-off); the per-token part is what padding wastes. Their ratio decides whether
// two texts of different lengths should share a call: on a GPU the fixed part dominates and batches
// grow large; on a CPU for a big model the per-token part dominates and texts run alone.
//
// Fitted by least squares over an exponentially decaying window of observations, on top of a few
// calibration calls made at load time that never decay, so that the fit stays defined when live
// traffic is all of one size. Two guards keep a noisy machine from skewing it: a call far slower
// than the fit predicts (the thread was preempted) counts as at most twice the prediction, and the
// fixed part never reads below `minFixedMs`, the hand-off cost of a call measured at load: a fixed
// cost read near zero would cut every batch into one text per call.

export interface CostEstimate {
  /** Milliseconds per call whatever its size. */
  fixedMs: number;
  /** Milliseconds per padded token. */
  perTokenMs: number;
}

interface Sums {
  n: number;
  x: number;
  xx: number;
  y: number;
  xy: number;
}

const empty = (): Sums => ({ n: 0, x: 0, xx: 0, y: 0, xy: 0 });

export class CallCost {
  private readonly prior = empty();
  private readonly live = empty();
  private readonly decay: number;
  private fit: CostEstimate | undefined;

  /**
   * @param halfLife observations after which a live observation counts half.
   * @param minFixedMs the least fixed cost per call the estimate may report (see above).
   */
  constructor(
    halfLife = 500,
    public minFixedMs = 0,
  ) {
    this.decay = Math.pow(0.5, 1 / halfLife);
  }

  /** A calibration call: kept for good, weighted as `weight` live calls. */
  calibrate(paddedTokens: number, ms: number, weight = 4): void {
    add(this.prior, paddedTokens, ms, weight);
    this.fit = undefined;
  }

  /** A call the model made. */
  observe(paddedTokens: number, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const fit = this.estimate;
    if (fit) ms = Math.min(ms, 2 * (fit.fixedMs + fit.perTokenMs * paddedTokens));
    const s = this.live;
    s.n *= this.decay;
    s.x *= this.decay;
    s.xx *= this.decay;
    s.y *= this.decay;
    s.xy *= this.decay;
    add(s, paddedTokens, ms, 1);
    this.fit = undefined;
  }

  /** The current fit; undefined until calls of at least two sizes have been seen. */
  get estimate(): CostEstimate | undefined {
    this.fit ??= solve(this.prior, this.live);
    if (this.fit && this.fit.fixedMs < this.minFixedMs) return { ...this.fit, fixedMs: this.minFixedMs };
    return this.fit;
  }
}

function add(s: Sums, x: number, y: number, w: number): void {
  s.n += w;
  s.x += w * x;
  s.xx += w * x * x;
  s.y += w * y;
  s.xy += w * x * y;
}

function solve(a: Sums, b: Sums): CostEstimate | undefined {
  const n = a.n + b.n;
  const x = a.x + b.x;
  const xx = a.xx + b.xx;
  const y = a.y + b.y;
  const xy = a.xy + b.xy;
  const det = n * xx - x * x;
  // All calls of one size (or none): the split between fixed and per-token cost is unknown.
  if (n <= 0 || det <= 1e-9 * n * xx) return undefined;
  let perTokenMs = (n * xy - x * y) / det;
  let fixedMs = (y - perTokenMs * x) / n;
  // Noise can push a coefficient below zero; neither can be, so refit the other through the origin.
  if (perTokenMs <= 0) return { fixedMs: y / n, perTokenMs: 0 };
  if (fixedMs < 0) {
    fixedMs = 0;
    perTokenMs = xy / xx;
  }
  return { fixedMs, perTokenMs };
}
