// One servable model: its descriptor, its tokenizer and its backend, and the post-processing that
// turns raw outputs into answers. Knows nothing of GraphQL, batching or caching.
import type { Capacity } from '../batching/batcher.js';
import type { InferenceBackend, OutputTensor } from './backend.js';
import type { ClassificationSpec, EmbeddingSpec, ModelSpec, Task } from './model-spec.js';
import { clsPool, l2Normalize, meanPool, softmax } from './postprocess.js';
import { CallCost } from './call-cost.js';
import { planSubBatches, type PaddingPolicy } from './padding-plan.js';
import { padBatch, type PaddedBatch } from './tensors.js';
import type { EncodedText, TextEncoder } from './text-encoder.js';

export interface LabelScore {
  label: string;
  score: number;
}

export interface ClassifyOutput {
  /** All labels, highest score first; scores sum to 1. */
  scores: LabelScore[];
}

export interface EmbedOutput {
  /** Pooled vector before any normalisation. */
  vector: Float32Array;
}

/** Output names, in order of preference, that hold what each task needs (Optimum export names). */
export const CLASSIFICATION_OUTPUTS = ['logits'];
export const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings'];
export const POOLED_OUTPUTS = ['sentence_embedding', 'pooler_output', 'embeddings'];

export interface ModelCall {
  model: string;
  /** Texts in the call. */
  rows: number;
  /** rows x longest row. */
  paddedTokens: number;
  /** Time the graph ran (worker-side for a worker pool: no queueing or hand-off). */
  seconds: number;
}

/**
 * Wraps each model call, e.g. in a circuit breaker and timeout; a call that it fails fails the texts
 * of that call only.
 */
export type CallGuard = <T>(call: () => Promise<T>) => Promise<T>;

const unguarded: CallGuard = (call) => call();

/** Padding policy used when none is given: the whole batch in one call. */
export const NO_SPLIT: PaddingPolicy = { maxBatchTokens: Number.POSITIVE_INFINITY, maxPaddingRatio: Number.POSITIVE_INFINITY };

export abstract class Model {
  /** How batches are cut into model calls; set from configuration by the registry's owner. */
  padding: PaddingPolicy = NO_SPLIT;
  /** Told of every model call (one sub-batch); telemetry hooks in here, the model does not know it. */
  onCall: ((call: ModelCall) => void) | undefined;
  /** What a call of this model costs on this machine, learnt from its calls (drives the padding plan). */
  readonly cost = new CallCost();

  constructor(
    readonly name: string,
    readonly encoder: TextEncoder,
    protected readonly backend: InferenceBackend,
    /** The weights file in use, relative to the model folder. */
    readonly file: string,
  ) {}

  /** The backend, where it can pace the batcher (a worker pool); undefined for in-process sessions. */
  get capacity(): Capacity | undefined {
    const b = this.backend as Partial<Capacity>;
    return typeof b.idleWorkers === 'number' && typeof b.onIdle === 'function' ? (b as Capacity) : undefined;
  }

  /**
   * Seeds the cost model with timed calls of a few shapes (run twice each, the second timed, so that
   * allocation on first use of a shape does not count), then lets the backend tune itself.
   * Called once at load, after the warm-up; returns what was measured, for the log.
   */
  async calibrate(): Promise<Record<string, unknown> | undefined> {
    const long = Math.max(2, Math.min(this.spec.maxTokens, 128));
    const shapes: [rows: number, sequence: number][] = [
      [1, Math.min(8, long)],
      [1, long],
      [4, long],
    ];
    // Any ids do for timing; a fresh batch each run, since a worker backend takes over its memory.
    const probe = (rows: number, sequence: number) =>
      padBatch(Array.from({ length: rows }, () => new Array<number>(sequence).fill(this.encoder.padId)), this.encoder.padId);
    // Timed the way calls run under load: on a worker's own session.
    for (const [rows, sequence] of shapes) {
      let ms = 0;
      for (let i = 0; i < 2; i++) ms = (await this.backend.run(probe(rows, sequence), [this.outputName], { solo: false })).computeMs;
      this.cost.calibrate(rows * sequence, ms);
    }
    const tuned = await this.backend.tune?.(() => probe(1, long), [this.outputName]);
    return { ...tuned, ...this.cost.estimate };
  }

  /** The graph output this model reads. */
  protected abstract readonly outputName: string;

