// Work in progress per key (a model version): counted from the moment a text is handed to it until its
// answer settles, so that a version leaving service can wait until nothing it took on is left.

export class InFlight<K> {
  private readonly counts = new Map<K, number>();
  private readonly waiters = new Map<K, (() => void)[]>();

  enter(key: K, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  leave(key: K, n = 1): void {
    const left = (this.counts.get(key) ?? 0) - n;
    if (left > 0) return void this.counts.set(key, left);
    this.counts.delete(key);
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const resolve of waiting ?? []) resolve();
  }

  count(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  /** Resolves once nothing is in progress for `key` (at once when nothing is). */
  idle(key: K): Promise<void> {
    if (!this.counts.has(key)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]));
  }

  /** Counts `work` under `key` until it settles; returns it. */
  track<T>(key: K, work: Promise<T>): Promise<T> {
    this.enter(key);
    const done = () => this.leave(key);
    work.then(done, done);
    return work;
  }
}
