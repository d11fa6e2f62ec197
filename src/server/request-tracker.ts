// Counts requests in progress, so that shutdown can wait for exactly those before closing sockets,
// and can tell the ones still to be answered to close their connection afterwards.
import type { ServerResponse } from 'node:http';

export class RequestTracker {
  private readonly active = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];
  private closing = false;
  private cut = 0;

  get inFlight(): number {
    return this.active.size;
  }

  /** Requests whose connection closed before their answer was sent, since closing began. */
  get cutWhileClosing(): number {
    return this.cut;
  }

  /**
   * Counts `res` until it is finished or its connection closes. Called only while the gateway is
   * ready, so before closing begins (shutdown stops readiness first): closeConnectionsAfterResponse()
   * reaches every response tracked.
   */
  track(res: ServerResponse): void {
    this.active.add(res);
    res.once('close', () => {
      if (this.closing && !res.writableFinished) this.cut++;
      this.active.delete(res);
      if (this.active.size === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /**
   * From now on every response not yet sent says `Connection: close`, so that clients (and load
   * balancers) open their next request elsewhere instead of on a connection about to be closed.
   */
  closeConnectionsAfterResponse(): void {
    this.closing = true;
    for (const res of this.active) endKeepAlive(res);
  }

  /** Resolves true once no request is in progress, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Node sends `Connection: close` and closes the socket after the response when this header is set. */
function endKeepAlive(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}
