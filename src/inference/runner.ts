// The contract between the scheduler and whatever runs a model: worker threads with onnxruntime
// sessions today (or the main thread, or later a remote server). A runner takes one call at a time
// per slot: ragged token ids in, one row of post-processed output per text out. Padding, the graph
// and post-processing (softmax, pooling) all happen on the runner's side, off the event loop.

/** Texts of one call as they leave the tokenizer: every text's ids one after another. */
export interface CallInput {
  ids: Int32Array;
  /** Ids per text (rows of the call). */
  lengths: Int32Array;
}

/**
 * What the runner does with a graph's output, fixed per model at load. `output`: the graph output it
 * reads, chosen from the graph's outputs by outputFor() when the session opens.
 */
export type PostProcess =
  /** Classification: softmax over `labels` logits per row. */
  | { kind: 'softmax'; output?: string; labels: number }
  /** Embedding: pooled over the tokens of each row (mean with the mask, first token, or already pooled). */
  | { kind: 'pool'; output?: string; pooling: 'mean' | 'cls' | 'none'; dimensions: number };

/** Output names, in order of preference, that hold what a post-process needs (Optimum export names). */
const OUTPUTS = {
  softmax: ['logits'],
  tokens: ['last_hidden_state', 'token_embeddings'],
  pooled: ['sentence_embedding', 'pooler_output', 'embeddings'],
};

/** The graph output `post` reads: a known name, or the graph's only output. Throws naming both lists. */
export function outputFor(post: PostProcess, names: readonly string[]): string {
  if (post.output !== undefined) {
    if (names.includes(post.output)) return post.output;
    throw new Error(`graph has no output ${post.output} (it has ${names.join(', ')})`);
  }
  const [wanted, what] =
    post.kind === 'softmax' ? [OUTPUTS.softmax, 'logits'] : post.pooling === 'none' ? [OUTPUTS.pooled, 'a pooled embedding'] : [OUTPUTS.tokens, 'token embeddings'];
  const hit = wanted.find((w) => names.includes(w));
  if (hit) return hit;
  if (names.length === 1) return names[0]!;
  throw new Error(`graph has no output holding ${what} (looked for ${wanted.join(', ')}; it has ${names.join(', ')})`);
}

export interface CallOutput {
  /** rows x width floats: probabilities (in label order) or pooled vectors (not normalised). */
  values: Float32Array;
  width: number;
  /** Embedding: the L2 norm of each row's vector. */
  norms?: Float32Array;
  /** Time the call took where it ran (padding, graph, post-processing): what the cost model learns from. */
  computeMs: number;
}

export interface ModelRunner {
  /** Graph input and output names, as the graph declares them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The graph output the post-processing reads. */
  readonly output: string;
  /** Execution provider in use (after any fallback). */
  readonly executionProvider: string;
  /** Calls it can run at once now (live workers); 0 while none is. */
  readonly capacity: number;
  /** How it was set up (workers, threads each), for logs. */
  readonly shape: { workers: number; threads: number };
  /** Called when capacity grows (a worker replaced), so that waiting work can start. */
  onCapacity: (() => void) | undefined;
  /**
   * Runs one call on a free slot. The timeout starts when the slot starts the call; a slot that
   * overruns is replaced. Rejects with CallTimeoutError, or the error the graph raised.
   */
  run(input: CallInput): Promise<CallOutput>;
  /** Round trip of an empty message to a slot, in ms (the hand-off part of every call's cost). */
  ping(): Promise<number>;
  close(): Promise<void>;
}

export class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}
