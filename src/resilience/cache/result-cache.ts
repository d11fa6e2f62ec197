// The result cache: an in-process LRU in front of an optional Redis tier shared by all replicas.
// A lookup never fails and never waits on Redis longer than redisTimeoutMs: whatever goes wrong with
// Redis turns into a miss, and the request goes on to the model. Keys are hashes (cache-key.ts).
import { decode, encodeValid, isValidResult, type CachedResult } from './codec.js';
import { MemoryTier } from './memory-tier.js';
import { RedisTier, type RedisState } from './redis-tier.js';

export type { CachedResult } from './codec.js';
export type { RedisState } from './redis-tier.js';
export type CacheTier = 'memory' | 'redis';
/** skipped: Redis not asked, too many lookups already waiting on it (a miss that says nothing of Redis's health). */
export type LookupOutcome = 'hit' | 'miss' | 'error' | 'corrupt' | 'skipped';

export interface ResultCacheOptions {
  /** Most entries in the memory tier. */
  maxEntries: number;
  /** Most (estimated) bytes in the memory tier. */
  maxBytes: number;
  /** Life of an entry, in both tiers. */
  ttlMs: number;
  /** Shared tier; without it the cache is memory only. */
  redisUrl?: string | undefined;
  /** Longest a lookup waits for Redis before counting it a miss. */
  redisTimeoutMs: number;
  /** Redis key prefix (`<namespace>::<key>`), to keep deployments sharing a Redis apart. */
  namespace?: string | undefined;
  /** Told of every lookup of each tier consulted; telemetry hooks in here. */
  onLookup?: ((tier: CacheTier, outcome: LookupOutcome) => void) | undefined;
  /** Told when the Redis tier goes down or comes back. */
  onRedisState?: ((state: RedisState) => void) | undefined;
  warn?: ((msg: string, fields: Record<string, unknown>) => void) | undefined;
}

export interface ResultCacheState {
  memory: { entries: number; bytes: number };
  redis: RedisState;
}

const DEFAULT_NAMESPACE = 'nlp-gateway:result';

export class ResultCache {
  private readonly memory: MemoryTier;
  private readonly redis: RedisTier | undefined;
  private readonly onLookup: NonNullable<ResultCacheOptions['onLookup']>;
  private readonly warn: NonNullable<ResultCacheOptions['warn']>;

  constructor(private readonly options: ResultCacheOptions) {
    for (const name of ['maxEntries', 'maxBytes', 'ttlMs', 'redisTimeoutMs'] as const) {
      const value = options[name];
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`ResultCache ${name} must be a positive integer, got ${value}`);
    }
    this.onLookup = options.onLookup ?? (() => {});
    this.warn = options.warn ?? (() => {});
    this.memory = new MemoryTier(options);
    this.redis = options.redisUrl
      ? new RedisTier({
          url: options.redisUrl,
          namespace: options.namespace ?? DEFAULT_NAMESPACE,
          timeoutMs: options.redisTimeoutMs,
          onState: (state) => options.onRedisState?.(state),
          warn: this.warn,
        })
      : undefined;
  }

  /** The cached result for `key`, or undefined (miss, Redis unreachable or slow, corrupt entry). Never rejects. */
  async get(key: string): Promise<CachedResult | undefined> {
    return (await this.getMany([key]))[0];
  }

  private async fromRedis(key: string): Promise<CachedResult | undefined> {
    const read = await this.redis!.get(key);
    if (read.outcome !== 'hit') {
      this.onLookup('redis', read.outcome);
      return undefined;
    }
    const result = decode(read.value);
    if (!result) {
      // Dropped so that no replica decodes it again; the caller's set() will write a good one.
      this.onLookup('redis', 'corrupt');
      this.redis!.delete(key);
      this.warn('corrupt result cache entry ignored', { key });
      return undefined;
    }
    this.onLookup('redis', 'hit');
    // Keep the writer's expiry, so that copying between tiers never extends an entry's life.
    const ttlMs = read.expiresAt === undefined ? undefined : Math.min(read.expiresAt - Date.now(), this.options.ttlMs);
    if (ttlMs === undefined || ttlMs > 0) this.memory.set(key, read.value, ttlMs);
    return result;
  }

  /**
   * Looks up many keys at once: the memory tier first, then Redis for what memory missed, all
   * Redis reads in flight together (node-redis pipelines them). Never rejects.
   */
  async getMany(keys: readonly string[]): Promise<(CachedResult | undefined)[]> {
    const out = keys.map((key) => {
      const local = this.memory.get(key);
      this.onLookup('memory', local ? 'hit' : 'miss');
      return local;
    });
    if (!this.redis) return out;
    const missed = out.flatMap((v, i) => (v ? [] : [i]));
    if (missed.length === 0) return out;
    const found = await Promise.all(missed.map((i) => this.fromRedis(keys[i]!)));
    missed.forEach((i, j) => (out[i] = found[j]));
    return out;
  }

  /**
   * Stores `value` in memory before returning and sends it to Redis in the background: the returned
   * promise does not wait for Redis, and never rejects.
   */
  set(key: string, value: CachedResult): Promise<void> {
    if (!isValidResult(value)) {
      // E.g. a NaN score: no replica could decode it, so no tier keeps it.
      this.warn('result not cached: not a valid result', { key, kind: (value as { kind?: unknown } | undefined)?.kind });
      return Promise.resolve();
    }
    // Encoded once, for both tiers.
    const encoded = encodeValid(value);
    this.memory.set(key, encoded);
    this.redis?.set(key, encoded, this.options.ttlMs);
    return Promise.resolve();
  }

  state(): ResultCacheState {
    return { memory: this.memory.stats(), redis: this.redis?.state ?? 'disabled' };
  }

  /** Waits for pending Redis writes (each bounded by redisTimeoutMs) and disconnects. */
  async close(): Promise<void> {
    await this.redis?.close();
    this.memory.clear();
  }
}
