// The last `capacity` answers of one model as parallel typed-array rings: recording an answer writes a
// few numbers into preallocated slots and allocates nothing. Statistics are computed at scrape time.

export class AnswerWindow {
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
  /** Answers now in the window. */
  size = 0;
  /** Answers ever recorded: changes whenever the window does, so statistics can be cached on it. */
  seq = 0;
  private next = 0;

  constructor(readonly capacity: number) {
    this.lengthBin = new Uint16Array(capacity);
    this.unknownRatio = new Float64Array(capacity);
    this.topLabel = new Int16Array(capacity);
    this.confidence = new Float64Array(capacity);
    this.norm = new Float64Array(capacity);
  }

  /** The slot for a new answer, the oldest one once the window is full; the caller fills every array. */
  claim(): number {
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.size < this.capacity) this.size++;
    this.seq++;
    return slot;
  }
}
