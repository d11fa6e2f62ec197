// What a gateway shows the internet: CORS as a real browser sees it (headless Chromium, pages on
// other origins), CSRF prevention, introspection and suggestions in production and development,
// and clients that go away counted and logged apart from faults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { browserResult, startPageServer, type PageServer } from '../support/browser.js';
import { postRaw } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';

let allowed: PageServer;
let other: PageServer;
let prod: GatewayProcess;
let dev: GatewayProcess;

beforeAll(async () => {
  [allowed, other] = await Promise.all([startPageServer(), startPageServer()]);
  [prod, dev] = await Promise.all([
    startGatewayProcess({ NODE_ENV: 'production', CORS_ORIGINS: allowed.origin }),
    // One worker taking one text per call: a queue builds up behind a batch, deterministically.
    startGatewayProcess({ LOG_LEVEL: 'debug', INFERENCE_WORKERS: '1', BATCH_MAX_SIZE: '1', CACHE_MAX_ENTRIES: '0' }),
  ]);
  await Promise.all([prod.waitReady(), dev.waitReady()]);
}, 180_000);

afterAll(async () => {
  for (const gw of [prod, dev]) if (gw) expect(await gw.stop()).toBe(0);
  await Promise.all([allowed?.close(), other?.close()]);
});

const json = (query: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ query }),
});

describe('CORS in a real browser', () => {
  it('lets a page on an allowed origin call /graphql, preflight and all (JSON body, Authorization header)', async () => {
    const result = await browserResult(allowed.page(prod.url, json('{ health { status } }', { authorization: 'Bearer not-checked-here' })));
    expect(result).toMatch(/^status 200 /);
    expect(JSON.parse(result.slice('status 200 '.length)).data.health.status).toBe('OK');
  });

  it('blocks a page on any other origin at the preflight: the query never runs', async () => {
    const before = prod.logs.filter((l) => l.msg === 'graphql request').length;
    expect(await browserResult(other.page(prod.url, json('{ health { status } }')))).toBe('failed Failed to fetch');
    expect(prod.logs.filter((l) => l.msg === 'graphql request').length).toBe(before);
  });

  it('keeps CSRF prevention: a simple (preflight-free) POST from an allowed origin is refused', async () => {
    const result = await browserResult(allowed.page(prod.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ health { status } }' }) }));
    expect(result).toMatch(/^status 400 /);
    expect(result).toContain('BAD_REQUEST');
  });
});

describe('introspection and suggestions', () => {
  it('are off with NODE_ENV=production', async () => {
    const introspection = await postRaw(prod.url, { query: '{ __schema { types { name } } }' });
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typo = await postRaw(prod.url, { query: '{ helth { status } }' });
    expect(typo.body.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('are on in development (no NODE_ENV)', async () => {
    const introspection = await postRaw(dev.url, { query: '{ __schema { types { name } } }' });
    expect(introspection.body.data.__schema.types.length).toBeGreaterThan(5);
    const typo = await postRaw(dev.url, { query: '{ helth { status } }' });
    expect(typo.body.errors![0]!.message).toMatch(/Did you mean "health"\?/);
  });
});

describe('a client that goes away', () => {
  it('gets CLIENT_CLOSED_REQUEST: its queued texts are dropped, logged at debug, counted as cancelled, not as a fault', async () => {
    const before = await scrape(dev.base);
    const words = (i: number) => `message ${i} about the review of the kernel patch and the agenda for Thursday`;
    // A batch of long texts that keeps the one worker busy for a second or more (200 calls at the
    // model's full length), then a second client that queues behind it and leaves.
    const long = (i: number) => `${words(i)} `.repeat(8);
    const busy = postRaw(dev.url, { query: 'query($t: [String!]!) { classifyBatch(texts: $t) { label } }', variables: { t: Array.from({ length: 200 }, (_, i) => long(i)) } });
    await new Promise((r) => setTimeout(r, 100));
    const leaving = new AbortController();
    const gone = fetch(dev.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($t: [String!]!) { classifyBatch(texts: $t) { label } }', variables: { t: Array.from({ length: 50 }, (_, i) => words(1000 + i)) } }),
      signal: leaving.signal,
    }).catch(() => 'left');
    await new Promise((r) => setTimeout(r, 300));
    leaving.abort();
    expect(await gone).toBe('left');
    expect((await busy).status).toBe(200);

    let line;
    for (let i = 0; i < 50 && !line; i++) {
      await new Promise((r) => setTimeout(r, 100));
      line = dev.logs.find((l) => l.msg === 'graphql request' && (l.errors as string[] | undefined)?.includes('CLIENT_CLOSED_REQUEST'));
    }
    expect(line).toMatchObject({ level: 20, fields: ['classifyBatch'] });
    const after = await scrape(dev.base);
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('nlp_errors_total', { code: 'CLIENT_CLOSED_REQUEST' })).toBe(1);
    expect(delta('nlp_requests_total', { operation: 'classifyBatch', status: 'cancelled' })).toBe(1);
    expect(delta('nlp_requests_total', { operation: 'classifyBatch', status: 'error' })).toBe(0);
    expect(delta('nlp_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(0);
    expect(dev.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
