import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, type CacheKeyInput } from '../../src/resilience/cache/cache-key.js';
import { decode, encode, type CachedResult } from '../../src/resilience/cache/codec.js';
import { ResultCache, type CacheTier, type LookupOutcome, type RedisState, type ResultCacheOptions } from '../../src/resilience/cache/result-cache.js';
import { startRedis, type RedisHandle } from '../support/redis-server.js';
import { until } from '../support/wait.js';

// Any rejection nobody handled (e.g. a Redis error escaping while the server is down) fails the file.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function embedding(dimensions = 384, seed = 1): CachedResult {
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = Math.sin(seed * 1000 + i) * 10 ** ((i % 9) - 4);
  // Values that a lossy encoding would get wrong.
  vector[0] = -0;
  vector[1] = 1.401298464324817e-45; // smallest subnormal
  vector[2] = 3.4028234663852886e38; // largest float32
  vector[3] = 0.1; // not exact in float32
  return { kind: 'embedding', vector, tokens: 17, truncated: false };
}

function classification(): CachedResult {
  return {
    kind: 'classification',
    scores: [
      { label: 'spam', score: 0.8765432198765432 },
      { label: 'ham', score: 0.12345678012345679 },
      { label: 'ünïcødé "quoted"', score: 0 },
    ],
    tokens: 42,
    truncated: true,
  };
}

