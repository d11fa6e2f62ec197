// One scheduler per model: the model's whole queue and the only place that decides what runs when.
// Texts (already tokenized) wait in a fair queue (one FIFO per client, deficit round robin priced
// in tokens); whenever the model's runner has a free slot, the next texts in fair order (up to
// maxBatchSize) are cut into calls by the model's learnt call cost (batch-plan.ts), the call holding
// the first of them starts, and the others go back to the queue: the next free slot looks again,
// with whatever arrived meanwhile, so a newcomer never waits behind calls cut before it came. Batches
// grow with load and shrink to one text when idle (continuous batching). Every text carries
// a deadline covering queue and compute, and the signal of the client waiting for it: texts whose
// client left are dropped before they are computed, texts past their deadline fail fast.
import { ClientGoneError, OverloadedError } from '../errors/errors.js';
import { medianComputeMs, medianMs, packRows, typicalSequence, type CallInput, type CallOutput, type ModelRunner } from '../inference/runner.js';
import { planSubBatches, type PaddingPolicy } from './batch-plan.js';
import type { CallCost } from './call-cost.js';
import { FairQueue } from './fair-queue.js';

export interface SchedulerOptions extends PaddingPolicy {
  /** Most texts considered together when cutting calls (and so most texts in one call). */
  maxBatchSize: number;
  /** Most texts waiting or computing; beyond it, longest-queue drop (see fair-queue.ts). */
  maxQueue: number;
  /** How long a batch may wait for more texts while a slot is free; 0: start at once. */
  maxDelayMs: number;
  /** Tokens a client may have computed per turn of the fair queue. */
  quantum: number;
}

/** Whether the clients waiting for a text have gone (an AbortSignal, or several combined). */
export interface AbortState {
  readonly aborted: boolean;
}

/** A text to run: its token ids and who is waiting for it. */
export interface TextJob {
  ids: Int32Array;
  /** Fair-share identity of the client (API key id or address). */
  client: string;
  /** Aborted when every client waiting for it has gone away. */
  signal?: AbortState | undefined;
  /** performance.now() by which it must have been answered (queue and compute). */
  deadline: number;
  /** What telemetry captured of the request it came from (e.g. its trace span); handed to onDispatch. */
  tag?: unknown;
}

/** One text's answer: its row of the call's output (a view: copy what you keep). */
export interface RowOutput {
  values: Float32Array;
  norm: number | undefined;
}

/** Runs one call under the model's breaker; what counts as the model failing is its business. */
export interface CallGuard {
  execute<T>(call: () => Promise<T>): Promise<T>;
}

export interface CallStats {
  rows: number;
  /** rows x longest row. */
  paddedTokens: number;
  /** Time the call computed where it ran (no queueing or hand-off). */
  seconds: number;
}

/** How telemetry watches the scheduler (the scheduler does not know telemetry). */
export interface SchedulerObserver {
  /** A call is starting: each text's tag and time in the queue; `end` is called when it finishes. */
  onDispatch?(items: readonly { tag: unknown; waitedMs: number }[]): DispatchScope | void;
  onCall?(call: CallStats): void;
}

export interface DispatchScope {
  end(outcome: { call?: CallStats; error?: unknown }): void;
}

export interface SchedulerStats {
  /** Model calls started. */
  calls: number;
  /** Texts those calls carried. */
  items: number;
  /** Texts dropped before computing because their clients had gone away. */
  abandoned: number;
  /** Texts that waited past their deadline. */
  expired: number;
  /** Texts refused (or pushed out) by a full queue. */
  rejected: number;
}

interface Item extends TextJob {
  queuedAt: number;
  resolve: (row: RowOutput) => void;
  reject: (e: Error) => void;
}

export class ModelScheduler {
  private readonly queue: FairQueue<Item>;
  private running = 0;
  /** Texts in running calls. */
  private computing = 0;
  private pumpQueued = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
  private closed = false;
  readonly stats: SchedulerStats = { calls: 0, items: 0, abandoned: 0, expired: 0, rejected: 0 };

