// The shared tier: Redis through keyv + @keyv/redis, wrapped so that Redis can never slow a request
// down by more than `timeoutMs` or fail it. Every operation resolves; failures become outcomes.
//
// The node-redis client is built here rather than by @keyv/redis so that its options are ours:
// - reconnect forever with a short capped backoff, so a restarted Redis is picked up by itself;
// - disableOfflineQueue, so that while disconnected commands fail at once instead of piling up
//   in memory until the connection returns;
// - an 'error' listener (ours, and @keyv/redis's), without which node-redis errors would crash the
//   process.
//
// Health is about reachability, and must not flap under load. A lost connection marks Redis down
// at once. Timeouts do only when they go on: at least DOWN_AFTER_TIMEOUTS of them, over at least
// downAfterSilenceMs, with no answer on time in between. One slow moment (a Redis pause, a burst of
// lookups) times out the lookups waiting then, as misses, and is not an outage. A timeout is judged
// after the event loop has read its socket (setImmediate), so an event loop that was busy past the
// timeout while the answer sat unread does not count at all. Once down, one operation at a time is
// sent as a probe, and only an answer on time brings Redis back (a Redis that answers, but always
// late, stays down instead of flapping). An error reply (e.g. OOM with maxmemory and noeviction) is a
// warning, not an outage: Redis answers. Too many lookups waiting sheds the excess as misses
// (`skipped`) without judging Redis.
import KeyvRedis, { createClient } from '@keyv/redis';
import { ErrorReply } from '@redis/client';
import { Keyv, type Deserialize, type Serialize } from 'keyv';

export type RedisState = 'disabled' | 'connected' | 'down';

export interface RedisTierOptions {
  url: string;
  /** Keys are stored as `<namespace>::<key>`. */
  namespace: string;
  /** Longest any operation may hold up its caller. */
  timeoutMs: number;
  onState: (state: 'connected' | 'down') => void;
  warn: (msg: string, fields: Record<string, unknown>) => void;
}

export type RedisRead =
  | { outcome: 'hit'; value: string; /** Epoch ms, when the writer gave one. */ expiresAt: number | undefined }
  /** error: Redis unreachable, too slow or answering an error; skipped: too many lookups already waiting. */
  | { outcome: 'miss' | 'error' | 'skipped' };

/**
 * Operations waiting on Redis at most; beyond it new ones are skipped (a miss), without marking Redis
 * down. node-redis pipelines commands sent in the same tick, so a full batch of lookups (MAX_BATCH_TEXTS,
 * 256 by default) is one round trip: the cap is far above what concurrent batches need, and only bounds
 * the memory of commands waiting on a slow Redis.
 */
const MAX_IN_FLIGHT = 8_192;
/** Timeouts, with no answer on time between them, that mark Redis down if they also span downAfterSilenceMs. */
const DOWN_AFTER_TIMEOUTS = 3;
/**
 * How long timeouts must go on before Redis counts as down: 5 timeouts' worth, 250 ms at least. A gap
 * longer than that between two timeouts starts counting afresh.
 */
const downAfterSilenceMs = (timeoutMs: number) => Math.max(250, 5 * timeoutMs);
const CONNECT_TIMEOUT_MS = 2_000;
/** At most one warning of each kind this often (e.g. fewer "Redis down" warnings than state changes). */
const WARN_INTERVAL_MS = 10_000;

const FAILED = Symbol('failed');
const SKIPPED = Symbol('skipped');

// Keyv wraps each value with its expiry time; the default serialiser makes that a JSON envelope around
// our (already JSON) string. "<expires>|<value>" keeps the entry compact, and anything not in that
// shape still reaches the codec, which rejects it, instead of making Keyv throw.
const serialize: Serialize = (data) => `${data.expires ?? ''}|${data.value}`;
const deserialize: Deserialize = <Value>(raw: string) => {
  const bar = raw.indexOf('|');
  const head = bar < 0 ? '' : raw.slice(0, bar);
  if (bar < 0 || (head !== '' && !/^\d{1,15}$/.test(head))) return { value: raw as unknown as Value };
  return { value: raw.slice(bar + 1) as unknown as Value, expires: head === '' ? undefined : Number(head) };
};