function bytesOf(v: Float32Array): number[] {
  return [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
}

const caches: ResultCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

type Lookup = [CacheTier, LookupOutcome];

function makeCache(options: Partial<ResultCacheOptions> = {}): { cache: ResultCache; lookups: Lookup[]; warnings: string[]; states: RedisState[] } {
  const lookups: Lookup[] = [];
  const warnings: string[] = [];
  const states: RedisState[] = [];
  const cache = new ResultCache({
    maxEntries: 100,
    maxBytes: 1 << 20,
    ttlMs: 60_000,
    redisTimeoutMs: 50,
    onLookup: (tier, outcome) => lookups.push([tier, outcome]),
    onRedisState: (state) => states.push(state),
    warn: (msg) => warnings.push(msg),
    ...options,
  });
  caches.push(cache);
  return { cache, lookups, warnings, states };
}

describe('cacheKey', () => {
  const base: CacheKeyInput = { model: 'spam', version: '1.0.0', options: { normalize: true, maxLength: 128 }, text: 'Buy cheap pills now' };

  it('is a stable 64-char hex SHA-256 that does not contain the text', () => {
    const key = cacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base, options: { maxLength: 128, normalize: true } })).toBe(key); // option order is irrelevant
    expect(cacheKey(structuredClone(base))).toBe(key);
    expect(key).not.toContain('cheap');
    expect(cacheKey({ ...base, text: 'a' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when anything that changes the output differs', () => {
    const variants: CacheKeyInput[] = [
      base,
      { ...base, model: 'spam2' },
      { ...base, version: '1.0.1' },
      { ...base, text: 'Buy cheap pills now!' },
      { ...base, text: '' },
      { ...base, options: { normalize: false, maxLength: 128 } },
      { ...base, options: { normalize: true, maxLength: 64 } },
      { ...base, options: { normalize: true, maxLength: '128' } }, // "128" is not 128
      { ...base, options: { normalize: 'true', maxLength: 128 } },
      { ...base, options: { normalize: true } },
      { ...base, options: { normalize: true, maxLength: 128, pooling: 'mean' } },
      // Boundaries between fields cannot shift.
      { ...base, model: 'spam1', version: '.0.0' },
      { ...base, version: '1.0.0Buy', text: ' cheap pills now' },
    ];
    const keys = new Set(variants.map(cacheKey));
    expect(keys.size).toBe(variants.length);
  });

  it('refuses non-finite option numbers rather than letting them collide', () => {
    expect(() => cacheKey({ ...base, options: { temperature: Number.NaN } })).toThrow(TypeError);
  });
});

describe('codec', () => {
  it('round-trips a classification exactly', () => {
    const value = classification();
    expect(decode(encode(value))).toEqual(value);
  });

  it('round-trips an embedding bit-exactly, as base64 of its float32 bytes', () => {
    const value = embedding();
    const encoded = encode(value);
    const decoded = decode(encoded);
    expect(decoded?.kind).toBe('embedding');
    if (decoded?.kind !== 'embedding' || value.kind !== 'embedding') return;
    expect(decoded.vector).toBeInstanceOf(Float32Array);
    expect(bytesOf(decoded.vector)).toEqual(bytesOf(value.vector));
    expect(Object.is(decoded.vector[0], -0)).toBe(true);
    expect({ ...decoded, vector: null }).toEqual({ ...value, vector: null });
    expect(encoded).toContain(Buffer.from(value.vector.buffer).toString('base64'));
    // Compact: about 4/3 bytes per float plus a small header.
    expect(encoded.length).toBeLessThan(384 * 4 * (4 / 3) + 120);
  });

  it('encodes a vector that is a view into a larger buffer', () => {
    const big = new Float32Array([9, 1.5, -2.25, 9]);
    const value: CachedResult = { kind: 'embedding', vector: big.subarray(1, 3), tokens: 2, truncated: false };
    const decoded = decode(encode(value));
    expect(decoded?.kind === 'embedding' && [...decoded.vector]).toEqual([1.5, -2.25]);
  });

  it('refuses to encode invalid results', () => {
    const nanScore: CachedResult = { kind: 'classification', scores: [{ label: 'a', score: Number.NaN }], tokens: 1, truncated: false };
    const infVector: CachedResult = { kind: 'embedding', vector: new Float32Array([1, Infinity]), tokens: 1, truncated: false };
    expect(() => encode(nanScore)).toThrow(TypeError);
    expect(() => encode(infVector)).toThrow(TypeError);
    expect(() => encode({ ...classification(), kind: 'other' } as unknown as CachedResult)).toThrow(TypeError);
  });

  it('decodes every truncation and every single-character change to undefined', () => {
    for (const value of [classification(), embedding(48)]) {
      const encoded = encode(value);
      for (let i = 0; i < encoded.length; i++) {
        expect(decode(encoded.slice(0, i))).toBeUndefined();
        const changed = encoded[i] === 'A' ? 'B' : 'A';
        expect(decode(encoded.slice(0, i) + changed + encoded.slice(i + 1))).toBeUndefined();
      }
      expect(decode(encoded + ' ')).toBeUndefined();
    }
  });

  it('rejects a flipped field, junk and foreign values', () => {
    const encoded = encode(classification());
    expect(decode(encoded.replace('"x":true', '"x":false'))).toBeUndefined();
    expect(decode(encoded.replace('0.8765432198765432', '0.8765432198765433'))).toBeUndefined();
    for (const junk of ['', 'r1:', 'null', '{}', '[1,2,3]', 'r2:' + encoded.slice(3), randomBytes(64).toString('latin1'), randomBytes(600).toString('base64')]) {
      expect(decode(junk)).toBeUndefined();
    }
    for (const notString of [undefined, null, 42, {}, Buffer.from(encoded)]) expect(decode(notString)).toBeUndefined();
  });

  it('rejects well-formed entries with a valid checksum but invalid content', () => {
    // What a buggy or foreign writer that knows the envelope could produce.
    const seal = (body: unknown) => {
      const json = JSON.stringify(body);
      return `r1:${createHash('sha256').update(json).digest('hex').slice(0, 16)}:${json}`;
    };
    const floats = Buffer.from(new Float32Array([1, 2, 3]).buffer).toString('base64');
    expect(decode(seal({ k: 'e', t: 3, x: false, d: 3, v: floats }))).toBeDefined(); // the control
    const bad: unknown[] = [
      { k: 'e', t: 3, x: false, d: 4, v: floats }, // byte length does not match dimensions
      { k: 'e', t: 3, x: false, d: 3, v: floats.replace(/.$/, '#') }, // not base64
      { k: 'e', t: 3, x: false, d: 1, v: Buffer.from(new Float32Array([Number.NaN]).buffer).toString('base64') },
      { k: 'e', t: 3, x: false, d: 3, v: floats, extra: 1 },
      { k: 'e', t: -1, x: false, d: 3, v: floats },
      { k: 'e', t: 3, x: 'no', d: 3, v: floats },
      { k: 'c', t: 3, x: false, s: [['a', null]] }, // JSON's NaN
      { k: 'c', t: 3, x: false, s: [['a', 1.5]] },
      { k: 'c', t: 3, x: false, s: [] },
      { k: 'c', t: 3, x: false, s: [[1, 0.5]] },
      { k: 'z', t: 3, x: false, s: [['a', 0.5]] },
      [1, 2, 3],
    ];
    for (const body of bad) expect(decode(seal(body))).toBeUndefined();
  });
});

describe('ResultCache, memory tier', () => {
  it('answers hits and misses and reports each lookup', async () => {
    const { cache, lookups } = makeCache();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', classification());
    expect(await cache.get('k')).toEqual(classification());
    expect(lookups).toEqual([
      ['memory', 'miss'],
      ['memory', 'hit'],
    ]);
    expect(cache.state()).toEqual({ memory: { entries: 1, bytes: expect.any(Number) }, redis: 'disabled' });
  });

  it('stores synchronously and hands out copies', async () => {
    const { cache } = makeCache();
    const value = embedding(8);
    void cache.set('k', value);
    if (value.kind === 'embedding') value.vector[5] = 99; // the caller reuses its array
    const first = await cache.get('k');
    if (first?.kind === 'embedding') first.vector.fill(0); // a caller normalising in place
    const second = await cache.get('k');
    expect(second?.kind === 'embedding' && bytesOf(second.vector)).toEqual(bytesOf((embedding(8) as { vector: Float32Array }).vector));
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const { cache } = makeCache({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, classification());
    await cache.get('a'); // now b is the oldest
    await cache.set('d', classification());
    expect(cache.state().memory.entries).toBe(3);
    expect(await cache.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect(await cache.get(k)).toBeDefined();
  });

  it('evicts by bytes and never holds more than maxBytes', async () => {
    // A 384-float embedding is ~2.2 KB encoded (base64 in JSON): room for three, not four.
    const { cache } = makeCache({ maxEntries: 1000, maxBytes: 7_500 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, embedding());
    expect(cache.state().memory.entries).toBe(3);
    await cache.set('d', embedding());
    const { entries, bytes } = cache.state().memory;
    expect(entries).toBe(3);
    expect(bytes).toBeLessThanOrEqual(7_500);
    expect(await cache.get('a')).toBeUndefined();
    // An entry larger than the whole tier is not stored, and pushes nothing out.
    await cache.set('huge', embedding(4096));
    expect(await cache.get('huge')).toBeUndefined();
    expect(cache.state().memory.entries).toBe(3);
  });

  it('expires entries after ttlMs', async () => {
    const { cache } = makeCache({ ttlMs: 80 });
    await cache.set('k', classification());
    expect(await cache.get('k')).toBeDefined();
    await sleep(120);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('does not cache an invalid result, and does not throw', async () => {
    const { cache, warnings } = makeCache();
    await expect(cache.set('k', { kind: 'classification', scores: [{ label: 'a', score: Number.NaN }], tokens: 1, truncated: false })).resolves.toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});

describe('ResultCache with a real Redis', () => {
  let redis: RedisHandle;
  let namespaceCount = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** Two replicas sharing one Redis, each in the state a fresh process would be. */
  async function replicas(options: Partial<ResultCacheOptions> = {}) {
    const namespace = `test${++namespaceCount}`;
    const pair = [makeCache({ redisUrl: redis.url, namespace, ...options }), makeCache({ redisUrl: redis.url, namespace, ...options })] as const;
    await until(() => pair.every((p) => p.cache.state().redis === 'connected'), 'both replicas to connect', 5_000, 20);
    return { namespace, a: pair[0], b: pair[1] };
  }

  async function rawClient() {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  it('misses, then hits in Redis on another replica, then in memory', async () => {
    const { a, b } = await replicas();
    expect(await a.cache.get('k')).toBeUndefined();
    expect(a.lookups).toEqual([
      ['memory', 'miss'],
      ['redis', 'miss'],
    ]);
    await a.cache.set('k', embedding());
    await until(async () => (await b.cache.get('k')) !== undefined, 'the write to reach Redis', 1_000, 20);
    expect(b.lookups.at(-1)).toEqual(['redis', 'hit']);
    const fromMemory = await b.cache.get('k');
    expect(b.lookups.at(-1)).toEqual(['memory', 'hit']);
    expect(fromMemory?.kind === 'embedding' && bytesOf(fromMemory.vector)).toEqual(bytesOf((embedding() as { vector: Float32Array }).vector));
    await b.cache.set('c', classification());
    await until(async () => (await a.cache.get('c')) !== undefined, 'the other direction', 1_000, 20);
    expect(await a.cache.get('c')).toEqual(classification());
  });

  it('applies the TTL in Redis, and a copy into memory keeps the writer\'s expiry', async () => {
    const { a, b } = await replicas({ ttlMs: 500 });
    await a.cache.set('k', classification());
    await sleep(300);
    expect(await b.cache.get('k')).toBeDefined(); // from Redis, ~200 ms left
    expect(b.lookups.at(-1)).toEqual(['redis', 'hit']);
    await sleep(300);
    expect(await b.cache.get('k')).toBeUndefined(); // gone from Redis, and from memory though copied there only 300 ms ago
    expect(b.lookups.slice(-2)).toEqual([
      ['memory', 'miss'],
      ['redis', 'miss'],
    ]);
  });

  it('ignores a corrupt entry, deletes it, and lets set overwrite it', async () => {
    const { namespace, a, b } = await replicas();
    const raw = await rawClient();
    try {
      const redisKey = `${namespace}::k`;
      for (const junk of ['garbage', `${Date.now() + 60_000}|r1:0123456789abcdef:{"k":"c"}`, `|${encode(classification()).slice(0, -3)}`]) {
        await raw.set(redisKey, junk);
        expect(await a.cache.get('k')).toBeUndefined();
        expect(a.lookups.at(-1)).toEqual(['redis', 'corrupt']);
        await until(async () => (await raw.exists(redisKey)) === 0, 'the corrupt entry to be deleted', 1_000, 20);
      }
      await raw.set(redisKey, 'garbage');
      await a.cache.set('k', classification());
      await until(async () => (await b.cache.get('k')) !== undefined, 'the good entry', 1_000, 20);
      expect(await b.cache.get('k')).toEqual(classification());
      expect(await raw.get(redisKey)).toMatch(/^\d+\|r1:/);
    } finally {
      raw.destroy();
    }
  });

  it('answers misses within redisTimeoutMs while Redis hangs, calls it down once it stays silent, and recovers', async () => {
    const { a, b } = await replicas();
    redis.pause();
    try {
      // Every lookup is bounded by the timeout; Redis counts as down only after 3 timeouts with no
      // answer, spread over 250 ms at least (5 x redisTimeoutMs).
      const started = performance.now();
      let lookups = 0;
      while (a.cache.state().redis === 'connected') {
        const one = performance.now();
        expect(await a.cache.get(`k${lookups++}`)).toBeUndefined();
        expect(performance.now() - one).toBeLessThan(50 + 40);
        expect(a.lookups.at(-1)).toEqual(['redis', 'error']);
        expect(performance.now() - started).toBeLessThan(5_000);
      }
      expect(lookups).toBeGreaterThanOrEqual(3);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(a.cache.state().redis).toBe('down');
      expect(a.warnings).toEqual(['redis result cache unavailable; serving from memory only']);
      // Down, one lookup at a time is sent as a probe; until Redis answers it, others do not wait at all.
      void a.cache.get('probe');
      const next = performance.now();
      await a.cache.set('other', classification());
      expect(await a.cache.get('k2')).toBeUndefined();
      expect(performance.now() - next).toBeLessThan(10);
      expect(a.lookups.at(-1)).toEqual(['redis', 'error']);
    } finally {
      redis.resume();
    }
    // The probe is answered once Redis resumes, which is enough to come back.
    await until(() => a.cache.state().redis === 'connected', 'state to return to connected', 3_000, 20);
    await a.cache.set('after', classification());
    await until(async () => (await b.cache.get('after')) !== undefined, 'the shared tier to work again', 1_000, 20);
  });

  it('one slow moment of Redis (paused 150 ms) times out the lookups waiting then, as misses, but does not call it down', async () => {
    const { a } = await replicas();
    redis.pause();
    let waiting: Promise<unknown>[];
    try {
      waiting = Array.from({ length: 20 }, (_, i) => a.cache.get(`slow${i}`));
      await sleep(150);
    } finally {
      redis.resume();
    }
    await Promise.all(waiting);
    expect(a.lookups.filter(([tier, result]) => tier === 'redis' && result === 'error')).toHaveLength(20);
    // Their late answers show Redis is there.
    await sleep(100);
    expect(await a.cache.get('after')).toBeUndefined();
    expect(a.lookups.at(-1)).toEqual(['redis', 'miss']);
    expect(a.states).toEqual(['connected']);
    expect(a.warnings).toEqual([]);
  });

  it('an event loop busy past the timeout, with the answers waiting to be read, does not call Redis down', async () => {
    const { a } = await replicas();
    const lookups = Array.from({ length: 50 }, (_, i) => a.cache.get(`busy${i}`));
    const until = performance.now() + 150;
    while (performance.now() < until); // the event loop is blocked; Redis answers meanwhile
    await Promise.all(lookups);
    expect(a.cache.state().redis).toBe('connected');
    expect(a.states).toEqual(['connected']);
    expect(a.warnings).toEqual([]);
  });

  it('a burst of 1,200 lookups and 1,200 writes at once (four full batches and more) never calls a healthy Redis down', async () => {
    // With the default 50 ms timeout, on a busy 2-core machine most of the burst's lookups may time
    // out (as misses): that is a slow moment, not an outage, and the cap on waiting operations skips none.
    const burst = await replicas();
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => burst.a.cache.set(`burst${i}`, classification())));
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => burst.b.cache.get(`burst${i}`)));
    await sleep(200);
    expect(await burst.b.cache.get('after the burst')).toBeUndefined();
    expect(burst.b.lookups.at(-1)).toEqual(['redis', 'miss']);
    expect(burst.b.lookups.filter(([, result]) => result === 'skipped')).toEqual([]);
    expect([burst.a.states, burst.b.states, burst.a.warnings, burst.b.warnings]).toEqual([['connected'], ['connected'], [], []]);

    // Given the time, every one of them is answered: none is refused for being one too many.
    const { a, b } = await replicas({ redisTimeoutMs: 5_000 });
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => a.cache.set(`many${i}`, classification())));
    await until(async () => (await b.cache.get('many1199')) !== undefined, 'the writes', 2_000, 20);
    const reads = await Promise.all(Array.from({ length: 1_199 }, (_, i) => b.cache.get(`many${i}`)));
    expect(reads.filter((r) => r === undefined)).toHaveLength(0);
    expect(b.lookups.filter(([, result]) => result !== 'hit' && result !== 'miss')).toEqual([]);
    expect([a.states, b.states]).toEqual([['connected'], ['connected']]);
  });

  it('costs a bounded, predictable number of bytes per entry in Redis (MEMORY USAGE), for sizing maxmemory', async () => {
    const { namespace, a } = await replicas();
    const raw = await rawClient();
    try {
      const entries: [string, CachedResult][] = [
        ['classification, 2 labels', { kind: 'classification', scores: [{ label: 'spam', score: 0.987654321 }, { label: 'ham', score: 0.012345679 }], tokens: 57, truncated: false }],
        ['embedding, 100 dims', embedding(100)],
        ['embedding, 384 dims', embedding(384)],
        ['embedding, 768 dims', embedding(768)],
      ];
      const usage: Record<string, number> = {};
      for (const [name, value] of entries) {
        // Keys as the gateway makes them: 64 hex characters.
        const key = createHash('sha256').update(name).digest('hex');
        await a.cache.set(key, value);
        await until(async () => (await raw.exists(`${namespace}::${key}`)) === 1, name, 1_000, 20);
        usage[name] = Number(await raw.sendCommand(['MEMORY', 'USAGE', `${namespace}::${key}`]));
      }
      console.log(`bytes per Redis entry (MEMORY USAGE, key of ${namespace.length + 2 + 64} chars): ${JSON.stringify(usage)}`);
      // All in: 20,000 entries written as the tier writes them (SET with PX), in a fresh database:
      // used_memory grows by MEMORY USAGE plus the TTL entry and hash-table slots per key.
      const allIn: Record<string, number> = {};
      for (const [name, value] of entries) {
        await raw.flushDb();
        const before = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]);
        const stored = `${Date.now() + 3_600_000}|${encode(value)}`;
        const n = 20_000;
        for (let i = 0; i < n; i += 1_000) {
          await Promise.all(Array.from({ length: 1_000 }, (_, j) => raw.set(`nlp-gateway:result::${createHash('sha256').update(`${name}${i + j}`).digest('hex')}`, stored, { PX: 3_600_000 })));
        }
        allIn[name] = Math.round((Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]) - before) / n);
      }
      console.log(`bytes per Redis entry, all in (used_memory over 20,000 entries, keys of 84 chars, TTL set): ${JSON.stringify(allIn)}`);
      for (const [name] of entries) expect(allIn[name]).toBeLessThan(usage[name]! + 150);
      // A classification is a small JSON; an embedding is base64 of float32 (4/3 x 4 bytes a dimension)
      // plus the same fixed part. Redis rounds allocations up (jemalloc size classes), hence the ranges.
      expect(usage['classification, 2 labels']).toBeGreaterThan(150);
      expect(usage['classification, 2 labels']).toBeLessThan(400);
      for (const dims of [100, 384, 768]) {
        const bytes = usage[`embedding, ${dims} dims`]!;
        expect(bytes).toBeGreaterThan((dims * 16) / 3);
        expect(bytes).toBeLessThan((dims * 16) / 3 * 1.25 + 400);
      }
    } finally {
      raw.destroy();
    }
  });

  it('survives Redis being killed and restarted: bounded latency, "down", then "connected" by itself', async () => {
    const { a, b } = await replicas();
    await a.cache.set('before', classification());
    await until(async () => (await b.cache.get('before')) !== undefined, 'the first write', 1_000, 20);

    await redis.stop();
    // Right after the kill, before or after the client notices: each call stays within the bound.
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await a.cache.set(`k${i}`, embedding());
      expect(await b.cache.get(`k${i}`)).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(50 + 40);
    }
    await until(() => a.cache.state().redis === 'down' && b.cache.state().redis === 'down', 'state down', 2_000, 20);
    expect(b.lookups.at(-1)).toEqual(['redis', 'error']);
    // The memory tier still serves what each replica has seen.
    expect(await b.cache.get('before')).toEqual(classification());
    await sleep(600); // a few failed reconnect attempts

    await redis.restart();
    await until(() => a.cache.state().redis === 'connected' && b.cache.state().redis === 'connected', 'reconnect', 5_000, 20);
    expect(a.states).toEqual(['connected', 'down', 'connected']);
    expect(a.warnings).toEqual(['redis result cache unavailable; serving from memory only']);
    await a.cache.set('after', embedding(384, 2));
    await until(async () => (await b.cache.get('after')) !== undefined, 'the shared tier to work again', 1_000, 20);
    expect(b.lookups.at(-1)).toEqual(['redis', 'hit']);
    expect(unhandled).toEqual([]);
  });

  it('starts while Redis is unreachable and never waits on it', async () => {
    const { cache, lookups, states, warnings } = makeCache({ redisUrl: 'redis://127.0.0.1:1' });
    const started = performance.now();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', classification());
    expect(performance.now() - started).toBeLessThan(50);
    expect(lookups).toEqual([
      ['memory', 'miss'],
      ['redis', 'error'],
    ]);
    expect(await cache.get('k')).toBeDefined(); // from memory
    expect(cache.state().redis).toBe('down');
    expect(states).toEqual(['down']);
    expect(warnings).toEqual(['redis result cache unavailable; serving from memory only']);
  });
});

