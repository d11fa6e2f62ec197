// API keys, model scopes and token-priced rate limits, end to end: two gateway processes share one
// real redis-server, as two replicas would; a third, anonymous behind a trusted proxy, limits by
// client address. /metrics is protected by its own token.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/access/credentials.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { sample, scrape } from '../support/metrics.js';
import { startRedis, type RedisHandle } from '../support/redis-server.js';

const KEY_A = 'nlpg_test-key-A-0123456789abcdefghijklmnopqrstuvw';
const KEY_B = 'nlpg_test-key-B-0123456789abcdefghijklmnopqrstuvw';
const METRICS_TOKEN = 'metrics-token-for-prometheus-0123456789abcdef';
/** Key A: classifiers only, 5 tokens a second, 300 at once. Key B: every model, the default rate. */
const KEYS = {
  keys: [
    { id: 'partner-a', sha256: sha256Hex(KEY_A), models: ['spam-bert', 'spam-linear'], tokensPerSecond: 5, burstTokens: 300 },
    { id: 'partner-b', sha256: sha256Hex(KEY_B) },
  ],
};

let redis: RedisHandle;
let one: GatewayProcess;
let two: GatewayProcess;
let anon: GatewayProcess;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[]; extensions?: { cost?: { texts: number; tokens: number } } };
}

async function post(gw: GatewayProcess, query: string, headers: Record<string, string> = {}, variables?: object): Promise<Answer> {
  const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}
const asA = { authorization: `Bearer ${KEY_A}` };
const asB = { 'x-api-key': KEY_B };
const CLASSIFY = '{ classify(text: "win a free cruise") { label } }';

beforeAll(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'keys-'));
  const keysFile = path.join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(KEYS));
  const shared = { API_KEYS_FILE: keysFile, REDIS_URL: redis.url, RATE_LIMIT_TOKENS_PER_SECOND: '1000', METRICS_TOKEN_SHA256: sha256Hex(METRICS_TOKEN) };
  [one, two, anon] = await Promise.all([
    startGatewayProcess(shared),
    startGatewayProcess(shared),
    startGatewayProcess({ TRUST_PROXY_HOPS: '1', RATE_LIMIT_TOKENS_PER_SECOND: '1', RATE_LIMIT_BURST_TOKENS: '100', BATCH_MAX_QUEUE: '2' }),
  ]);
  await Promise.all([one.waitReady(), two.waitReady(), anon.waitReady()]);
}, 180_000);

afterAll(async () => {
  for (const gw of [one, two, anon]) if (gw) expect(await gw.stop()).toBe(0);
  await redis?.stop();
});

