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

/** Output names, in order of preference, that hold what each task needs (Optimum export names). */
export const CLASSIFICATION_OUTPUTS = ['logits'];
export const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings'];
export const POOLED_OUTPUTS = ['sentence_embedding', 'pooler_output', 'embeddings'];

/** The graph output `post` reads: a known name, or the graph's only output. Throws naming both lists. */
export function outputFor(post: PostProcess, names: readonly string[]): string {
  if (post.output !== undefined) {
    if (names.includes(post.output)) return post.output;
    throw new Error(`graph has no output ${post.output} (it has ${names.join(', ')})`);
  }
  const [wanted, what] =
    post.kind === 'softmax' ? [CLASSIFICATION_OUTPUTS, 'logits'] : post.pooling === 'none' ? [POOLED_OUTPUTS, 'a pooled embedding'] : [TOKEN_OUTPUTS, 'token embeddings'];
  const hit = wanted.find((w) => names.includes(w));
  if (hit) return hit;
  if (names.length === 1) return names[0]!;
  throw new Error(`graph has no output holding ${what} (looked for ${wanted.join(', ')}; it has ${names.join(', ')})`);
}

/** `post` with its graph output resolved among `names` (outputFor): what a session runs calls with. */
export function resolvePost(post: PostProcess, names: readonly string[]): Required<PostProcess> {
  return { ...post, output: outputFor(post, names) } as Required<PostProcess>;
}

/** Texts' ids (e.g. straight from the tokenizer) as one call takes them: one after another, and their lengths. */
export function packRows(rows: readonly Int32Array[]): CallInput {
  let total = 0;
  for (const row of rows) total += row.length;
  const ids = new Int32Array(total);
  const lengths = new Int32Array(rows.length);
  let at = 0;
  rows.forEach((row, i) => {
    ids.set(row, at);
    lengths[i] = row.length;
    at += row.length;
  });
  return { ids, lengths };
}

/** The sequence length timing calls use: the model's usual length, up to 128 tokens (at least 2). */
export function typicalSequence(maxTokens: number): number {
  return Math.max(2, Math.min(maxTokens, 128));
}

/** The median of `n` (odd) measurements in ms, taken one after another. */
export async function medianMs(n: number, measure: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await measure());
  return times.sort((a, b) => a - b)[n >> 1]!;
}

/**
 * How long `call` computes: the median of five runs after an untimed first one (allocation on the
 * first use of a shape does not count, nor does one slow run on a busy machine).
 */
export async function medianComputeMs(call: () => Promise<{ computeMs: number }>): Promise<number> {
  await call();
  return medianMs(5, async () => (await call()).computeMs);
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

/** The raw shape of one graph output for a probe call, and how long the call took. */
export interface ProbeResult {
  dims: readonly number[];
  computeMs: number;
}

/**
 * A runner opens in two steps: open the graph (its inputs and outputs can be read, and probe calls
 * show an output's raw shape, which is how a folder's spec is fitted to its graph), then configure
 * the post-processing; only then does it run calls.
 */
export interface ModelRunner {
  /** Graph input and output names, as the graph declares them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The graph output the post-processing reads (once configured). */
  readonly output: string | undefined;
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
  /** Runs `input` (padded with `padId`) and reports the raw shape of `output`: no post-processing. */
  probe(input: CallInput, output: string, padId: number): Promise<ProbeResult>;
  /** Sets what calls compute from the graph's output (once, before the first run). */
  configure(post: PostProcess, padId: number): Promise<void>;
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