  constructor(
    readonly model: string,
    private readonly runner: ModelRunner,
    private readonly guard: CallGuard,
    readonly cost: CallCost,
    private readonly options: SchedulerOptions,
    private readonly observer: SchedulerObserver = {},
  ) {
    for (const name of ['maxBatchSize', 'maxQueue', 'maxBatchTokens', 'quantum'] as const) {
      if (!(options[name] >= 1)) throw new RangeError(`scheduler ${name} must be >= 1, got ${options[name]}`);
    }
    this.queue = new FairQueue<Item>(options.quantum, options.maxQueue);
    runner.onCapacity = () => this.pump();
  }

  /** Texts waiting or computing (queue depth). */
  get depth(): number {
    return this.queue.size + this.computing;
  }

  /** Texts waiting for a slot (not computing yet). */
  get waiting(): number {
    return this.queue.size;
  }

  /** Queues one text; resolves with its row, or rejects (ClientGoneError, OverloadedError, the call's error). */
  submit(job: TextJob): Promise<RowOutput> {
    if (this.closed) return Promise.reject(new OverloadedError(`model "${this.model}" is shutting down`));
    return new Promise<RowOutput>((resolve, reject) => {
      const item: Item = { ...job, queuedAt: performance.now(), resolve, reject };
      const dropped = this.queue.push(job.client, item, job.ids.length);
      if (dropped) {
        this.stats.rejected++;
        dropped.item.reject(this.overloaded(`too many texts waiting for model "${this.model}" (${this.options.maxQueue})`));
      }
      this.armSweep(item.deadline);
      // Started once the caller has queued everything it submits now (a whole batch of texts).
      if (!this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      }
    });
  }

  /**
   * Times a few calls of typical shapes straight on the runner (before any traffic) to seed the
   * cost model, and the hand-off of an empty call, the floor of its fixed part. Returns the fit.
   */
  async calibrate(maxTokens: number): Promise<Record<string, number>> {
    const long = typicalSequence(maxTokens);
    // Fresh arrays for every call: a worker pool takes them over.
    const probe = (rows: number, sequence: number): CallInput => ({
      ids: new Int32Array(rows * sequence).fill(1),
      lengths: new Int32Array(rows).fill(sequence),
    });
    for (const [rows, sequence] of [
      [1, Math.min(8, long)],
      [1, long],
      [4, long],
    ] as const) {
      this.cost.calibrate(rows * sequence, await medianComputeMs(() => this.runner.run(probe(rows, sequence))));
    }
    this.cost.minFixedMs = await medianMs(9, () => this.runner.ping());
    const fit = this.cost.estimate;
    return { fixedMs: round(fit?.fixedMs ?? 0), perTokenMs: round(fit?.perTokenMs ?? 0), handOffMs: round(this.cost.minFixedMs) };
  }

  /** Fails every text not yet started; calls already running finish. */
  close(): void {
    this.closed = true;
    clearTimeout(this.delayTimer);
    clearTimeout(this.sweepTimer);
    const error = new OverloadedError(`model "${this.model}" is shutting down`);
    for (const item of this.queue.drain()) item.reject(error);
  }

  /** Starts calls while the runner has free slots and texts wait. */
  private pump(): void {
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    while (!this.closed && this.running < this.runner.capacity) {
      const call = this.nextCall();
      if (!call) break;
      this.start(call);
    }
  }

