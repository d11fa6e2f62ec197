// The shared tier: Redis through keyv + @keyv/redis, wrapped so that Redis can never slow a request
// down by more than `timeoutMs` or fail it. Every operation resolves; failures become outcomes.
//
// The node-redis client is built here rather than by @keyv/redis so that its options are ours:
// - reconnect forever with a short capped backoff, so a restarted Redis is picked up by itself;
// - disableOfflineQueue, so that while disconnected commands fail at once instead of piling up
//   in memory until the connection returns;
// - an 'error' listener (ours, and @keyv/redis's), without which node-redis errors would crash the
//   process.
import KeyvRedis, { createClient } from '@keyv/redis';
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
  | { outcome: 'miss' | 'error' };

/** Operations waiting on Redis at most; beyond it Redis counts as too slow and is skipped. */
const MAX_IN_FLIGHT = 256;
const CONNECT_TIMEOUT_MS = 2_000;
/** Fewer "Redis down" warnings than state changes when it flaps. */
const WARN_INTERVAL_MS = 10_000;

const FAILED = Symbol('failed');

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
  private readonly writes = new Set<Promise<unknown>>();
  private closed = false;
  private lastWarn = Number.NEGATIVE_INFINITY;

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
   * timeoutMs with its result or FAILED. Never rejects.
   */
  private guard<T>(op: () => Promise<T>): Promise<T | typeof FAILED> {
    if (this.closed) return Promise.resolve(FAILED);
    if (!this.client.isReady || this.inFlight >= MAX_IN_FLIGHT) {
      this.setState('down', this.client.isReady ? 'too many operations waiting' : 'not connected');
      return Promise.resolve(FAILED);
    }
    // While down yet connected (Redis hung or slow), one operation at a time goes through as a probe:
    // a hung Redis costs one timeout, not one per request, and the probe's success brings it back.
    if (this.current === 'down' && this.inFlight > 0) return Promise.resolve(FAILED);
    this.inFlight++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.setState('down', `no answer within ${this.options.timeoutMs} ms`);
        resolve(FAILED);
      }, this.options.timeoutMs);
      op().then(
        (value) => {
          this.inFlight--;
          clearTimeout(timer);
          this.setState('connected');
          resolve(value);
        },
        (error: unknown) => {
          this.inFlight--;
          clearTimeout(timer);
          this.setState('down', error);
          resolve(FAILED);
        },
      );
    });
  }

  private track(write: Promise<unknown>): void {
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
  }

  private setState(state: 'connected' | 'down', cause?: unknown): void {
    if (this.closed || state === this.current) return;
    this.current = state;
    this.options.onState(state);
    const now = Date.now();
    if (state === 'down' && now - this.lastWarn >= WARN_INTERVAL_MS) {
      this.lastWarn = now;
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.options.warn('redis result cache unavailable; serving from memory only', { reason });
    }
  }
}