describe('ResultCache with a Redis that answers errors', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    // Full at once and configured not to evict: every write is refused with OOM.
    redis = await startRedis(['--maxmemory', '1', '--maxmemory-policy', 'noeviction']);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('warns (once) and keeps calling Redis connected: it answers, and reads still work', async () => {
    const { cache, lookups, states, warnings } = makeCache({ redisUrl: redis.url, namespace: 'oom' });
    await until(() => cache.state().redis === 'connected', 'connect', 5_000, 20);
    for (let i = 0; i < 5; i++) await cache.set(`k${i}`, embedding(64, i));
    await until(() => warnings.length > 0, 'the warning', 2_000, 20);
    expect(warnings).toEqual(['redis answered an error; result not cached or read']);
    const client = await (async () => {
      const c = createClient({ url: redis.url });
      c.on('error', () => {});
      await c.connect();
      return c;
    })();
    try {
      expect(await client.dbSize()).toBe(0);
    } finally {
      client.destroy();
    }
    const fresh = makeCache({ redisUrl: redis.url, namespace: 'oom' });
    await until(() => fresh.cache.state().redis === 'connected', 'connect', 5_000, 20);
    expect(await fresh.cache.get('k0')).toBeUndefined();
    expect(fresh.lookups.at(-1)).toEqual(['redis', 'miss']);
    expect(states).toEqual(['connected']);
    expect(lookups).toEqual([]);
  });
});
