// Per-client rate limits priced in model tokens: which bucket policy applies to a client, where its
// bucket lives (Redis, shared by replicas, when REDIS_URL is set; this process otherwise), and the
// local policy while Redis cannot answer: each replica keeps limiting with its own bucket at the same
// rate, so that an outage neither stops service nor lifts limits (a client may then get up to the
// rate times the number of replicas). The fallback is reported (log, metric) when it starts and ends.
import { LRUCache } from 'lru-cache';
import type { KeyIdentity } from '../access/api-keys.js';
import { RedisBuckets } from './redis-buckets.js';
import { LocalBuckets, msUntilAffordable, msUntilFull, type BucketPolicy, type TakeResult } from './token-bucket.js';

export interface RateLimiterOptions {
  /** Default policy (anonymous clients and keys without their own rate); tokensPerSecond 0 = off. */
  defaults: BucketPolicy;
  /** Least an operation is charged. */
  minTokens: number;
  redisUrl?: string;
  redisTimeoutMs: number;
  onRedisState?: (state: 'connected' | 'down', reason?: string) => void;
  /** Redis answered a take with an error (told at most every 10 s): reachable, but this replica limits alone. */
  onRedisErrorReply?: (reason: string) => void;
  /** Every decision, for metrics: where it was taken and whether it was allowed. */
  onDecision?: (store: 'redis' | 'local', allowed: boolean) => void;
}

/** A charge taken for an operation, settled once its real cost is known. */
export interface Reservation extends TakeResult {
  client: string;
  policy: BucketPolicy;
  charged: number;
}

export class RateLimiter {
  private readonly local = new LocalBuckets();
  private readonly redis: RedisBuckets | undefined;
  /** Clients known to be out of tokens, until when (epoch ms): refused at once, without asking Redis. */
  private readonly blockedUntil = new LRUCache<string, number>({ max: 100_000 });

  constructor(private readonly options: RateLimiterOptions) {
    this.redis = options.redisUrl
      ? new RedisBuckets({
          url: options.redisUrl,
          timeoutMs: options.redisTimeoutMs,
          onState: (s, r) => options.onRedisState?.(s, r),
          onErrorReply: (r) => options.onRedisErrorReply?.(r),
        })
      : undefined;
  }

  /** Whether the shared buckets in Redis answer; undefined without Redis. */
  get redisState(): 'connected' | 'down' | undefined {
    return this.redis?.state;
  }

  /** The bucket policy of a client; undefined when it is not limited. */
  policyFor(key: KeyIdentity | undefined): BucketPolicy | undefined {
    const rate = key?.rate?.tokensPerSecond ?? this.options.defaults.tokensPerSecond;
    if (rate <= 0) return undefined;
    const burst = key?.rate?.burstTokens ?? (key?.rate?.tokensPerSecond !== undefined ? Math.ceil(rate * 10) : this.options.defaults.burstTokens);
    return { tokensPerSecond: rate, burstTokens: Math.max(1, burst) };
  }

  /** ms until a client this process refused may try again; undefined when it is not known to be blocked. */
  blocked(client: string): number | undefined {
    const until = this.blockedUntil.get(client);
    if (until === undefined) return undefined;
    const left = until - Date.now();
    if (left > 0) return left;
    this.blockedUntil.delete(client);
    return undefined;
  }

  /** Takes an operation's estimated cost (at least minTokens) from the client's bucket, if it holds enough. */
  async reserve(client: string, policy: BucketPolicy, estimatedTokens: number): Promise<Reservation> {
    const charged = Math.max(this.options.minTokens, estimatedTokens);
    const result = await this.take(client, policy, charged, false);
    if (result.allowed) this.blockedUntil.delete(client);
    else this.blockedUntil.set(client, Date.now() + result.retryAfterMs);
    return { ...result, client, policy, charged };
  }

  /**
   * Settles a reservation against the operation's real cost (refund or extra charge); returns the
   * tokens left, as far as this process can tell without waiting.
   */
  settle(reservation: Reservation, actualTokens: number): number {
    const delta = Math.max(this.options.minTokens, actualTokens) - reservation.charged;
    if (delta !== 0) void this.take(reservation.client, reservation.policy, delta, true);
    return Math.min(reservation.policy.burstTokens, reservation.tokens - delta);
  }

  /** x-ratelimit-* headers for a client whose bucket holds `tokens`. */
  static headers(policy: BucketPolicy, tokens: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(policy.burstTokens),
      'x-ratelimit-remaining': String(Math.max(0, Math.floor(tokens))),
      'x-ratelimit-reset': String(Math.ceil(msUntilFull(tokens, policy) / 1000)),
    };
  }

  close(): void {
    this.redis?.close();
  }

  private async take(client: string, policy: BucketPolicy, cost: number, force: boolean): Promise<TakeResult> {
    const shared = await this.redis?.take(client, policy, cost, force);
    let result: TakeResult;
    if (shared) {
      result = { ...shared, retryAfterMs: shared.allowed ? 0 : msUntilAffordable(shared.tokens, cost, policy), store: 'redis' };
    } else {
      result = this.local.take(client, policy, cost, force);
    }
    if (!force) this.options.onDecision?.(result.store, result.allowed);
    return result;
  }
}
