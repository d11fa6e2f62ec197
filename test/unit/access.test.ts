import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, unknownModels } from '../../src/access/api-keys.js';
import { clientAddress } from '../../src/access/client-address.js';
import { DigestSet, presentedCredential, sha256Hex } from '../../src/access/credentials.js';
import { parseApiKeys } from '../../src/config/api-keys-file.js';
import { Cors } from '../../src/server/cors.js';
import { newApiKey } from '../../src/access/new-api-key.js';

const KEY_A = 'nlpg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'nlpg_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const doc = (keys: unknown[]) => JSON.stringify({ keys });

describe('API keys file', () => {
  it('reads digests, model scopes and rates', () => {
    const keys = parseApiKeys(doc([{ id: 'a', sha256: sha256Hex(KEY_A), models: ['spam-bert'], tokensPerSecond: 50 }, { id: 'b', sha256: sha256Hex(KEY_B) }]));
    expect(keys).toMatchObject([{ id: 'a', models: ['spam-bert'], tokensPerSecond: 50 }, { id: 'b', models: '*' }]);
  });

  it('says what is wrong, with its place in the document', () => {
    expect(() => parseApiKeys('{')).toThrow('not valid JSON');
    expect(() => parseApiKeys(doc([{ id: 'a', sha256: KEY_A }]))).toThrow(/keys\.0\.sha256: 64 lowercase hex/);
    expect(() => parseApiKeys(doc([{ id: 'a b', sha256: sha256Hex(KEY_A) }]))).toThrow(/keys\.0\.id/);
    expect(() => parseApiKeys(doc([{ id: 'a', sha256: sha256Hex(KEY_A), key: KEY_A }]))).toThrow(/key/);
    expect(() => parseApiKeys(doc([{ id: 'a', sha256: sha256Hex(KEY_A) }, { id: 'a', sha256: sha256Hex(KEY_B) }]))).toThrow(/keys\.1\.id: duplicate id/);
    expect(() => parseApiKeys(doc([]))).toThrow(/keys/);
  });

  it('names scopes for models the repository lacks', () => {
    const keys = parseApiKeys(doc([{ id: 'a', sha256: sha256Hex(KEY_A), models: ['spam-bert', 'gpt'] }]));
    expect(unknownModels(keys, ['spam-bert'])).toEqual(['a: gpt']);
  });
});

describe('new API keys', () => {
  it('are random, and their entry authenticates them', () => {
    const made = newApiKey('partner-c', ['spam-bert']);
    expect(made.key).toMatch(/^nlpg_[\w-]{43}$/);
    expect(newApiKey('partner-c').key).not.toBe(made.key);
    const keys = new ApiKeys(parseApiKeys(JSON.stringify({ keys: [made.entry] })));
    expect(keys.authenticate({ 'x-api-key': made.key })).toMatchObject({ ok: true, key: { id: 'partner-c' } });
    expect(JSON.stringify(made.entry)).not.toContain(made.key);
    expect(() => newApiKey('no spaces')).toThrow(/id/);
  });
});

