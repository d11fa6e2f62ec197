// Token buckets in Redis, shared by every replica: one Lua script reads, refills, charges and writes
// a bucket atomically, on Redis's own clock (TIME), so replicas with drifting clocks agree. Never
// slows a request by more than `timeoutMs` and never throws (redis-guard.ts): an unreachable or slow
// Redis, an error reply, or too many takes already waiting answers undefined, and the caller falls
// back to its local policy.
import { FAILED, RedisGuard, SKIPPED } from '../resilience/redis-guard.js';
import type { BucketPolicy } from './token-bucket.js';

/** Same arithmetic as token-bucket.ts take(). Fractions travel as strings: Redis truncates Lua numbers. */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local force = ARGV[4] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
end
local need = math.min(cost, burst)
local allowed = 0
if force or tokens >= need then
  tokens = math.min(burst, tokens - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60000)
return { allowed, tostring(tokens) }
`;

const KEY_PREFIX = 'nlp-gateway:ratelimit:';
/** Takes waiting on Redis at most; beyond it a take is not sent (the local policy answers it). */
const MAX_IN_FLIGHT = 256;

export interface RedisBucketsOptions {
  url: string;
  timeoutMs: number;
  onState: (state: 'connected' | 'down', reason?: string) => void;
  /** Redis answered a take with an error (e.g. OOM with maxmemory and noeviction): reachable, yet not limiting. */
  onErrorReply?: (reason: string) => void;
}

export class RedisBuckets {
  private readonly redis: RedisGuard;
  private sha: string | undefined;

  constructor(options: RedisBucketsOptions) {
    this.redis = new RedisGuard({
      url: options.url,
      timeoutMs: options.timeoutMs,
      maxInFlight: MAX_IN_FLIGHT,
      onState: (state, reason) => options.onState(state, reason),
      onErrorReply: (error) => options.onErrorReply?.(error.message),
    });
  }

  get state(): 'connected' | 'down' {
    return this.redis.state;
  }

  /** The bucket's tokens after the take and whether it was allowed; undefined when Redis cannot answer it (see above). */
  async take(client: string, policy: BucketPolicy, cost: number, force: boolean): Promise<{ allowed: boolean; tokens: number } | undefined> {
    const reply = await this.redis.guard(() => this.run(KEY_PREFIX + client, [policy.tokensPerSecond, policy.burstTokens, cost, force ? 1 : 0].map(String)));
    if (reply === FAILED || reply === SKIPPED) return undefined;
    const [allowed, tokens] = reply as [number, string];
    return { allowed: allowed === 1, tokens: Number(tokens) };
  }

  /** EVALSHA, loading the script on first use and again after a Redis restart (NOSCRIPT). */
  private async run(key: string, args: string[]): Promise<unknown> {
    const client = this.redis.client;
    if (this.sha) {
      try {
        return await client.evalSha(this.sha, { keys: [key], arguments: args });
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      }
    }
    this.sha = await client.scriptLoad(TAKE_SCRIPT);
    return client.evalSha(this.sha, { keys: [key], arguments: args });
  }

  close(): void {
    void this.redis.close();
  }
}