/** Reconnect attempts after 50, 100, 200 ... ms, then every second; jitter keeps replicas apart. */
function backoff(retries: number): number {
  const base = Math.min(50 * 2 ** retries, 1_000);
  return Math.round(base * (0.9 + 0.2 * Math.random()));
}

export class RedisTier {
  private readonly client;
  private readonly keyv: Keyv<string>;
  /** Undefined until the first connection or failure, so that a Redis down at start-up is reported too. */
  private current: 'connected' | 'down' | undefined;
  private inFlight = 0;
  /** Timeouts since the last answer on time, when the first and the last of them were judged (performance.now() ms). */
  private timeouts = { count: 0, first: 0, last: Number.NEGATIVE_INFINITY };
  private readonly writes = new Set<Promise<unknown>>();
  private closed = false;
  private readonly lastWarn = new Map<string, number>();

  constructor(private readonly options: RedisTierOptions) {
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: backoff },
    });
    this.client.on('ready', () => this.setState('connected'));
    this.client.on('error', (error: unknown) => this.setState('down', error));
    const store = new KeyvRedis<string>(this.client, { throwOnConnectError: false, throwOnErrors: true });
    // useKeyPrefix off: the store already prefixes "<namespace>::"; Keyv would add "<namespace>:" again.
    this.keyv = new Keyv<string>({
      store,
      namespace: options.namespace,
      useKeyPrefix: false,
      serialize,
      deserialize,
      throwOnErrors: true,
    });
    // Failures reach us through rejected operations and client events; these re-emits carry nothing new.
    this.keyv.on('error', () => {});
    // Connect now rather than on the first request; never rejects while reconnecting forever, but
    // rejects if close() interrupts it.
    this.client.connect().catch(() => {});
  }

  get state(): 'connected' | 'down' {
    return this.current ?? 'down';
  }

  async get(key: string): Promise<RedisRead> {
    const raw = await this.guard(() => this.keyv.get(key, { raw: true }));
    if (raw === FAILED) return { outcome: 'error' };
    if (raw === SKIPPED) return { outcome: 'skipped' };
    if (raw?.value === undefined) return { outcome: 'miss' };
    return { outcome: 'hit', value: raw.value, expiresAt: raw.expires };
  }

  /** Fire and forget: the caller never waits for a write. */
  set(key: string, value: string, ttlMs: number): void {
    this.track(this.guard(() => this.keyv.set(key, value, ttlMs)));
  }

  delete(key: string): void {
    this.track(this.guard(() => this.keyv.delete(key)));
  }

  /** Lets pending writes finish (each is bounded by timeoutMs), then drops the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.writes);
    if (this.client.isOpen) this.client.destroy();
  }

  /**
   * Runs `op` unless Redis is known to be unreachable or too slow, and settles within
   * timeoutMs with its result, FAILED or SKIPPED. Never rejects.
   */
  private guard<T>(op: () => Promise<T>): Promise<T | typeof FAILED | typeof SKIPPED> {
    if (this.closed) return Promise.resolve(FAILED);
    if (!this.client.isReady) {
      this.setState('down', 'not connected');
      return Promise.resolve(FAILED);
    }
    if (this.inFlight >= MAX_IN_FLIGHT) return Promise.resolve(SKIPPED);
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
            // Redis answered, with an error: reachable, but something needs an operator's eye.
            if (!late) this.answeredOnTime();
            this.warnAtMostEvery('redis answered an error; result not cached or read', { reason: error.message });
          } else {
            this.setState('down', error);
          }
          resolve(FAILED);
        },
      );
    });
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

  private track(write: Promise<unknown>): void {
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
  }

  private setState(state: 'connected' | 'down', cause?: unknown): void {
    if (this.closed || state === this.current) return;
    this.current = state;
    if (state === 'connected') this.timeouts.count = 0;
    this.options.onState(state);
    if (state === 'down') {
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.warnAtMostEvery('redis result cache unavailable; serving from memory only', { reason });
    }
  }

  private warnAtMostEvery(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.lastWarn.get(msg) ?? Number.NEGATIVE_INFINITY;
    if (now - last < WARN_INTERVAL_MS) return;
    this.lastWarn.set(msg, now);
    this.options.warn(msg, fields);
  }
}