describe('API keys', () => {
  it('naming a model the repository lacks stop start-up, naming the variables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keys-'));
    const file = path.join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'typo', sha256: sha256Hex(KEY_A), models: ['spam-bret'] }] }));
    await expect(startGatewayProcess({ API_KEYS_FILE: file })).rejects.toThrow(/exited with 1[\s\S]*API_KEYS_FILE[\s\S]*typo: spam-bret/);
  });

  it('refuse requests without a key or with a wrong one: 401 UNAUTHENTICATED, before the body is read', async () => {
    for (const gw of [one, two]) {
      const none = await post(gw, CLASSIFY);
      expect(none.status).toBe(401);
      expect(none.body.errors![0]!.extensions.code).toBe('UNAUTHENTICATED');
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await post(gw, CLASSIFY, { authorization: `Bearer ${KEY_A}x` });
      expect([wrong.status, wrong.body.errors![0]!.extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('accept a key as Authorization: Bearer or x-api-key, answering with the cost and the rate-limit headers', async () => {
    for (const headers of [asA, asB]) {
      const r = await post(one, CLASSIFY, headers);
      expect(r.status).toBe(200);
      expect(r.body.data.classify.label).toBe('spam');
      expect(r.body.extensions!.cost).toEqual({ texts: 1, tokens: expect.any(Number) });
      expect(r.body.extensions!.cost!.tokens).toBeGreaterThan(2);
      expect(Number(r.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
      expect(r.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(r.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
    }
  });

  it('enforce model scopes: 403 FORBIDDEN for a model the key may not call, named or by default', async () => {
    const named = await post(one, '{ classify(text: "hello", model: "spam-bert") { label } embed(text: "hello", model: "glove-embed-100d") { dimensions } }', asA);
    expect(named.status).toBe(403);
    expect(named.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', model: 'glove-embed-100d' });
    const byDefault = await post(two, '{ embedBatch(texts: ["a", "b"]) { dimensions } }', asA);
    expect([byDefault.status, byDefault.body.errors![0]!.extensions.code]).toEqual([403, 'FORBIDDEN']);
    const allowed = await post(two, '{ embed(text: "hello") { dimensions } }', asB);
    expect(allowed.body.data.embed.dimensions).toBe(100);
  });

  it('name the client by key id in logs, never by the key', async () => {
    const line = () => one.logs.find((l) => l.msg === 'graphql request' && l.key === 'partner-a');
    for (let i = 0; i < 50 && !line(); i++) await new Promise((r) => setTimeout(r, 100)); // logs are asynchronous
    expect(line()).toBeDefined();
    for (const gw of [one, two]) for (const secret of [KEY_A, KEY_B, METRICS_TOKEN]) expect(gw.output()).not.toContain(secret);
  });
});

describe('rate limits shared by replicas through Redis', () => {
  it('refuse a key on every replica once it has spent its bucket on one, with RATE_LIMITED, retryAfterMs and Retry-After', async () => {
    let refused: Answer | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const r = await post(one, CLASSIFY, asA);
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(200);
    }
    expect(refused).toBeDefined();
    const onOther = await post(two, CLASSIFY, asA);
    expect(onOther.status).toBe(429);
    const error = onOther.body.errors![0]!;
    expect(error.extensions.code).toBe('RATE_LIMITED');
    expect(typeof error.extensions['retryAfterMs']).toBe('number');
    expect(Number(onOther.headers.get('retry-after'))).toBe(Math.max(1, Math.ceil((error.extensions['retryAfterMs'] as number) / 1000)));

    // The other key has its own bucket, on both replicas.
    for (const gw of [one, two]) expect((await post(gw, CLASSIFY, asB)).status).toBe(200);

    // After the hint, the key is served again (on either replica).
    await new Promise((r) => setTimeout(r, (error.extensions['retryAfterMs'] as number) + 250));
    expect((await post(two, CLASSIFY, asA)).status).toBe(200);
  }, 60_000);

  it('price operations in tokens processed: a batch costs what its texts cost', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `message ${i} about the agenda for the meeting on Thursday afternoon`);
    const r = await post(one, 'query($t: [String!]!) { classifyBatch(texts: $t) { tokens } }', asB, { t: texts });
    const tokens = (r.body.data.classifyBatch as { tokens: number }[]).reduce((n, x) => n + x.tokens, 0);
    expect(r.body.extensions!.cost).toEqual({ texts: 20, tokens });
  });

  it('keep limiting on each replica alone while Redis is down (local policy), visibly, and share again when it returns', async () => {
    const localBefore = sample(await scrape(one.base, METRICS_TOKEN), 'nlp_ratelimit_decisions_total', { store: 'local' });
    await redis.stop();
    for (let i = 0; i < 3; i++) expect((await post(one, CLASSIFY, asB)).status).toBe(200);
    const metrics = await scrape(one.base, METRICS_TOKEN);
    expect(sample(metrics, 'nlp_ratelimit_decisions_total', { store: 'local' })).toBeGreaterThan(localBefore);
    expect(sample(metrics, 'nlp_ratelimit_redis_up')).toBe(0);
    // Logs are written asynchronously: give the line a moment to arrive.
    const warned = () => one.logs.some((l) => l.level === 40 && /rate-limit buckets unavailable/.test(l.msg));
    for (let i = 0; i < 50 && !warned(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(warned()).toBe(true);
    // Key A still has its limit on this replica, from its own bucket.
    let refused = false;
    for (let i = 0; i < 60 && !refused; i++) refused = (await post(one, CLASSIFY, asA)).status === 429;
    expect(refused).toBe(true);

    await redis.restart();
    let store = '';
    for (let i = 0; i < 100 && store !== 'redis'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const before = sample(await scrape(one.base, METRICS_TOKEN), 'nlp_ratelimit_decisions_total', { store: 'redis' });
      await post(one, CLASSIFY, asB);
      if (sample(await scrape(one.base, METRICS_TOKEN), 'nlp_ratelimit_decisions_total', { store: 'redis' }) > before) store = 'redis';
    }
    expect(store).toBe('redis');
    expect(one.logs.filter((l) => l.level >= 50)).toEqual([]);
  }, 60_000);
});

describe('/metrics', () => {
  it('needs its own token when one is configured; an API key is not one', async () => {
    expect((await fetch(`${one.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${one.base}/metrics`, { headers: asA })).status).toBe(401);
    expect((await fetch(`${one.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${anon.base}/metrics`)).status).toBe(200); // not configured: open
  });
});

describe('anonymous clients behind a trusted proxy', () => {
  const from = (address: string) => ({ 'x-forwarded-for': `203.0.113.9, ${address}` });

  it('are limited per address read from X-Forwarded-For (the hop the proxy added)', async () => {
    let refused: Answer | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      const r = await post(anon, CLASSIFY, from('198.51.100.1'));
      if (r.status === 429) refused = r;
    }
    expect(refused?.body.errors![0]!.extensions.code).toBe('RATE_LIMITED');
    expect((await post(anon, CLASSIFY, from('198.51.100.2'))).status).toBe(200);
  });

  it('get OVERLOADED with a retry hint (extensions.retryAfterMs and Retry-After) when a queue is full', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `overload ${i} ${'word '.repeat(20 + i)}`);
    const r = await post(anon, 'query($t: [String!]!) { classifyBatch(texts: $t) { label } }', from('198.51.100.3'), { t: texts });
    const error = r.body.errors?.find((e) => e.extensions.code === 'OVERLOADED');
    expect(error, JSON.stringify(r.body.errors)).toBeDefined();
    expect(typeof error!.extensions['retryAfterMs']).toBe('number');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
