// A queue shared by many clients in which none can starve another: deficit round robin (DRR) over
// one FIFO per client, priced in the work an item costs (tokens, characters), so that a client
// sending 256-text batches and a client sending one short text a second each get their share of the
// model, not of the queue. When it is full, the newest item of the client holding the most is
// dropped to make room for a client holding less (longest-queue drop), so a flood cannot lock
// others out either.

export interface Dropped<T> {
  item: T;
  /** Why it left without being served. */
  reason: 'full';
}

class ClientQueue<T> {
  items: T[] = [];
  costs: number[] = [];
  head = 0;
  deficit = 0;
  constructor(readonly id: string) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T, cost: number): void {
    this.items.push(item);
    this.costs.push(cost);
  }

  /** Takes the front item (read its cost with peekCost() first). */
  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it be collected
    this.head++;
    // Compact now and then instead of shifting on every pop (O(1) amortised).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.costs = this.costs.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  pop(): T {
    this.costs.pop();
    return this.items.pop()!;
  }

  unshift(item: T, cost: number): void {
    if (this.head > 0) {
      this.head--;
      this.items[this.head] = item;
      this.costs[this.head] = cost;
    } else {
      this.items.unshift(item);
      this.costs.unshift(cost);
    }
  }

  peek(): T | undefined {
    return this.length > 0 ? this.items[this.head] : undefined;
  }

  peekCost(): number {
    return this.costs[this.head]!;
  }
}

export class FairQueue<T> {
  private readonly clients = new Map<string, ClientQueue<T>>();
  /** Clients with items, in round-robin order; `cursor` is whose turn it is. */
  private ring: ClientQueue<T>[] = [];
  private cursor = 0;
  private total = 0;

  /**
   * @param quantum work a client may take per turn (in the unit of the costs); at least the largest
   *   single item's cost keeps a turn from passing empty-handed more than once.
   * @param capacity most items held; beyond it, longest-queue drop.
   */
  constructor(
    private readonly quantum: number,
    private readonly capacity: number,
  ) {
    if (!(quantum > 0)) throw new RangeError(`FairQueue quantum must be > 0, got ${quantum}`);
    if (!(capacity >= 1)) throw new RangeError(`FairQueue capacity must be >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.total;
  }

  /** Clients with items waiting. */
  get clientCount(): number {
    return this.ring.length;
  }

  /**
   * Queues `item` for `client`. When full, makes room by dropping the newest item of the client
   * holding the most, if that client holds more than this one would; otherwise refuses the new item.
   * Returns what was dropped (the new item itself when refused), or undefined.
   */
  push(client: string, item: T, cost: number): Dropped<T> | undefined {
    let dropped: Dropped<T> | undefined;
    if (this.total >= this.capacity) {
      const mine = this.clients.get(client)?.length ?? 0;
      const heaviest = this.heaviest();
      if (!heaviest || heaviest.length <= mine + 1) return { item, reason: 'full' };
      dropped = { item: heaviest.pop(), reason: 'full' };
      this.total--;
      if (heaviest.length === 0) this.retire(heaviest);
    }
    let queue = this.clients.get(client);
    if (!queue) {
      queue = new ClientQueue<T>(client);
      this.clients.set(client, queue);
    }
    if (queue.length === 0) this.ring.push(queue);
    queue.push(item, cost);
    this.total++;
    return dropped;
  }

  /** The next item in fair order, or undefined when empty. */
  shift(): T | undefined {
    if (this.total === 0) return undefined;
    for (;;) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const queue = this.ring[this.cursor]!;
      const cost = queue.peekCost();
      if (queue.deficit < cost) {
        // Not enough credit for its next item: top up and pass the turn on.
        queue.deficit += this.quantum;
        this.cursor++;
        continue;
      }
      const item = queue.shift();
      queue.deficit -= cost;
      this.total--;
      if (queue.length === 0) this.retire(queue, this.cursor);
      return item;
    }
  }

  /**
   * Puts back at the front of its client's queue an item taken by shift() and not used, refunding its
   * cost (up to one turn's credit): give items back in the reverse order they were taken. A client
   * whose queue had emptied rejoins the round at the current turn, so it is not set back for having
   * lent its items.
   */
  unshift(client: string, item: T, cost: number): void {
    let queue = this.clients.get(client);
    if (!queue) {
      queue = new ClientQueue<T>(client);
      this.clients.set(client, queue);
    }
    if (queue.length === 0) this.ring.splice(Math.min(this.cursor, this.ring.length), 0, queue);
    queue.unshift(item, cost);
    // The refund, but no more credit than one turn's: taking many items may have topped the credit
    // up through several rounds (with no one else waiting), and that must not carry over to a round
    // in which others wait.
    queue.deficit = Math.min(queue.deficit + cost, Math.max(this.quantum, cost));
    this.total++;
  }

  /**
   * Hands `drop` the front item of every client's queue, and removes it while `drop` answers true
   * (done with: expired, abandoned; `drop` deals with it), looking at the next one. Items behind one
   * kept stay until they reach the front.
   */
  dropFront(drop: (item: T) => boolean): void {
    for (const queue of [...this.ring]) {
      while (queue.length > 0 && drop(queue.peek()!)) {
        queue.shift();
        this.total--;
      }
      if (queue.length === 0) this.retire(queue);
    }
  }

  /** The front item of each client (the oldest of each), e.g. to find the next deadline. */
  *fronts(): IterableIterator<T> {
    for (const queue of this.ring) yield queue.peek()!;
  }

  /** Every item, in no particular order (shutdown). */
  drain(): T[] {
    const out: T[] = [];
    for (const queue of this.ring) while (queue.length > 0) out.push(queue.shift());
    this.ring = [];
    this.clients.clear();
    this.cursor = 0;
    this.total = 0;
    return out;
  }

  private heaviest(): ClientQueue<T> | undefined {
    let best: ClientQueue<T> | undefined;
    for (const queue of this.ring) if (!best || queue.length > best.length) best = queue;
    return best;
  }

  /**
   * An emptied client leaves the ring and forgets its credit (DRR: idle clients do not bank turns).
   * `at`: its place in the ring, when known.
   */
  private retire(queue: ClientQueue<T>, at = this.ring.indexOf(queue)): void {
    if (at >= 0) {
      this.ring.splice(at, 1);
      if (at < this.cursor) this.cursor--;
    }
    queue.deficit = 0;
    this.clients.delete(queue.id);
  }
}
