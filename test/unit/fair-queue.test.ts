import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/scheduler/fair-queue.js';

const drain = <T>(q: FairQueue<T>) => {
  const out: T[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
  return out;
};

describe('FairQueue', () => {
  it('is first in, first out for one client', () => {
    const q = new FairQueue<number>(10, 100);
    for (let i = 0; i < 5; i++) q.push('a', i, 3);
    expect(drain(q)).toEqual([0, 1, 2, 3, 4]);
    expect(q.size).toBe(0);
  });

  it("serves a newcomer's item within one turn of a flooding client's work", () => {
    const q = new FairQueue<string>(100, 10_000);
    for (let i = 0; i < 1000; i++) q.push('flood', `f${i}`, 50);
    q.push('polite', 'p0', 50);
    const order = drain(q);
    // A turn is 100 tokens of work: at most two flood items go before the polite one.
    expect(order.indexOf('p0')).toBeLessThanOrEqual(2);
  });

  it('shares work, not items: a client of long texts gets as many tokens as one of short texts', () => {
    const q = new FairQueue<{ c: string; cost: number }>(128, 10_000);
    for (let i = 0; i < 200; i++) q.push('long', { c: 'long', cost: 128 }, 128);
    for (let i = 0; i < 2000; i++) q.push('short', { c: 'short', cost: 8 }, 8);
    const served = { long: 0, short: 0 };
    // Take the first 3,200 tokens of work.
    let work = 0;
    while (work < 3200) {
      const item = q.shift()!;
      served[item.c as 'long' | 'short'] += item.cost;
      work += item.cost;
    }
    expect(Math.abs(served.long - served.short)).toBeLessThanOrEqual(256);
  });

  it('when full, drops the newest item of the heaviest client for a lighter one, and refuses the heaviest', () => {
    const q = new FairQueue<string>(10, 4);
    for (const x of ['a1', 'a2', 'a3', 'a4']) expect(q.push('a', x, 1)).toBeUndefined();
    expect(q.push('a', 'a5', 1)).toEqual({ item: 'a5', reason: 'full' });
    expect(q.push('b', 'b1', 1)).toEqual({ item: 'a4', reason: 'full' });
    expect(q.size).toBe(4);
    expect(drain(q).sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
  });

  it('drops expired items from the front of each client', () => {
    const q = new FairQueue<{ id: string; dead: boolean }>(10, 100);
    q.push('a', { id: 'a1', dead: true }, 1);
    q.push('a', { id: 'a2', dead: false }, 1);
    q.push('a', { id: 'a3', dead: true }, 1); // behind a live one: stays until it reaches the front
    q.push('b', { id: 'b1', dead: true }, 1);
    const removed: string[] = [];
    q.dropFront((x) => {
      if (x.dead) removed.push(x.id);
      return x.dead;
    });
    expect(removed.sort()).toEqual(['a1', 'b1']);
    expect(q.size).toBe(2);
    expect(q.clientCount).toBe(1);
    expect(drain(q).map((x) => x.id)).toEqual(['a2', 'a3']);
  });

  it('refuses a quantum or capacity that cannot work', () => {
    expect(() => new FairQueue(0, 1)).toThrow(RangeError);
    expect(() => new FairQueue(1, 0)).toThrow(RangeError);
  });
});

describe('FairQueue give-back', () => {
  it('takes items back to the front of their clients, in order, with their cost refunded', () => {
    const q = new FairQueue<string>(10, 100);
    for (const x of ['a1', 'a2', 'a3']) q.push('a', x, 4);
    q.push('b', 'b1', 4);
    const taken = [q.shift()!, q.shift()!, q.shift()!];
    // Give back all but the first, last taken first.
    for (const x of taken.slice(1).reverse()) q.unshift(x.startsWith('a') ? 'a' : 'b', x, 4);
    expect(q.size).toBe(3);
    const rest: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) rest.push(x);
    expect(rest.filter((x) => x.startsWith('a'))).toEqual(['a2', 'a3']);
    expect(rest.sort()).toEqual(['a2', 'a3', 'b1']);
  });
});
