// The result cache through real gateways: the in-process tier, a shared real Redis between two
// replicas, and a Redis outage and return during a stream of requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { ClassifyBatchDocument, ClassifyDocument, EmbedBatchDocument, EmbedDocument, HealthDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';
import { startRedis, type RedisHandle } from '../support/redis-server.js';
import { until } from '../support/wait.js';

let redis: RedisHandle;
let a: GatewayProcess;
let b: GatewayProcess;

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([startGatewayProcess({ REDIS_URL: redis.url }), startGatewayProcess({ REDIS_URL: redis.url })]);
  await Promise.all([a.waitReady(), b.waitReady()]);
});

afterAll(async () => {
  const codes = await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
  expect(codes).toEqual([0, 0]);
});

const health = async (g: GatewayProcess) => (await execute(g.url, HealthDocument)).data!.health;

describe('result cache', () => {
  it('answers a repeated text from the cache, equal to the computed answer', async () => {
    const text = 'Quarterly numbers attached, please review before the board meeting.';
    const first = (await execute(a.url, ClassifyDocument, { text })).data!.classify;
    const again = (await execute(a.url, ClassifyDocument, { text })).data!.classify;
    expect(first.cached).toBe(false);
    expect(again.cached).toBe(true);
    expect({ ...again, cached: false }).toEqual(first);
    const metrics = await scrape(a.base);
    expect(sample(metrics, 'nlp_cache_requests_total', { tier: 'memory', result: 'hit' })).toBeGreaterThanOrEqual(1);
  });

  it('stores embeddings compactly and returns them exactly, normalised or not', async () => {
    const text = 'A short note about the weather in spring.';
    const raw = (await execute(a.url, EmbedDocument, { text, normalize: false })).data!.embed;
    const rawAgain = (await execute(a.url, EmbedDocument, { text, normalize: false })).data!.embed;
    const unit = (await execute(a.url, EmbedDocument, { text })).data!.embed;
    expect(rawAgain.cached && unit.cached).toBe(true);
    expect(rawAgain.values).toEqual(raw.values);
    const n = Math.sqrt(raw.values.reduce((s, x) => s + x * x, 0));
    unit.values.forEach((v, i) => expect(v).toBeCloseTo(raw.values[i]! / n, 6));
  });

  it('shares results between two replicas through Redis', async () => {
    const text = 'Shared between replicas: invoice 4471 is overdue.';
    expect((await execute(a.url, ClassifyDocument, { text })).data!.classify.cached).toBe(false);
    await new Promise((r) => setTimeout(r, 100)); // the Redis write is asynchronous
    const fromB = (await execute(b.url, ClassifyDocument, { text })).data!.classify;
    expect(fromB.cached).toBe(true);
    expect(sample(await scrape(b.base), 'nlp_cache_requests_total', { tier: 'redis', result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect((await health(a)).cache.redis).toBe('CONNECTED');
  });

  it('keeps answering with zero failures while Redis is down, says DEGRADED, and uses Redis again when it returns', async () => {
    const stream = async (g: GatewayProcess, prefix: string, count: number) => {
      const answers = await Promise.all(
        Array.from({ length: count }, (_, i) => execute(g.url, ClassifyDocument, { text: `${prefix} message number ${i} about the order` })),
      );
      return answers.filter((x) => x.errors !== undefined || x.status !== 200).length;
    };
    let failures = await stream(a, 'before', 10);
    await redis.stop();
    const started = performance.now();
    failures += await stream(a, 'during', 30);
    failures += await stream(b, 'during', 30);
    const outageMs = performance.now() - started;
    expect(failures).toBe(0);
    const degraded = await health(a);
    expect(degraded.status).toBe('DEGRADED');
    expect(degraded.cache.redis).toBe('DOWN');
    expect(a.logs.some((l) => l.msg === 'shared cache tier unavailable; answering from models')).toBe(true);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    while ((await health(a)).cache.redis !== 'CONNECTED' || (await health(b)).cache.redis !== 'CONNECTED') {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await health(a)).status).toBe('OK');
    const text = 'After the outage: the shared tier works again.';
    await execute(a.url, ClassifyDocument, { text });
    await new Promise((r) => setTimeout(r, 100));
    expect((await execute(b.url, ClassifyDocument, { text })).data!.classify.cached).toBe(true);
    console.log(`redis outage: 60 requests over two replicas in ${outageMs.toFixed(0)} ms, 0 failed`);
  });

  it('costs a measured number of bytes per entry in Redis (MEMORY USAGE of what the gateway writes)', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const texts = (kind: string) => Array.from({ length: 200 }, (_, i) => `Sizing ${kind} entry ${i}: the parcel for order ${i * 7919} is on its way.`);
      const figures: Record<string, number> = {};
      for (const [kind, send] of [
        ['classification (spam-bert)', () => execute(a.url, ClassifyBatchDocument, { texts: texts('classification') })],
        ['embedding (glove-embed-100d)', () => execute(a.url, EmbedBatchDocument, { texts: texts('embedding') })],
      ] as const) {
        const before = new Set(await client.keys('*'));
        expect((await send()).errors).toBeUndefined();
        await until(async () => (await client.dbSize()) >= before.size + 200, 'the writes', 5_000, 50);
        const added = (await client.keys('*')).filter((k) => !before.has(k));
        let total = 0;
        for (const key of added) total += Number(await client.sendCommand(['MEMORY', 'USAGE', key]));
        figures[kind] = Math.round(total / added.length);
      }
      const sample = (await client.keys('nlp-gateway:result::*'))[0]!;
      console.log(`Redis MEMORY USAGE per entry written by the gateway (mean of 200, keys of ${sample.length} chars): ${JSON.stringify(figures)}`);
      // Key, value and their allocations; the TTL and hash-table slots come on top (measured in
      // test/unit/result-cache.test.ts over 20,000 entries).
      expect(figures['classification (spam-bert)']).toBeGreaterThan(150);
      expect(figures['classification (spam-bert)']).toBeLessThan(400);
      expect(figures['embedding (glove-embed-100d)']).toBeGreaterThan(550);
      expect(figures['embedding (glove-embed-100d)']).toBeLessThan(1_000);
    } finally {
      client.destroy();
    }
  });
});