  /**
   * The next call: the next texts in fair order, cut by cost, the part holding the first of them;
   * the rest go back to the queue. Undefined when there is nothing to run (yet).
   */
  private nextCall(): Item[] | undefined {
    const { maxBatchSize, maxDelayMs } = this.options;
    if (this.queue.size === 0) return undefined;
    if (maxDelayMs > 0 && this.queue.size < maxBatchSize) {
      // Wait for more texts, up to maxDelayMs after the oldest one came.
      let oldest = Number.POSITIVE_INFINITY;
      for (const item of this.queue.fronts()) oldest = Math.min(oldest, item.queuedAt);
      const wait = oldest + maxDelayMs - performance.now();
      if (wait > 0) {
        this.delayTimer = setTimeout(() => this.pump(), wait);
        return undefined;
      }
    }
    const batch: Item[] = [];
    const now = performance.now();
    while (batch.length < maxBatchSize) {
      const item = this.queue.shift();
      if (!item) break;
      if (this.live(item, now)) batch.push(item);
    }
    if (batch.length === 0) return this.queue.size > 0 ? this.nextCall() : undefined;
    const plan = planSubBatches(
      batch.map((item) => item.ids.length),
      this.options,
      this.cost.estimate,
    );
    // Groups come in the order of their earliest text: the first holds the batch's first text.
    const first = plan[0]!;
    if (plan.length > 1) {
      const taken = new Uint8Array(batch.length);
      for (const i of first) taken[i] = 1;
      for (let i = batch.length - 1; i >= 0; i--) {
        if (!taken[i]) this.queue.unshift(batch[i]!.client, batch[i]!, batch[i]!.ids.length);
      }
    }
    return first.map((i) => batch[i]!);
  }

  private start(items: Item[]): void {
    this.running++;
    this.computing += items.length;
    this.stats.calls++;
    this.stats.items += items.length;
    const now = performance.now();
    const scope = this.observer.onDispatch?.(items.map((item) => ({ tag: item.tag, waitedMs: now - item.queuedAt })));
    const { input, longest } = pack(items);
    const paddedTokens = items.length * longest;
    this.guard.execute(() => this.runner.run(input)).then(
      (out: CallOutput) => {
        this.cost.observe(paddedTokens, out.computeMs);
        const call = { rows: items.length, paddedTokens, seconds: out.computeMs / 1000 };
        this.observer.onCall?.(call);
        this.finish(items, scope, { call });
        items.forEach((item, row) =>
          item.resolve({ values: out.values.subarray(row * out.width, (row + 1) * out.width), norm: out.norms?.[row] }),
        );
      },
      (error: unknown) => {
        this.finish(items, scope, { error });
        const e = error instanceof Error ? error : new Error(String(error));
        for (const item of items) item.reject(e);
      },
    );
  }

  private finish(items: Item[], scope: DispatchScope | void, outcome: { call?: CallStats; error?: unknown }): void {
    this.running--;
    this.computing -= items.length;
    scope?.end(outcome);
    this.pump();
  }

  /** False (and the text failed) when its client has gone or its deadline has passed. */
  private live(item: Item, now: number): boolean {
    if (item.signal?.aborted) {
      this.stats.abandoned++;
      item.reject(new ClientGoneError());
      return false;
    }
    if (now >= item.deadline) {
      this.stats.expired++;
      item.reject(this.overloaded(`waited ${Math.round(now - item.queuedAt)} ms for model "${this.model}" without being run`));
      return false;
    }
    return true;
  }

  /** Makes sure queued texts are failed at their deadline even when no slot frees up to notice. */
  private armSweep(deadline: number): void {
    if (deadline >= this.sweepAt) return;
    clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, deadline - performance.now()) + 1);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    this.queue.dropFront((item) => !this.live(item, now));
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.queue.fronts()) next = Math.min(next, item.deadline);
    if (next < Number.POSITIVE_INFINITY) this.armSweep(next);
  }

  /** OVERLOADED with a hint of when to retry: about the time the queue ahead takes to run. */
  private overloaded(message: string): OverloadedError {
    const fit = this.cost.estimate;
    const perText = fit ? fit.fixedMs / 4 + fit.perTokenMs * 64 : 5;
    const retryAfterMs = Math.min(30_000, Math.max(100, Math.ceil((this.depth * perText) / Math.max(1, this.runner.capacity))));
    return new OverloadedError(`${message}; retry later`, { retryAfterMs });
  }
}

/** The call's texts as the runner takes them (packRows), and the longest text's length. */
function pack(items: readonly Item[]): { input: CallInput; longest: number } {
  let longest = 0;
  const rows = items.map((item) => {
    longest = Math.max(longest, item.ids.length);
    return item.ids;
  });
  return { input: packRows(rows), longest };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
