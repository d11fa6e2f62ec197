// The shared tier: Redis through keyv + @keyv/redis, on a guarded client (redis-guard.ts), so that
// Redis can never slow a request down by more than `timeoutMs` or fail it. Every operation resolves;
// failures become outcomes: unreachable, too slow or answering an error is an `error`, too many
// lookups already waiting a `skipped` (a miss that says nothing of Redis's health). The client is
// handed to @keyv/redis (which adds its own 'error' listener) rather than built by it, so that its
// options are the guard's.
import KeyvRedis from '@keyv/redis';
import { Keyv, type Deserialize, type Serialize } from 'keyv';
import { FAILED, RedisGuard, SKIPPED } from '../redis-guard.js';

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
/** At most one "Redis down" warning this often (fewer than state changes). */
const WARN_INTERVAL_MS = 10_000;

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

export class RedisTier {
  private readonly redis: RedisGuard;
  private readonly keyv: Keyv<string>;
  private readonly writes = new Set<Promise<unknown>>();
  private lastDownWarn = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RedisTierOptions) {
    this.redis = new RedisGuard({
      url: options.url,
      timeoutMs: options.timeoutMs,
      maxInFlight: MAX_IN_FLIGHT,
      onState: (state, reason) => {
        options.onState(state);
        if (state === 'down') this.warnDown(reason);
      },
      onErrorReply: (error) => options.warn('redis answered an error; result not cached or read', { reason: error.message }),
    });
    const store = new KeyvRedis<string>(this.redis.client, { throwOnConnectError: false, throwOnErrors: true });
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
  }

  get state(): 'connected' | 'down' {
    return this.redis.state;
  }

  async get(key: string): Promise<RedisRead> {
    const raw = await this.redis.guard(() => this.keyv.get(key, { raw: true }));
    if (raw === FAILED) return { outcome: 'error' };
    if (raw === SKIPPED) return { outcome: 'skipped' };
    if (raw?.value === undefined) return { outcome: 'miss' };
    return { outcome: 'hit', value: raw.value, expiresAt: raw.expires };
  }

  /** Fire and forget: the caller never waits for a write. */
  set(key: string, value: string, ttlMs: number): void {
    this.track(this.redis.guard(() => this.keyv.set(key, value, ttlMs)));
  }

  delete(key: string): void {
    this.track(this.redis.guard(() => this.keyv.delete(key)));
  }

  /** Lets pending writes finish (each is bounded by timeoutMs), then drops the connection. */
  close(): Promise<void> {
    return this.redis.close(Promise.all(this.writes));
  }

  private track(write: Promise<unknown>): void {
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
  }

  private warnDown(reason: string | undefined): void {
    const now = Date.now();
    if (now - this.lastDownWarn < WARN_INTERVAL_MS) return;
    this.lastDownWarn = now;
    this.options.warn('redis result cache unavailable; serving from memory only', { reason });
  }
}
