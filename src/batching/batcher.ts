// The cross-request batcher: one lane (a DataLoader) per model and operation, shared by every request
// in the process, so that texts arriving from different clients within a short window share one
// model call. DataLoader's own cache is off: caching results is the resilience layer's job.
//
// A lane's batch is dispatched when it is full, or when it has waited maxDelayMs and the backend has
// a free worker: while every worker is busy the batch keeps filling, which is what makes batches grow
// with load instead of queuing many small ones (continuous batching).
import DataLoader from 'dataloader';
import { ClientGoneError, OverloadedError } from '../errors/errors.js';

export interface BatchOptions {
  /** Most items in one call of the batch function. */
  maxBatchSize: number;
  /** How long a batch waits for more items before it is sent, in ms. */
  maxDelayMs: number;
  /** Most items a lane holds (waiting or computing); beyond it new items fail with OVERLOADED. */
  maxQueue: number;
}

/** What a lane asks of the backend to pace dispatch; without it batches go as soon as they are due. */
export interface Capacity {
  readonly idleWorkers: number;
  onIdle(listener: () => void): () => void;
}

export interface BatcherStats {
  /** Calls of batch functions (model calls before any sub-batching). */
  batches: number;
  /** Items those calls carried. */
  items: number;
  /** Items answered from an identical item already in flight. */
  deduplicated: number;
  /** Items dropped because every client waiting for them had gone away. */
  abandoned: number;
  /** Items refused because their lane was full. */
  rejected: number;
}

/**
 * A batch function answers each key with a value, an Error (that item fails alone), or a promise of
 * its own, so that items of one call can be answered as their parts finish. It may also return one
 * promise for the whole array; if that rejects, every item fails with its error.
 */
export type BatchFn<K, V> = (keys: readonly K[]) => Promise<(V | Error)[]> | Promise<V>[];

export interface LaneSpec<K, V> {
  fn: BatchFn<K, V>;
  /** Identity of an item: items with equal keys in flight together are computed once. */
  keyOf: (key: K) => string;
  capacity?: Capacity;
}

/** Every client waiting for this item has gone away (public code CLIENT_CLOSED_REQUEST). */
export class AbandonedError extends ClientGoneError {
  override name = 'AbandonedError';
}

interface Entry<K> {
  key: K;
  signals: AbortSignal[];
  queuedAt: number;
  /** What the observer wanted to remember of the caller (e.g. its trace context). */
  tag: unknown;
}

/** How telemetry watches batching without the batcher knowing about it. */
export interface BatchObserver {
  /** Called in the caller's context when an item is queued; the result travels with the item. */
  onEnqueue?(lane: string): unknown;
  /**
   * Called when a batch is sent to its model, with each item's tag and time in the queue. The batch
   * function runs inside `run` (e.g. in the batch's trace context); `end` is called when it finishes.
   */
  onDispatch?(lane: string, items: readonly { tag: unknown; waitedMs: number }[]): DispatchScope | void;
}

export interface DispatchScope {
  run<T>(fn: () => T): T;
  end(error?: unknown): void;
}