describe('authentication', () => {
  const keys = new ApiKeys(parseApiKeys(doc([{ id: 'a', sha256: sha256Hex(KEY_A), models: ['spam-bert'] }, { id: 'b', sha256: sha256Hex(KEY_B) }])));

  it('finds the key from Authorization: Bearer or x-api-key, and never holds the key itself', () => {
    const a = keys.authenticate({ authorization: `Bearer ${KEY_A}` });
    expect(a).toMatchObject({ ok: true, key: { id: 'a' } });
    expect(keys.authenticate({ authorization: `bearer  ${KEY_B} ` })).toMatchObject({ ok: true, key: { id: 'b' } });
    expect(keys.authenticate({ 'x-api-key': KEY_B })).toMatchObject({ ok: true, key: { id: 'b' } });
    expect(JSON.stringify(a)).not.toContain(KEY_A);
  });

  it('tells a missing key from a wrong one', () => {
    expect(keys.authenticate({})).toEqual({ ok: false, reason: 'missing' });
    for (const headers of [{ authorization: 'Bearer nope' }, { authorization: `Basic ${KEY_A}` }, { 'x-api-key': KEY_A.slice(0, -1) }, { 'x-api-key': '' }, { 'x-api-key': KEY_A.repeat(10) }]) {
      expect(keys.authenticate(headers)).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  it('applies model scopes', () => {
    const a = keys.authenticate({ 'x-api-key': KEY_A });
    const b = keys.authenticate({ 'x-api-key': KEY_B });
    expect(a.ok && [a.key.allows('spam-bert'), a.key.allows('glove-embed-100d')]).toEqual([true, false]);
    expect(b.ok && b.key.allows('anything')).toBe(true);
  });

  it('compares with every digest (no early exit)', () => {
    const set = new DigestSet([KEY_A, KEY_B, KEY_A + 'x'].map((k, i) => ({ sha256: sha256Hex(k), value: i })));
    expect(set.match(KEY_B)).toBe(1);
    expect(set.match('other')).toBeUndefined();
    expect(presentedCredential({ authorization: 'Token x' })).toBe('');
  });
});

describe('client address', () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  const seen: IncomingMessage[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const via = (xff?: string) =>
    new Promise<IncomingMessage>((resolve) => {
      request({ port, host: '127.0.0.1', headers: xff ? { 'x-forwarded-for': xff } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(seen.at(-1)!));
      }).end();
    });

  it('is the peer address unless proxies are trusted', async () => {
    expect(clientAddress(await via('9.9.9.9'), 0)).toBe('127.0.0.1');
  });

  it('counts trusted hops from the right of X-Forwarded-For, ignoring what the client wrote further left', async () => {
    const req = await via('6.6.6.6, 1.2.3.4, 10.0.0.2');
    expect(clientAddress(req, 1)).toBe('10.0.0.2');
    expect(clientAddress(req, 2)).toBe('1.2.3.4');
    expect(clientAddress(await via('::ffff:1.2.3.4'), 1)).toBe('1.2.3.4');
  });

  it('falls back to the peer when the entry is not an address', async () => {
    expect(clientAddress(await via('1.2.3.4, jane@example.com'), 1)).toBe('127.0.0.1');
    expect(clientAddress(await via(), 1)).toBe('127.0.0.1');
  });
});

describe('CORS', () => {
  const fakeRes = () => {
    const headers: Record<string, unknown> = {};
    let status = 0;
    return {
      res: { setHeader: (k: string, v: unknown) => (headers[k] = v), writeHead: (s: number, h: Record<string, unknown>) => ((status = s), Object.assign(headers, h)), end: () => {} },
      headers,
      status: () => status,
    };
  };
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const cors = new Cors(['https://app.example.com'], 600);

  it('answers a preflight from an allowed origin with the Access-Control headers', () => {
    const r = fakeRes();
    const outcome = cors.preflight(req({ origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'Content-Type, Authorization' }), r.res as never);
    expect(outcome).toBe('allowed');
    expect(r.status()).toBe(204);
    expect(r.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.example.com', 'access-control-max-age': '600' });
    expect(String(r.headers['access-control-allow-methods'])).toContain('POST');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses other origins, methods and headers, and gives none by default', () => {
    expect(cors.preflight(req({ origin: 'https://evil.example', 'access-control-request-method': 'POST' }), fakeRes().res as never)).toBe('origin');
    expect(cors.preflight(req({ origin: 'https://app.example.com', 'access-control-request-method': 'PUT' }), fakeRes().res as never)).toBe('method');
    expect(cors.preflight(req({ origin: 'https://app.example.com', 'access-control-request-headers': 'cookie' }), fakeRes().res as never)).toBe('headers');
    expect(new Cors([], 600).preflight(req({ origin: 'https://app.example.com' }), fakeRes().res as never)).toBe('origin');
  });

  it('marks actual responses for allowed origins only, and varies on Origin', () => {
    const ok = fakeRes();
    cors.decorate(req({ origin: 'https://app.example.com' }), ok.res as never);
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin' });
    const other = fakeRes();
    cors.decorate(req({ origin: 'https://evil.example' }), other.res as never);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const any = fakeRes();
    new Cors(['*'], 600).decorate(req({ origin: 'https://x.example' }), any.res as never);
    expect(any.headers['access-control-allow-origin']).toBe('*');
  });
});