  /**
   * Runs `texts` as one or more padded calls (see padding-plan.ts), all started at once so that a
   * worker pool can spread them, and returns one promise per text that settles when that text's own
   * call is done: a short text does not wait for the long ones of its batch.
   */
  protected runEach<R>(
    texts: readonly EncodedText[],
    guard: CallGuard,
    read: (out: OutputTensor, batch: PaddedBatch, row: number) => R,
  ): Promise<R>[] {
    const results = new Array<Promise<R>>(texts.length);
    const plan = planSubBatches(
      texts.map((t) => t.ids.length),
      this.padding,
      this.cost.estimate,
    );
    for (const indices of plan) {
      const call = guard(async () => {
        const batch = padBatch(
          indices.map((i) => texts[i]!.ids),
          this.encoder.padId,
        );
        // Kept before the run: a worker backend takes over the tensors' memory.
        const view = { ...batch, attentionMask: batch.attentionMask.slice() };
        const { outputs, computeMs, solo } = await this.backend.run(batch, [this.outputName]);
        const paddedTokens = view.batch * view.sequence;
        // The plan cuts batches for calls under load; a lone call on every core would skew that.
        if (!solo) this.cost.observe(paddedTokens, computeMs);
        this.onCall?.({ model: this.name, rows: indices.length, paddedTokens, seconds: computeMs / 1000 });
        const out = outputs[this.outputName];
        if (!out) throw new Error(`model ${this.name}: no output ${this.outputName}`);
        return indices.map((_, row) => read(out, view, row));
      });
      indices.forEach((i, row) => (results[i] = call.then((rows) => rows[row]!)));
    }
    return results;
  }

  abstract readonly spec: ModelSpec;

  get task(): Task {
    return this.spec.task;
  }

  get version(): string {
    return this.spec.version;
  }

  get executionProvider(): string {
    return this.backend.executionProvider;
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

export class ClassificationModel extends Model {
  protected readonly outputName: string;

  constructor(
    name: string,
    readonly spec: ClassificationSpec,
    encoder: TextEncoder,
    backend: InferenceBackend,
    file: string,
  ) {
    super(name, encoder, backend, file);
    this.outputName = pickOutput(backend.outputNames, CLASSIFICATION_OUTPUTS, 'logits');
  }

  classify(texts: readonly EncodedText[]): Promise<ClassifyOutput[]> {
    return Promise.all(this.classifyEach(texts));
  }

  /** One promise per text, settling when its own call is done; `guard` wraps every call. */
  classifyEach(texts: readonly EncodedText[], guard: CallGuard = unguarded): Promise<ClassifyOutput>[] {
    const labels = this.spec.labels;
    return this.runEach(texts, guard, (logits, batch, b) => {
      if (logits.dims.length !== 2 || logits.dims[0] !== batch.batch || logits.dims[1] !== labels.length) {
        throw new Error(`model ${this.name}: ${this.outputName} has dims [${logits.dims}], expected [${batch.batch}, ${labels.length}]`);
      }
      const probs = softmax(logits.data.subarray(b * labels.length, (b + 1) * labels.length));
      const scores = labels.map((label, i) => ({ label, score: probs[i]! }));
      scores.sort((x, y) => y.score - x.score);
      return { scores };
    });
  }
}

export class EmbeddingModel extends Model {
  protected readonly outputName: string;
  private readonly pooled: boolean;

  constructor(
    name: string,
    readonly spec: EmbeddingSpec,
    encoder: TextEncoder,
    backend: InferenceBackend,
    file: string,
  ) {
    super(name, encoder, backend, file);
    const wanted = spec.pooling === 'none' ? POOLED_OUTPUTS : TOKEN_OUTPUTS;
    this.outputName = pickOutput(backend.outputNames, wanted, spec.pooling === 'none' ? 'a pooled embedding' : 'token embeddings');
    this.pooled = spec.pooling === 'none';
  }

  embed(texts: readonly EncodedText[]): Promise<EmbedOutput[]> {
    return Promise.all(this.embedEach(texts));
  }

  /** One promise per text, settling when its own call is done; `guard` wraps every call. */
  embedEach(texts: readonly EncodedText[], guard: CallGuard = unguarded): Promise<EmbedOutput>[] {
    const width = this.spec.dimensions;
    const rank = this.pooled ? 2 : 3;
    return this.runEach(texts, guard, (out, batch, b) => {
      if (out.dims.length !== rank || out.dims[0] !== batch.batch || out.dims[rank - 1] !== width) {
        throw new Error(`model ${this.name}: ${this.outputName} has dims [${out.dims}], expected ${rank} dims ending in ${width}`);
      }
      if (this.pooled) return { vector: out.data.slice(b * width, (b + 1) * width) };
      const vector =
        this.spec.pooling === 'cls'
          ? clsPool(out.data, b, batch.sequence, width)
          : meanPool(out.data, batch.attentionMask, b, batch.sequence, width);
      return { vector };
    });
  }

  /** The vector a client gets: unit length when asked. */
  static finish(vector: Float32Array, normalize: boolean): Float32Array {
    return normalize ? l2Normalize(vector) : vector;
  }
}

function pickOutput(names: readonly string[], wanted: readonly string[], what: string): string {
  const hit = wanted.find((w) => names.includes(w));
  if (hit) return hit;
  if (names.length === 1) return names[0]!;
  throw new Error(`graph has no output holding ${what} (looked for ${wanted.join(', ')}; it has ${names.join(', ')})`);
}
