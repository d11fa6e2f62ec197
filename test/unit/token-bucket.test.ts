// Token-bucket arithmetic, in this process and in Redis (the Lua script against a real redis-server):
// both must agree, since replicas fall back from one to the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBuckets } from '../../src/limits/redis-buckets.js';
import { RateLimiter } from '../../src/limits/rate-limiter.js';
import { LocalBuckets, msUntilFull, take } from '../../src/limits/token-bucket.js';
import { startRedis, type RedisHandle } from '../support/redis-server.js';

const policy = { tokensPerSecond: 100, burstTokens: 1000 };

describe('token bucket', () => {
  it('starts full, refills at the rate up to the burst, and refuses what it cannot pay', () => {
    let r = take(undefined, policy, 600, false, 0);
    expect(r).toMatchObject({ allowed: true, next: { tokens: 400 } });
    r = take(r.next, policy, 600, false, 1000); // +100 after a second: 500 < 600
    expect(r).toMatchObject({ allowed: false, next: { tokens: 500 }, retryAfterMs: 1000 });
    r = take(r.next, policy, 600, false, 2000);
    expect(r).toMatchObject({ allowed: true, next: { tokens: 0 } });
    expect(take(r.next, policy, 0, false, 60_000).next.tokens).toBe(1000);
  });

  it('lets an operation larger than the bucket start from a full bucket, then charges all of it (debt)', () => {
    const r = take(undefined, policy, 3000, false, 0);
    expect(r).toMatchObject({ allowed: true, next: { tokens: -2000 } });
    // After 10 s it has refilled to -1000: 10 tokens need 1010 more, 10.1 s at 100 per second.
    expect(take(r.next, policy, 10, false, 10_000)).toMatchObject({ allowed: false, retryAfterMs: 10_100 });
  });

  it('settles: a refund never overfills, an extra charge always applies', () => {
    expect(take({ tokens: 900, at: 0 }, policy, -500, true, 0).next.tokens).toBe(1000);
    expect(take({ tokens: 5, at: 0 }, policy, 50, true, 0)).toMatchObject({ allowed: true, next: { tokens: -45 } });
    expect(msUntilFull(-45, policy)).toBe(10_450);
  });

  it('keeps one bucket per client in the local store', () => {
    const local = new LocalBuckets();
    expect(local.take('a', policy, 1000, false).allowed).toBe(true);
    expect(local.take('a', policy, 100, false).allowed).toBe(false);
    expect(local.take('b', policy, 100, false).allowed).toBe(true);
  });
});

describe('buckets in Redis', () => {
  let redis: RedisHandle;
  let buckets: RedisBuckets;
  beforeAll(async () => {
    redis = await startRedis();
    buckets = new RedisBuckets({ url: redis.url, timeoutMs: 500, onState: () => {} });
    for (let i = 0; i < 100 && buckets.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => {
    buckets.close();
    await redis.stop();
  });

  it('run the same arithmetic as the local store', async () => {
    expect(await buckets.take('c1', policy, 600, false)).toEqual({ allowed: true, tokens: 400 });
    const refused = await buckets.take('c1', policy, 600, false);
    expect(refused!.allowed).toBe(false);
    expect(refused!.tokens).toBeGreaterThanOrEqual(400);
    expect(refused!.tokens).toBeLessThan(450); // a few ms of refill at most
    expect((await buckets.take('c1', policy, -1e9, true))!.tokens).toBe(1000);
    expect(await buckets.take('c1', policy, 3000, false)).toEqual({ allowed: true, tokens: -2000 });
  });

  it('are atomic under concurrent takes: exactly what the bucket holds is granted', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => buckets.take('c2', { tokensPerSecond: 0.001, burstTokens: 1000 }, 100, false)));
    expect(results.filter((r) => r!.allowed)).toHaveLength(10);
  });

  it('answer undefined, fast, while Redis is down, and the limiter falls back to local buckets', async () => {
    const states: string[] = [];
    const limiter = new RateLimiter({ defaults: policy, minTokens: 1, redisUrl: redis.url, redisTimeoutMs: 100, onRedisState: (s) => states.push(s) });
    for (let i = 0; i < 100 && !states.includes('connected'); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await limiter.reserve('c3', policy, 10)).store).toBe('redis');
    await redis.stop();
    const started = performance.now();
    const r = await limiter.reserve('c3', policy, 10);
    expect(r).toMatchObject({ allowed: true, store: 'local' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(states).toContain('down');
    limiter.close();
    await redis.restart();
  });
});
