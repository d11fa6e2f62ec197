// The scheduler against a runner the test controls: every call waits until the test answers it, so
// what is batched, in which order, and what fails when, is decided by the test, not by timing.
import { describe, expect, it } from 'vitest';
import { ClientGoneError, OverloadedError } from '../../src/errors/errors.js';
import type { CallInput, CallOutput, ModelRunner } from '../../src/inference/runner.js';
import { CallCost } from '../../src/scheduler/call-cost.js';
import { ModelScheduler, type CallGuard, type SchedulerOptions } from '../../src/scheduler/model-scheduler.js';

interface HeldCall {
  /** Each row's first id: the tests tag texts by it. */
  tags: number[];
  lengths: number[];
  answer(): void;
  fail(e: Error): void;
}

class HeldRunner implements ModelRunner {
  readonly inputNames = ['input_ids'];
  readonly outputNames = ['logits'];
  readonly output = 'logits';
  readonly executionProvider = 'cpu';
  readonly shape = { workers: 1, threads: 1 };
  onCapacity: (() => void) | undefined;
  readonly calls: HeldCall[] = [];
  private running = 0;
  constructor(public capacity: number) {}

  run(input: CallInput): Promise<CallOutput> {
    if (this.running >= this.capacity) throw new Error('scheduler ran more calls than the capacity');
    this.running++;
    const lengths = [...input.lengths];
    const tags: number[] = [];
    let at = 0;
    for (const n of lengths) {
      tags.push(input.ids[at]!);
      at += n;
    }
    return new Promise((resolve, reject) => {
      const done = () => this.running--;
      this.calls.push({
        tags,
        lengths,
        // Row r answers [tag, -tag].
        answer: () => {
          done();
          resolve({ values: Float32Array.from(tags.flatMap((t) => [t, -t])), width: 2, computeMs: 1 });
        },
        fail: (e) => {
          done();
          reject(e);
        },
      });
    });
  }

  async ping(): Promise<number> {
    return 0;
  }

  probe(): Promise<never> {
    throw new Error('not used by the scheduler');
  }

  async configure(): Promise<void> {}

  async close(): Promise<void> {}

