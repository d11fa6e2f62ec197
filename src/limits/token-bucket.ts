// Token buckets priced in model tokens: a bucket holds up to `burstTokens` and refills at
// `tokensPerSecond`. An operation may start when the bucket holds its cost (or, for an operation
// larger than the bucket, when the bucket is full); it is then charged its full cost, so the bucket
// may go below zero and the client waits until it has paid. After the operation its charge is
// settled against what it really cost (a refund, or more debt).
//
// The same arithmetic runs in Redis (redis-buckets.ts, a Lua script) for buckets shared by replicas,
// and here for the local store.
import { LRUCache } from 'lru-cache';

export interface BucketPolicy {
  tokensPerSecond: number;
  burstTokens: number;
}

export interface BucketState {
  tokens: number;
  /** Epoch ms of `tokens`. */
  at: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Tokens left after this take (may be negative: debt). */
  tokens: number;
  /** When allowed is false: how long until the bucket can pay. */
  retryAfterMs: number;
  store: 'redis' | 'local';
}

/** The bucket after `cost` is taken at `now` (force: always taken, for settling). Pure. */
export function take(
  state: BucketState | undefined,
  policy: BucketPolicy,
  cost: number,
  force: boolean,
  now: number,
): { next: BucketState; allowed: boolean; retryAfterMs: number } {
  const perMs = policy.tokensPerSecond / 1000;
  let tokens = state ? state.tokens : policy.burstTokens;
  if (state && now > state.at) tokens = Math.min(policy.burstTokens, tokens + (now - state.at) * perMs);
  const need = Math.min(cost, policy.burstTokens);
  if (force || tokens >= need) {
    return { next: { tokens: Math.min(policy.burstTokens, tokens - cost), at: now }, allowed: true, retryAfterMs: 0 };
  }
  return { next: { tokens, at: now }, allowed: false, retryAfterMs: msUntilAffordable(tokens, cost, policy) };
}

/**
 * How long until a bucket holding `tokens` can pay for an operation of `cost` (the full bucket, for
 * one larger than it), in ms: 1 at least, since it is asked only of a bucket that cannot pay now.
 */
export function msUntilAffordable(tokens: number, cost: number, policy: BucketPolicy): number {
  const need = Math.min(cost, policy.burstTokens);
  return Math.max(1, Math.ceil((need - tokens) / (policy.tokensPerSecond / 1000)));
}

/** How long until a bucket holding `tokens` is full again, in ms. */
export function msUntilFull(tokens: number, policy: BucketPolicy): number {
  return Math.max(0, Math.ceil(((policy.burstTokens - tokens) * 1000) / policy.tokensPerSecond));
}

/** Buckets in this process: the store without Redis, and the one used while Redis is unreachable. */
export class LocalBuckets {
  /** Bounded: an idle bucket refills anyway, so forgetting the least recently used one loses nothing but its debt. */
  private readonly buckets = new LRUCache<string, BucketState>({ max: 100_000 });

  take(client: string, policy: BucketPolicy, cost: number, force: boolean): TakeResult {
    const result = take(this.buckets.get(client), policy, cost, force, Date.now());
    this.buckets.set(client, result.next);
    return { allowed: result.allowed, tokens: result.next.tokens, retryAfterMs: result.retryAfterMs, store: 'local' };
  }
}
