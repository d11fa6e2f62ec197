// Whether a lone call (every worker idle) should run on the solo session (every core) or on a
// worker's own session (its share of the cores). More threads pay off for a big model and for long
// inputs; for a small model or a short input their hand-offs can cost more than they save. Start-up
// timing can be skewed by whatever else the machine did then, so the choice follows what lone calls
// really cost each way, per input size (powers of two of padded tokens), trying the way not preferred
// now and then to keep both measurements fresh.

/** Solo must take at most this share of a worker's time: measured alone it looks better than it will be. */
export const SOLO_MIN_GAIN = 0.85;
/**
 * ...and save at least this much per call: the solo session's threads spin between runs, which costs
 * the rest of the request more than a tiny model's call can gain (measured: 0.3 ms embedding calls).
 */
export const SOLO_MIN_SAVING_MS = 0.25;
/** Every this many lone calls of a size, one runs the way not preferred. */
const EXPLORE_EVERY = 32;
/** Weight of the newest call in each running average. */
const ALPHA = 0.2;

interface Bucket {
  solo: number;
  narrow: number;
  calls: number;
}

const bucketOf = (tokens: number) => Math.max(0, Math.floor(Math.log2(Math.max(1, tokens))));

export class SoloChoice {
  private readonly buckets = new Map<number, Bucket>();

  /** Timings of one size, measured at start-up (best of several runs each way). */
  seed(tokens: number, narrowMs: number, soloMs: number): void {
    this.buckets.set(bucketOf(tokens), { solo: soloMs / tokens, narrow: narrowMs / tokens, calls: 0 });
  }

  /** Whether solo is preferred for calls of this size (a size not measured both ways takes the nearest that is). */
  prefers(tokens: number): boolean {
    const b = this.nearest(bucketOf(tokens));
    return b ? preferred(b, tokens) : false;
  }

  /** The way to run the next lone call of this size: the preferred one, or one that needs measuring. */
  choose(tokens: number): boolean {
    const key = bucketOf(tokens);
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { solo: Number.NaN, narrow: Number.NaN, calls: 0 }));
    b.calls++;
    // Measured one way only: measure the other, so that this size is judged on its own timings.
    if (Number.isNaN(b.solo) !== Number.isNaN(b.narrow)) return Number.isNaN(b.solo);
    return this.prefers(tokens) !== (b.calls % EXPLORE_EVERY === 0);
  }

  observe(tokens: number, solo: boolean, ms: number): void {
    const b = this.buckets.get(bucketOf(tokens));
    if (!b) return;
    const key = solo ? 'solo' : 'narrow';
    const rate = ms / tokens;
    b[key] = Number.isNaN(b[key]) ? rate : b[key] + ALPHA * (rate - b[key]);
  }

  private nearest(key: number): Bucket | undefined {
    let best: Bucket | undefined;
    let distance = Number.POSITIVE_INFINITY;
    for (const [k, b] of this.buckets) {
      if (Math.abs(k - key) < distance && !Number.isNaN(b.solo) && !Number.isNaN(b.narrow)) {
        best = b;
        distance = Math.abs(k - key);
      }
    }
    return best;
  }
}

function preferred(b: Bucket, tokens: number): boolean {
  // Nothing measured yet: a worker's own session, the way calls run under load.
  if (Number.isNaN(b.solo) || Number.isNaN(b.narrow)) return false;
  return b.solo < SOLO_MIN_GAIN * b.narrow && (b.narrow - b.solo) * tokens >= SOLO_MIN_SAVING_MS;
}
