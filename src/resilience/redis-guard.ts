// A node-redis client whose operations can never slow a request down by more than `timeoutMs` or
// fail it: every operation resolves, with its result or with FAILED / SKIPPED. Shared by the result
// cache's Redis tier and the rate limiter's shared buckets, which each fall back to what they hold
// in this process while Redis cannot answer.
//
// The client is built here (not by @keyv/redis) so that its options are ours:
// - reconnect forever with a short capped backoff, so a restarted Redis is picked up by itself;
// - disableOfflineQueue, so that while disconnected commands fail at once instead of piling up
//   in memory until the connection returns;
// - an 'error' listener, without which node-redis errors would crash the process.
//
// Health is about reachability, and must not flap under load. A lost connection marks Redis down
// at once. Timeouts do only when they go on: at least DOWN_AFTER_TIMEOUTS of them, over at least
// downAfterSilenceMs, with no answer on time in between. One slow moment (a Redis pause, a burst of
// operations) times out the operations waiting then, and is not an outage. A timeout is judged
// after the event loop has read its socket (setImmediate), so an event loop that was busy past the
// timeout while the answer sat unread does not count at all. Once down, one operation at a time is
// sent as a probe, and only an answer on time brings Redis back (a Redis that answers, but always
// late, stays down instead of flapping). An error reply (e.g. OOM with maxmemory and noeviction) is
// not an outage: Redis answers. Too many operations waiting sheds the excess (SKIPPED) without
// judging Redis.
import { createClient } from '@keyv/redis';
import { ErrorReply } from '@redis/client';

export type RedisHealth = 'connected' | 'down';

/** The operation failed: Redis unreachable, too slow, answering an error, or the guard closed. */
export const FAILED = Symbol('failed');
/** The operation was not sent: too many already waiting on Redis. */
export const SKIPPED = Symbol('skipped');

export interface RedisGuardOptions {
  url: string;
  /** Longest any operation may hold up its caller. */
  timeoutMs: number;
  /** Operations waiting on Redis at most; beyond it new ones are SKIPPED, without marking Redis down. */
  maxInFlight: number;
  /** Redis went down (with why) or came back. */
  onState: (state: RedisHealth, reason: string | undefined) => void;
  /**
   * Redis answered an operation with an error: reachable, but something needs an operator's eye. Told
   * at most once every ERROR_REPLY_INTERVAL_MS (a Redis answering errors answers every operation so).
   */
  onErrorReply: (error: ErrorReply) => void;
}

/** Timeouts, with no answer on time between them, that mark Redis down if they also span downAfterSilenceMs. */
const DOWN_AFTER_TIMEOUTS = 3;
/**
 * How long timeouts must go on before Redis counts as down: 5 timeouts' worth, 250 ms at least. A gap
 * longer than that between two timeouts starts counting afresh.
 */
const downAfterSilenceMs = (timeoutMs: number) => Math.max(250, 5 * timeoutMs);
const CONNECT_TIMEOUT_MS = 2_000;
const ERROR_REPLY_INTERVAL_MS = 10_000;

/** Reconnect attempts after 50, 100, 200 ... ms, then every second; jitter keeps replicas apart. */
function backoff(retries: number): number {
  const base = Math.min(50 * 2 ** retries, 1_000);
  return Math.round(base * (0.9 + 0.2 * Math.random()));
}

export class RedisGuard {
  /** For building operations on; run them through guard(). */
  readonly client;
  /** Undefined until the first connection or failure, so that a Redis down at start-up is reported too. */
  private current: RedisHealth | undefined;
  private inFlight = 0;
  /** Timeouts since the last answer on time, when the first and the last of them were judged (performance.now() ms). */
  private timeouts = { count: 0, first: 0, last: Number.NEGATIVE_INFINITY };
  private closed = false;
  private lastErrorReply = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RedisGuardOptions) {
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: backoff },
    });
    this.client.on('ready', () => this.setState('connected'));
    this.client.on('error', (error: unknown) => this.setState('down', error));
    // Connect now rather than on the first request; never rejects while reconnecting forever, but
    // rejects if close() interrupts it.
    this.client.connect().catch(() => {});
  }

  get state(): RedisHealth {
    return this.current ?? 'down';
  }

  /**
   * Runs `op` unless Redis is known to be unreachable or too slow, and settles within timeoutMs with
   * its result, FAILED or SKIPPED. Never rejects.
   */
  guard<T>(op: () => Promise<T>): Promise<T | typeof FAILED | typeof SKIPPED> {
    if (this.closed) return Promise.resolve(FAILED);
    if (!this.client.isReady) {
      this.setState('down', 'not connected');
      return Promise.resolve(FAILED);
    }
    if (this.inFlight >= this.options.maxInFlight) return Promise.resolve(SKIPPED);
    // While down yet connected (Redis hung or slow), one operation at a time goes through as a probe:
    // a hung Redis costs one timeout, not one per request, and the probe's answer brings it back.
    if (this.current === 'down' && this.inFlight > 0) return Promise.resolve(FAILED);
    this.inFlight++;
    return new Promise((resolve) => {
      let answered = false;
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        resolve(FAILED);
        // Judged once the event loop has read its sockets: an answer read there was not late.
        setImmediate(() => (answered ? this.answeredOnTime() : this.timedOut()));
      }, this.options.timeoutMs);
      op().then(
        (value) => {
          answered = true;
          this.inFlight--;
          if (late) {
            // Redis is answering again, late: down, ask it straight away whether it answers on time,
            // rather than waiting for the next request to do so.
            if (this.current === 'down') void this.guard(() => this.client.ping());
            return;
          }
          clearTimeout(timer);
          this.answeredOnTime();
          resolve(value);
        },
        (error: unknown) => {
          answered = true;
          this.inFlight--;
          clearTimeout(timer);
          if (error instanceof ErrorReply) {
            if (!late) this.answeredOnTime();
            this.errorReply(error);
          } else {
            this.setState('down', error);
          }
          resolve(FAILED);
        },
      );
    });
  }

  /**
   * From now on operations fail at once and the state no longer changes; the connection is dropped
   * once `pending` (operations the caller lets finish, each bounded by timeoutMs) has settled, at
   * once (synchronously) without it.
   */
  async close(pending?: Promise<unknown>): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (pending) await pending;
    if (this.client.isOpen) this.client.destroy();
  }

  private errorReply(error: ErrorReply): void {
    const now = Date.now();
    if (now - this.lastErrorReply < ERROR_REPLY_INTERVAL_MS) return;
    this.lastErrorReply = now;
    this.options.onErrorReply(error);
  }

  private answeredOnTime(): void {
    this.timeouts.count = 0;
    this.setState('connected');
  }

  private timedOut(): void {
    const now = performance.now();
    const silenceMs = downAfterSilenceMs(this.options.timeoutMs);
    if (this.timeouts.count === 0 || now - this.timeouts.last > silenceMs) this.timeouts = { count: 0, first: now, last: now };
    this.timeouts.count++;
    this.timeouts.last = now;
    const spanMs = now - this.timeouts.first;
    if (this.timeouts.count >= DOWN_AFTER_TIMEOUTS && spanMs >= silenceMs) {
      this.setState('down', `${this.timeouts.count} operations over ${Math.round(spanMs)} ms without an answer within ${this.options.timeoutMs} ms`);
    }
  }

  private setState(state: RedisHealth, cause?: unknown): void {
    if (this.closed || state === this.current) return;
    this.current = state;
    if (state === 'connected') this.timeouts.count = 0;
    this.options.onState(state, cause === undefined ? undefined : cause instanceof Error ? cause.message : String(cause));
  }
}
