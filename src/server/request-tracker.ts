// Counts requests in progress, so that shutdown can wait for exactly those before closing sockets.
import type { ServerResponse } from 'node:http';

export class RequestTracker {
  private active = 0;
  private waiters: Array<() => void> = [];

  get inFlight(): number {
    return this.active;
  }

  /** Counts `res` until it is finished or its connection closes. */
  track(res: ServerResponse): void {
    this.active++;
    res.once('close', () => {
      if (--this.active === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves true once no request is in progress, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