class Lane<K, V> {
  private readonly loader: DataLoader<Entry<K>, V>;
  private readonly inFlight = new Map<string, { entry: Entry<K>; promise: Promise<V> }>();
  /** Items in the batch that is filling now. */
  private filling = 0;
  private flushFilling: (() => void) | undefined;
  private readonly dueQueue: Array<() => void> = [];
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly name: string,
    private readonly spec: LaneSpec<K, V>,
    private readonly options: BatchOptions,
    private readonly stats: BatcherStats,
    private readonly observer: BatchObserver,
  ) {
    // An item may be answered with a promise of its value: DataLoader resolves the caller's promise
    // with it, which adopts it (see BatchFn).
    this.loader = new DataLoader<Entry<K>, V>((entries) => this.dispatch(entries), {
      cache: false,
      maxBatchSize: options.maxBatchSize,
      batchScheduleFn: (run) => this.schedule(run),
    });
  }

  get depth(): number {
    return this.inFlight.size;
  }

  load(key: K, signal?: AbortSignal): Promise<V> {
    const id = this.spec.keyOf(key);
    const same = this.inFlight.get(id);
    if (same) {
      this.stats.deduplicated++;
      if (signal) same.entry.signals.push(signal);
      else same.entry.signals.length = 0; // a waiter that cannot go away keeps the item alive
      return same.promise;
    }
    if (this.inFlight.size >= this.options.maxQueue) {
      this.stats.rejected++;
      return Promise.reject(
        new OverloadedError(`too many texts waiting for this model (${this.options.maxQueue}); retry later`, {
          limit: this.options.maxQueue,
        }),
      );
    }
    const entry: Entry<K> = {
      key,
      signals: signal ? [signal] : [],
      queuedAt: performance.now(),
      tag: this.observer.onEnqueue?.(this.name),
    };
    const promise = this.loader.load(entry);
    this.inFlight.set(id, { entry, promise });
    const forget = () => this.inFlight.delete(id);
    promise.then(forget, forget);
    // load() may have started a new batch (schedule ran synchronously and reset the count).
    if (++this.filling >= this.options.maxBatchSize) this.flushFilling?.();
    return promise;
  }

  private schedule(run: () => void): void {
    this.filling = 0;
    let due = false;
    const go = () => {
      if (due) return;
      due = true;
      clearTimeout(timer);
      if (this.flushFilling === go) this.flushFilling = undefined;
      this.whenCapacity(run);
    };
    // With no delay the batch still collects everything queued in this turn of the event loop, and
    // keeps filling for as long as every worker is busy.
    const timer = this.options.maxDelayMs > 0 ? setTimeout(go, this.options.maxDelayMs) : undefined;
    if (!timer) setImmediate(go);
    this.flushFilling = go;
  }

  /** Runs `run` now if the backend has a free worker (or no pacing), else when one frees up. */
  private whenCapacity(run: () => void): void {
    const capacity = this.spec.capacity;
    if (!capacity || (this.dueQueue.length === 0 && capacity.idleWorkers > 0)) return run();
    this.dueQueue.push(run);
    this.unsubscribe ??= capacity.onIdle(() => this.drainDue());
  }

  private drainDue(): void {
    const capacity = this.spec.capacity!;
    while (this.dueQueue.length > 0 && capacity.idleWorkers > 0) this.dueQueue.shift()!();
    if (this.dueQueue.length === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private async dispatch(entries: readonly Entry<K>[]): Promise<(V | Error)[]> {
    const live: number[] = [];
    const results: (V | Error)[] = entries.map((e, i) => {
      const gone = e.signals.length > 0 && e.signals.every((s) => s.aborted);
      if (!gone) live.push(i);
      return gone ? new AbandonedError() : (undefined as V);
    });
    this.stats.abandoned += entries.length - live.length;
    if (live.length === 0) return results;
    this.stats.batches++;
    this.stats.items += live.length;
    const now = performance.now();
    const scope = this.observer.onDispatch?.(
      this.name,
      live.map((i) => ({ tag: entries[i]!.tag, waitedMs: now - entries[i]!.queuedAt })),
    );
    const call = () => this.spec.fn(live.map((i) => entries[i]!.key));
    try {
      const out = scope ? scope.run(call) : call();
      if (Array.isArray(out)) {
        // Items settle on their own; the batch (its span) ends when the last one has.
        live.forEach((i, j) => (results[i] = out[j] as V));
        void Promise.allSettled(out).then((settled) => {
          const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
          scope?.end(failed?.reason);
        });
      } else {
        const values = await out;
        live.forEach((i, j) => (results[i] = values[j]!));
        scope?.end();
      }
    } catch (e) {
      // A failed call fails each of its items rather than leaving any waiter hanging.
      const error = e instanceof Error ? e : new Error(String(e));
      for (const i of live) results[i] = error;
      scope?.end(error);
    }
    return results;
  }
}

export class Batcher {
  private readonly lanes = new Map<string, Lane<unknown, unknown>>();
  readonly stats: BatcherStats = { batches: 0, items: 0, deduplicated: 0, abandoned: 0, rejected: 0 };

  constructor(
    private readonly options: BatchOptions,
    /** Set before the first load: lanes take the observer they find when they are created. */
    public observer: BatchObserver = {},
  ) {}

  /**
   * Queues `key` on `lane` (created on first use from `spec`) and resolves with its result. Items of
   * one lane must be batchable together: same model and same output-changing options.
   */
  load<K, V>(lane: string, spec: LaneSpec<K, V>, key: K, signal?: AbortSignal): Promise<V> {
    return this.lane(lane, spec).load(key, signal);
  }

  /** Items waiting or computing, per lane (queue depth). */
  depths(): Record<string, number> {
    return Object.fromEntries([...this.lanes].map(([name, lane]) => [name, lane.depth]));
  }

  private lane<K, V>(name: string, spec: LaneSpec<K, V>): Lane<K, V> {
    let lane = this.lanes.get(name) as Lane<K, V> | undefined;
    if (!lane) {
      lane = new Lane(name, spec, this.options, this.stats, this.observer);
      this.lanes.set(name, lane as Lane<unknown, unknown>);
    }
    return lane;
  }
}
