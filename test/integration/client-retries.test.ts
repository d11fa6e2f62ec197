// The client's retry, timeout and error contract, against a scripted gateway on loopback: a real HTTP
// server that answers what the test says, because the server side of the retry hints (RATE_LIMITED,
// retryAfterMs) is being built elsewhere. The contract: errors with extensions.code OVERLOADED or
// RATE_LIMITED carry extensions.retryAfterMs; the HTTP answer may carry Retry-After (seconds).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, SERVER_ERROR_CODES, type RetryEvent } from 'nlp-gateway/client';
import { afterEach, describe, expect, it } from 'vitest';
import { failure } from '../support/client-failure.js';

type Answer = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Scripted {
  url: string;
  /** Bodies and headers of the requests received, in order. */
  seen: { body: any; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

let open: Scripted[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

/** A server that answers the n-th request with answers[n] (the last one repeats). */
async function scripted(...answers: Answer[]): Promise<Scripted> {
  const seen: Scripted['seen'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ body: JSON.parse(body || 'null'), headers: req.headers });
      answers[Math.min(seen.length, answers.length) - 1]!(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  open.push(s);
  return s;
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const error = (code: string, extensions: Record<string, unknown> = {}) => ({ errors: [{ message: `${code} happened`, extensions: { code, ...extensions } }], data: null });
const health = { data: { health: { status: 'OK', version: '0', uptimeSeconds: 1, models: [], cache: { enabled: false, entries: 0, bytes: 0, redis: 'DISABLED' } } } };

describe('retries', () => {
  it('waits as long as extensions.retryAfterMs asks on OVERLOADED, then succeeds', async () => {
    const gw = await scripted(json(200, error('OVERLOADED', { retryAfterMs: 300 })), json(200, error('OVERLOADED', { retryAfterMs: 300 })), json(200, health));
    const retries: RetryEvent[] = [];
    const started = performance.now();
    const answer = await createClient({ url: gw.url, onRetry: (e) => retries.push(e) }).health();
    expect(answer.status).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.error.code])).toEqual([
      [1, 300, 'OVERLOADED'],
      [2, 300, 'OVERLOADED'],
    ]);
    expect(gw.seen).toHaveLength(3);
  });

  it('honours the Retry-After header (seconds) on RATE_LIMITED when the error gives no hint', async () => {
    const gw = await scripted(json(429, error('RATE_LIMITED'), { 'retry-after': '1' }), json(200, health));
    const retries: RetryEvent[] = [];
    const started = performance.now();
    await createClient({ url: gw.url, onRetry: (e) => retries.push(e) }).health();
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    // Typed as RATE_LIMITED once the server declares the code (the client's list is generated from it).
    const typed = (SERVER_ERROR_CODES as readonly string[]).includes('RATE_LIMITED') ? 'RATE_LIMITED' : 'UNKNOWN_CODE';
    expect(retries.map((r) => [r.delayMs, r.error.code, r.error.status])).toEqual([[1000, typed, 429]]);
    expect(retries[0]!.error.serverCode).toBe('RATE_LIMITED');
  });

  it('prefers retryAfterMs over Retry-After', async () => {
    const gw = await scripted(json(503, error('SHUTTING_DOWN', { retryAfterMs: 50 }), { 'retry-after': '30' }), json(200, health));
    const retries: RetryEvent[] = [];
    await createClient({ url: gw.url, onRetry: (e) => retries.push(e) }).health();
    expect(retries.map((r) => r.delayMs)).toEqual([50]);
  });

  it('gives up at once when the hint is longer than maxRetryDelayMs or would pass the deadline', async () => {
    const gw = await scripted(json(200, error('OVERLOADED', { retryAfterMs: 60_000 })));
    const e = await failure(createClient({ url: gw.url, maxRetryDelayMs: 5_000 }).health());
    expect(e).toMatchObject({ code: 'OVERLOADED', retryAfterMs: 60_000, attempts: 1 });
    const late = await failure(createClient({ url: gw.url, timeoutMs: 2_000, maxRetryDelayMs: 120_000 }).health());
    expect(late).toMatchObject({ code: 'OVERLOADED', attempts: 1 });
    expect(gw.seen).toHaveLength(2);
  });

  it('stops after `retries` retries, and never retries codes that retrying cannot fix', async () => {
    const busy = await scripted(json(200, error('OVERLOADED', { retryAfterMs: 1 })));
    expect(await failure(createClient({ url: busy.url, retries: 2 }).health())).toMatchObject({ code: 'OVERLOADED', attempts: 3 });
    expect(busy.seen).toHaveLength(3);
    const bad = await scripted(json(200, error('BAD_USER_INPUT')));
    expect(await failure(createClient({ url: bad.url }).health())).toMatchObject({ code: 'BAD_USER_INPUT', attempts: 1 });
    expect(bad.seen).toHaveLength(1);
  });
});

describe('requests', () => {
  it('POST JSON with the API key, the operation name and the variables', async () => {
    const gw = await scripted(json(200, { data: { classify: { label: 'ham' } } }));
    await createClient({ url: gw.url, apiKey: 'k-123', headers: { 'x-trace': 't' } }).classify('hello', { model: 'm' });
    const [{ body, headers }] = gw.seen as [Scripted['seen'][0]];
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-api-key']).toBe('k-123');
    expect(headers['x-trace']).toBe('t');
    expect(body.operationName).toBe('Classify');
    expect(body.variables).toEqual({ text: 'hello', model: 'm' });
    expect(body.query).toMatch(/query Classify\(/);
  });
});

describe('failures the client names itself', () => {
  it('TIMEOUT when no answer comes within timeoutMs', async () => {
    const gw = await scripted(() => undefined); // never answers
    const started = performance.now();
    const e = await failure(createClient({ url: gw.url, timeoutMs: 300 }).health());
    expect(e.code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('ABORTED when the caller cancels, also while waiting to retry', async () => {
    const gw = await scripted(json(200, error('OVERLOADED', { retryAfterMs: 5_000 })));
    const controller = new AbortController();
    const call = createClient({ url: gw.url, onRetry: () => controller.abort() }).health({ signal: controller.signal });
    expect((await failure(call)).code).toBe('ABORTED');
  });

  it('BAD_RESPONSE for an answer that is not GraphQL; NETWORK_ERROR when nothing answers', async () => {
    const proxy = await scripted((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    expect(await failure(createClient({ url: proxy.url }).health())).toMatchObject({ code: 'BAD_RESPONSE', status: 502 });
    const gone = await scripted(json(200, health));
    const url = gone.url;
    await gone.close();
    expect((await failure(createClient({ url }).health())).code).toBe('NETWORK_ERROR');
  });

  it('UNKNOWN_CODE, with the server code kept, for codes this client does not know', async () => {
    const gw = await scripted(json(200, error('SOMETHING_NEW')));
    expect(await failure(createClient({ url: gw.url }).health())).toMatchObject({ code: 'UNKNOWN_CODE', serverCode: 'SOMETHING_NEW', message: 'SOMETHING_NEW happened' });
  });
});
