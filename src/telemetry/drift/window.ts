// The last `capacity` answers of one model as parallel typed-array rings: recording an answer writes a
// few numbers into preallocated slots and allocates nothing. Statistics are computed at scrape time.

/** The slots of a ring of `capacity` entries kept in parallel typed arrays by a subclass. */
export class RingSlots {
  /** Entries now in the ring. */
  size = 0;
  /** Entries ever recorded: changes whenever the ring does, so statistics can be cached on it. */
  seq = 0;
  private next = 0;

  constructor(readonly capacity: number) {}

  /** The slot for a new entry, the oldest one once the ring is full; the caller fills every array. */
  claim(): number {
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.size < this.capacity) this.size++;
    this.seq++;
    return slot;
  }
}

/** Nearest-rank percentile of sorted values: always an observed value (1..100 gives p05 = 5, p95 = 95). */
export function nearestRank(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export class AnswerWindow extends RingSlots {
  /** Token-length bin (see length-bins.ts). */
  readonly lengthBin: Uint16Array;
  /** Unknown tokens / tokens read; NaN when not known (cache hits). */
  readonly unknownRatio: Float64Array;
  /** Index of the top label in the model's label list; -1 when none or not a known label. */
  readonly topLabel: Int16Array;
  /** Probability of the top label; NaN when not a classification. */
  readonly confidence: Float64Array;
  /** Embedding norm; NaN when not an embedding. */
  readonly norm: Float64Array;
  constructor(capacity: number) {
    super(capacity);
    this.lengthBin = new Uint16Array(capacity);
    this.unknownRatio = new Float64Array(capacity);
    this.topLabel = new Int16Array(capacity);
    this.confidence = new Float64Array(capacity);
    this.norm = new Float64Array(capacity);
  }
}
