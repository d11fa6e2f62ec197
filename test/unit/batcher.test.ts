import { describe, expect, it } from 'vitest';
import { AbandonedError, Batcher, type Capacity, type LaneSpec } from '../../src/batching/batcher.js';
import { OverloadedError } from '../../src/errors/errors.js';

/** A fake model call that records the batches it saw. */
function recorder(fail?: (key: number) => boolean, capacity?: Capacity): LaneSpec<number, number> & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    calls,
    keyOf: (k) => String(k),
    capacity,
    fn: async (keys) => {
      calls.push([...keys]);
      return keys.map((k) => (fail?.(k) ? new Error(`item ${k} failed`) : k * 10));
    },
  };
}

const opts = (o: Partial<{ maxBatchSize: number; maxDelayMs: number; maxQueue: number }> = {}) => ({
  maxBatchSize: 32,
  maxDelayMs: 1,
  maxQueue: 1000,
  ...o,
});

/** A controllable worker pool: `busy` workers hold capacity until released. */
function fakeCapacity(workers: number) {
  const listeners = new Set<() => void>();
  let idle = workers;
  return {
    get idleWorkers() {
      return idle;
    },
    onIdle(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    take() {
      idle--;
    },
    release() {
      idle++;
      for (const l of listeners) l();
    },
  };
}

describe('Batcher', () => {
  it('coalesces loads from separate callers into one call, answering each in order', async () => {
    const b = new Batcher(opts({ maxDelayMs: 5 }));
    const lane = recorder();
    const results = await Promise.all([1, 2, 3].map((k) => b.load('m', lane, k)));
    expect(results).toEqual([10, 20, 30]);
    expect(lane.calls).toEqual([[1, 2, 3]]);
    expect(b.stats).toMatchObject({ batches: 1, items: 3 });
  });

  it('splits at maxBatchSize and sends a full batch without waiting for the delay', async () => {
    const b = new Batcher(opts({ maxBatchSize: 2, maxDelayMs: 10_000 }));
    const lane = recorder();
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map((k) => b.load('m', lane, k)));
    expect(lane.calls).toEqual([[1, 2], [3, 4]]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps lanes apart', async () => {
    const b = new Batcher(opts());
    const a = recorder();
    const c = recorder();
    await Promise.all([b.load('a', a, 1), b.load('c', c, 2), b.load('a', a, 3)]);
    expect(a.calls).toEqual([[1, 3]]);
    expect(c.calls).toEqual([[2]]);
  });

  it('fails only the failing item', async () => {
    const b = new Batcher(opts());
    const lane = recorder((k) => k === 2);
    const settled = await Promise.allSettled([1, 2, 3].map((k) => b.load('m', lane, k)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('rejects every item when the whole call throws, leaving none hanging', async () => {
    const b = new Batcher(opts());
    const lane: LaneSpec<number, number> = {
      keyOf: String,
      fn: async () => {
        throw new Error('backend down');
      },
    };
    const settled = await Promise.allSettled([1, 2].map((k) => b.load('m', lane, k)));
    expect(settled.every((s) => s.status === 'rejected' && /backend down/.test(String(s.reason)))).toBe(true);
  });

  it('answers each item as its own promise settles, not when the whole batch is done', async () => {
    const b = new Batcher(opts());
    const gates = new Map<number, () => void>();
    const lane: LaneSpec<number, number> = {
      keyOf: String,
      fn: (keys) => keys.map((k) => new Promise<number>((resolve, reject) => gates.set(k, () => (k === 3 ? reject(new Error('three')) : resolve(k * 10))))),
    };
    const order: string[] = [];
    const loads = [1, 2, 3].map((k) => b.load('m', lane, k).then((v) => order.push(`ok ${v}`), (e: Error) => order.push(e.message)));
    await new Promise((r) => setTimeout(r, 5));
    expect(gates.size).toBe(3);
    gates.get(2)!();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['ok 20']);
    gates.get(3)!();
    gates.get(1)!();
    await Promise.all(loads);
    expect(order).toEqual(['ok 20', 'three', 'ok 10']);
    expect(b.depths()).toEqual({ m: 0 });
  });

  it('waits up to maxDelayMs for more items', async () => {
    const b = new Batcher(opts({ maxDelayMs: 40 }));
    const lane = recorder();
    const first = b.load('m', lane, 1);
    await new Promise((r) => setTimeout(r, 5));
    const second = b.load('m', lane, 2);
    await Promise.all([first, second]);
    expect(lane.calls).toEqual([[1, 2]]);
  });

  it('computes identical items in flight once', async () => {
    const b = new Batcher(opts());
    const lane = recorder();
    const results = await Promise.all([b.load('m', lane, 7), b.load('m', lane, 7), b.load('m', lane, 8)]);
    expect(results).toEqual([70, 70, 80]);
    expect(lane.calls).toEqual([[7, 8]]);
    expect(b.stats.deduplicated).toBe(1);
  });

  it('fails fast with OVERLOADED when the lane is full, and recovers when it drains', async () => {
    const b = new Batcher(opts({ maxQueue: 2, maxDelayMs: 5 }));
    const lane = recorder();
    const accepted = [b.load('m', lane, 1), b.load('m', lane, 2)];
    await expect(b.load('m', lane, 3)).rejects.toBeInstanceOf(OverloadedError);
    expect(b.stats.rejected).toBe(1);
    await Promise.all(accepted);
    expect(await b.load('m', lane, 3)).toBe(30);
  });

  it('drops items whose clients have all gone away before dispatch', async () => {
    const b = new Batcher(opts({ maxDelayMs: 20 }));
    const lane = recorder();
    const gone = new AbortController();
    const dropped = b.load('m', lane, 1, gone.signal);
    const kept = b.load('m', lane, 2, new AbortController().signal);
    gone.abort();
    await expect(dropped).rejects.toBeInstanceOf(AbandonedError);
    expect(await kept).toBe(20);
    expect(lane.calls).toEqual([[2]]);
    expect(b.stats.abandoned).toBe(1);
  });

  it('holds a due batch while every worker is busy, letting it grow, and sends it when one frees', async () => {
    const cap = fakeCapacity(1);
    cap.take();
    const b = new Batcher(opts({ maxDelayMs: 1 }));
    const lane = recorder(undefined, cap);
    const first = b.load('m', lane, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(lane.calls).toEqual([]);
    const second = b.load('m', lane, 2);
    cap.release();
    await Promise.all([first, second]);
    expect(lane.calls).toEqual([[1, 2]]);
  });
});