  /** Lets the scheduler react (it starts calls a microtask after texts are submitted). */
  static async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

const passThrough: CallGuard = { execute: (call) => call() };

function scheduler(runner: HeldRunner, options: Partial<SchedulerOptions> = {}, cost = new CallCost()) {
  return new ModelScheduler('m', runner, passThrough, cost, {
    maxBatchSize: 8,
    maxQueue: 100,
    maxDelayMs: 0,
    maxBatchTokens: 10_000,
    maxPaddingRatio: Number.POSITIVE_INFINITY,
    quantum: 16,
    ...options,
  });
}

/** A text tagged `tag` (its first id) of `length` tokens. */
const ids = (tag: number, length = 4) => Int32Array.from({ length }, (_, i) => (i === 0 ? tag : 1));
const later = () => performance.now() + 60_000;
/** Fixed cost dominant: every batch stays one call. */
const batchingCost = () => {
  const c = new CallCost();
  c.calibrate(1, 10);
  c.calibrate(1000, 11);
  return c;
};

describe('ModelScheduler', () => {
  it('runs a lone text at once, then batches what queued while the runner was busy', async () => {
    const runner = new HeldRunner(1);
    const s = scheduler(runner, {}, batchingCost());
    const first = s.submit({ ids: ids(1), client: 'a', deadline: later() });
    await HeldRunner.settle();
    expect(runner.calls.map((c) => c.tags)).toEqual([[1]]);
    const rest = [2, 3, 4].map((t) => s.submit({ ids: ids(t), client: 'a', deadline: later() }));
    await HeldRunner.settle();
    expect(runner.calls).toHaveLength(1); // busy: the three wait
    expect(s.depth).toBe(4);
    runner.calls[0]!.answer();
    expect(Array.from((await first).values)).toEqual([1, -1]);
    await HeldRunner.settle();
    expect(runner.calls[1]!.tags).toEqual([2, 3, 4]);
    runner.calls[1]!.answer();
    expect((await Promise.all(rest)).map((r) => r.values[0])).toEqual([2, 3, 4]);
    expect(s.stats).toMatchObject({ calls: 2, items: 4 });
    expect(s.depth).toBe(0);
  });

  it('never puts more than maxBatchSize texts in a call', async () => {
    const runner = new HeldRunner(1);
    const s = scheduler(runner, { maxBatchSize: 3 }, batchingCost());
    const all = Array.from({ length: 7 }, (_, i) => s.submit({ ids: ids(i + 1), client: 'a', deadline: later() }));
    for (let i = 0; i < 3; i++) {
      await HeldRunner.settle();
      runner.calls[i]!.answer();
    }
    await Promise.all(all);
    expect(runner.calls.map((c) => c.tags.length)).toEqual([3, 3, 1]);
  });

  it('cuts a batch by the learnt cost: padding-heavy mixes split when per-token cost dominates', async () => {
    const runner = new HeldRunner(1);
    const perToken = new CallCost();
    perToken.calibrate(10, 1);
    perToken.calibrate(1000, 100); // ~0.1 ms per token, no fixed cost
    const s = scheduler(runner, {}, perToken);
    const blocker = s.submit({ ids: ids(9), client: 'a', deadline: later() });
    await HeldRunner.settle();
    const texts = [
      s.submit({ ids: ids(1, 4), client: 'a', deadline: later() }),
      s.submit({ ids: ids(2, 100), client: 'a', deadline: later() }),
      s.submit({ ids: ids(3, 4), client: 'a', deadline: later() }),
    ];
    runner.calls[0]!.answer();
    await blocker;
    for (let i = 1; i <= 2; i++) {
      await HeldRunner.settle();
      runner.calls[i]!.answer();
    }
    await Promise.all(texts);
    // The two short texts share a call; the long one runs alone.
    expect(runner.calls.slice(1).map((c) => c.tags.sort())).toEqual([[1, 3], [2]]);
  });

  it("gives a polite client's text a turn ahead of a flooding client's backlog", async () => {
    const runner = new HeldRunner(1);
    const s = scheduler(runner, { maxBatchSize: 2, quantum: 8 }, batchingCost());
    const flood = Array.from({ length: 40 }, (_, i) => s.submit({ ids: ids(100 + i), client: 'flood', deadline: later() }));
    await HeldRunner.settle();
    const polite = s.submit({ ids: ids(7), client: 'polite', deadline: later() });
    await HeldRunner.settle();
    let served = 0;
    for (let i = 0; !runner.calls.some((c) => c.tags.includes(7)); i++) {
      runner.calls[i]!.answer();
      served += runner.calls[i]!.tags.length;
      await HeldRunner.settle();
    }
    // One call was running when it came, one more may have been cut already; then its turn.
    expect(served).toBeLessThanOrEqual(4);
    runner.calls.at(-1)!.answer();
    expect((await polite).values[0]).toBe(7);
    while (runner.calls.length < 100 && s.depth > 0) {
      runner.calls.at(-1)!.answer();
      await HeldRunner.settle();
    }
    expect((await Promise.all(flood)).length).toBe(40);
  });

  it('does not hold a newcomer behind calls cut before it came: each free slot looks at the queue again', async () => {
    const runner = new HeldRunner(1);
    const perToken = new CallCost();
    perToken.calibrate(10, 1);
    perToken.calibrate(1000, 100); // per-token cost only: texts of different lengths run alone
    const s = scheduler(runner, { maxBatchSize: 8, quantum: 8 }, perToken);
    const flood = [4, 20, 40, 60, 80, 100, 120, 126].map((n, i) => s.submit({ ids: ids(100 + i, n), client: 'flood', deadline: later() }));
    await HeldRunner.settle();
    expect(runner.calls).toHaveLength(1);
    const polite = s.submit({ ids: ids(7, 4), client: 'polite', deadline: later() });
    await HeldRunner.settle();
    let i = 0;
    while (!runner.calls.some((c) => c.tags.includes(7))) {
      runner.calls[i++]!.answer();
      await HeldRunner.settle();
    }
    // The flood's window was cut into eight calls; the polite text goes within the next two.
    expect(runner.calls.findIndex((c) => c.tags.includes(7))).toBeLessThanOrEqual(2);
    while (s.depth > 0) {
      runner.calls.at(-1)!.answer();
      await HeldRunner.settle();
    }
    await Promise.all([...flood, polite]);
  });

  it('drops texts whose client went away before they run, and never sends them to the model', async () => {
    const runner = new HeldRunner(1);
    const s = scheduler(runner);
    const busy = s.submit({ ids: ids(1), client: 'a', deadline: later() });
    await HeldRunner.settle();
    const gone = new AbortController();
    const left = s.submit({ ids: ids(2), client: 'b', signal: gone.signal, deadline: later() });
    const stays = s.submit({ ids: ids(3), client: 'b', deadline: later() });
    gone.abort();
    runner.calls[0]!.answer();
    await busy;
    await expect(left).rejects.toBeInstanceOf(ClientGoneError);
    await HeldRunner.settle();
    expect(runner.calls.flatMap((c) => c.tags)).toEqual([1, 3]);
    runner.calls[1]!.answer();
    await stays;
    expect(s.stats.abandoned).toBe(1);
  });

  it('fails a text at its deadline even when no worker ever frees up (a pool with no workers)', async () => {
    const runner = new HeldRunner(0);
    const s = scheduler(runner);
    const started = performance.now();
    const text = s.submit({ ids: ids(1), client: 'a', deadline: performance.now() + 50 });
    const error = await text.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as OverloadedError).details.retryAfterMs).toBeGreaterThan(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    expect(runner.calls).toHaveLength(0);
    expect(s.stats.expired).toBe(1);
    expect(s.depth).toBe(0);
  });

  it('starts waiting work when the runner regains capacity (a worker replaced)', async () => {
    const runner = new HeldRunner(0);
    const s = scheduler(runner);
    const text = s.submit({ ids: ids(5), client: 'a', deadline: later() });
    await HeldRunner.settle();
    expect(runner.calls).toHaveLength(0);
    runner.capacity = 1;
    runner.onCapacity!();
    await HeldRunner.settle();
    runner.calls[0]!.answer();
    expect((await text).values[0]).toBe(5);
  });

  it("fails only the texts of a call that failed (a worker that died), and keeps serving", async () => {
    const runner = new HeldRunner(2);
    const s = scheduler(runner, { maxBatchSize: 1 });
    const a = s.submit({ ids: ids(1), client: 'a', deadline: later() });
    const b = s.submit({ ids: ids(2), client: 'a', deadline: later() });
    await HeldRunner.settle();
    runner.calls[0]!.fail(new Error('inference worker exited with code 1'));
    runner.calls[1]!.answer();
    await expect(a).rejects.toThrow(/exited/);
    expect((await b).values[0]).toBe(2);
    const c = s.submit({ ids: ids(3), client: 'a', deadline: later() });
    await HeldRunner.settle();
    runner.calls[2]!.answer();
    expect((await c).values[0]).toBe(3);
  });

  it('on close, lets the running call finish and fails what had not started', async () => {
    const runner = new HeldRunner(1);
    const s = scheduler(runner, { maxBatchSize: 1 });
    const running = s.submit({ ids: ids(1), client: 'a', deadline: later() });
    const queued = s.submit({ ids: ids(2), client: 'a', deadline: later() });
    await HeldRunner.settle();
    s.close();
    await expect(queued).rejects.toBeInstanceOf(OverloadedError);
    await expect(s.submit({ ids: ids(3), client: 'a', deadline: later() })).rejects.toBeInstanceOf(OverloadedError);
    runner.calls[0]!.answer();
    expect((await running).values[0]).toBe(1);
    expect(runner.calls).toHaveLength(1);
  });

  it('refuses the newest text of the heaviest client when full, with a retry hint', async () => {
    const runner = new HeldRunner(0);
    const s = scheduler(runner, { maxQueue: 3 });
    const heavy = [1, 2, 3].map((t) => s.submit({ ids: ids(t), client: 'heavy', deadline: later() }));
    const light = s.submit({ ids: ids(4), client: 'light', deadline: later() });
    const pushedOut = await heavy[2]!.catch((e: unknown) => e);
    expect(pushedOut).toBeInstanceOf(OverloadedError);
    expect((pushedOut as OverloadedError).details.retryAfterMs).toBeGreaterThan(0);
    expect(s.stats.rejected).toBe(1);
    s.close();
    await Promise.allSettled([...heavy, light]);
  });

  it('runs every call through the guard (the breaker)', async () => {
    const runner = new HeldRunner(1);
    let guarded = 0;
    const guard: CallGuard = {
      execute: (call) => {
        guarded++;
        return call();
      },
    };
    const s = new ModelScheduler('m', runner, guard, new CallCost(), { maxBatchSize: 1, maxQueue: 10, maxDelayMs: 0, maxBatchTokens: 100, maxPaddingRatio: Infinity, quantum: 8 });
    const texts = [1, 2].map((t) => s.submit({ ids: ids(t), client: 'a', deadline: later() }));
    for (let i = 0; i < 2; i++) {
      await HeldRunner.settle();
      runner.calls[i]!.answer();
    }
    await Promise.all(texts);
    expect(guarded).toBe(2);
  });
});
