// Token buckets in Redis, shared by every replica: one Lua script reads, refills, charges and writes
// a bucket atomically, on Redis's own clock (TIME), so replicas with drifting clocks agree. Never
// slows a request by more than `timeoutMs` and never throws: an unreachable or slow Redis answers
// undefined, and the caller falls back to its local policy.
import { createClient } from '@keyv/redis';
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
const CONNECT_TIMEOUT_MS = 2_000;
/** Operations waiting on Redis at most; beyond it Redis counts as too slow. */
const MAX_IN_FLIGHT = 256;

function backoff(retries: number): number {
  const base = Math.min(50 * 2 ** retries, 1_000);
  return Math.round(base * (0.9 + 0.2 * Math.random()));
}

export interface RedisBucketsOptions {
  url: string;
  timeoutMs: number;
  onState: (state: 'connected' | 'down', reason?: string) => void;
}

export class RedisBuckets {
  private readonly client;
  private sha: string | undefined;
  private inFlight = 0;
  private current: 'connected' | 'down' | undefined;
  private closed = false;

  constructor(private readonly options: RedisBucketsOptions) {
    this.client = createClient({ url: options.url, disableOfflineQueue: true, socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: backoff } });
    this.client.on('ready', () => this.setState('connected'));
    this.client.on('error', (e: unknown) => this.setState('down', e instanceof Error ? e.message : String(e)));
    this.client.connect().catch(() => {});
  }

  get state(): 'connected' | 'down' {
    return this.current ?? 'down';
  }

  /** The bucket's tokens after the take and whether it was allowed; undefined when Redis cannot answer in time. */
  async take(client: string, policy: BucketPolicy, cost: number, force: boolean): Promise<{ allowed: boolean; tokens: number } | undefined> {
    if (this.closed || !this.client.isReady || this.inFlight >= MAX_IN_FLIGHT) {
      if (!this.closed) this.setState('down', this.client.isReady ? 'too many operations waiting' : 'not connected');
      return undefined;
    }
    // While down yet connected (hung or slow), one call at a time probes it.
    if (this.current === 'down' && this.inFlight > 0) return undefined;
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.setState('down', `no answer within ${this.options.timeoutMs} ms`);
        resolve(undefined);
      }, this.options.timeoutMs);
    });
    const call = this.run(KEY_PREFIX + client, [policy.tokensPerSecond, policy.burstTokens, cost, force ? 1 : 0].map(String)).then(
      (reply) => {
        this.setState('connected');
        const [allowed, tokens] = reply as [number, string];
        return { allowed: allowed === 1, tokens: Number(tokens) };
      },
      (e: unknown) => {
        this.setState('down', e instanceof Error ? e.message : String(e));
        return undefined;
      },
    );
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
      void call.finally(() => this.inFlight--);
    }
  }

  /** EVALSHA, loading the script on first use and again after a Redis restart (NOSCRIPT). */
  private async run(key: string, args: string[]): Promise<unknown> {
    if (this.sha) {
      try {
        return await this.client.evalSha(this.sha, { keys: [key], arguments: args });
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      }
    }
    this.sha = await this.client.scriptLoad(TAKE_SCRIPT);
    return this.client.evalSha(this.sha, { keys: [key], arguments: args });
  }

  close(): void {
    this.closed = true;
    if (this.client.isOpen) this.client.destroy();
  }

  private setState(state: 'connected' | 'down', reason?: string): void {
    if (this.closed || state === this.current) return;
    this.current = state;
    this.options.onState(state, reason);
  }
}
