// The configuration of what faces the internet: defaults that depend on NODE_ENV, and bad values
// stopping start-up with the variable named.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/access/credentials.js';
import { loadConfig } from '../../src/config/config.js';

describe('configuration of limits, keys and exposure', () => {
  it('has introspection and suggestions on in development and off with NODE_ENV=production, unless set', () => {
    expect(loadConfig({})).toMatchObject({ GRAPHQL_INTROSPECTION: true, GRAPHQL_SUGGESTIONS: true });
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ GRAPHQL_INTROSPECTION: false, GRAPHQL_SUGGESTIONS: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' })).toMatchObject({ GRAPHQL_INTROSPECTION: true, GRAPHQL_SUGGESTIONS: false });
  });

  it('documents its defaults: limits on, no CORS origins, no keys, no rate limit', () => {
    expect(loadConfig({})).toMatchObject({
      GRAPHQL_MAX_TOKENS: 1000,
      GRAPHQL_MAX_ALIASES: 15,
      GRAPHQL_MAX_FIELD_REPEATS: 20,
      MAX_JSON_DEPTH: 32,
      MAX_OPERATION_TEXTS: 512,
      MAX_OPERATION_TOKENS: 131_072,
      CORS_ORIGINS: [],
      apiKeys: undefined,
      METRICS_TOKEN_SHA256: [],
      TRUST_PROXY_HOPS: 0,
      RATE_LIMIT_TOKENS_PER_SECOND: 0,
    });
    expect(loadConfig({ RATE_LIMIT_TOKENS_PER_SECOND: '250' }).RATE_LIMIT_BURST_TOKENS).toBe(2500);
  });

  it('reads API keys from a file or a variable', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keys-'));
    const file = path.join(dir, 'keys.json');
    const text = JSON.stringify({ keys: [{ id: 'partner', sha256: sha256Hex('k'), models: ['spam-bert'] }] });
    writeFileSync(file, text);
    expect(loadConfig({ API_KEYS_FILE: file }).apiKeys).toMatchObject([{ id: 'partner', models: ['spam-bert'] }]);
    expect(loadConfig({ API_KEYS: text }).apiKeys).toHaveLength(1);
  });

  it('stops on bad values, naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ API_KEYS_FILE: '/nonexistent/keys.json' }, /API_KEYS_FILE is invalid: cannot read/],
      [{ API_KEYS: '{"keys":[{"id":"a","sha256":"short"}]}' }, /API_KEYS is invalid: keys\.0\.sha256/],
      [{ API_KEYS: '{}', API_KEYS_FILE: 'x' }, /API_KEYS is set together with API_KEYS_FILE/],
      [{ CORS_ORIGINS: 'https://ok.example, app.example.com' }, /CORS_ORIGINS/],
      [{ METRICS_TOKEN_SHA256: 'secret-token' }, /METRICS_TOKEN_SHA256/],
      [{ GRAPHQL_MAX_TOKENS: '10' }, /GRAPHQL_MAX_TOKENS/],
      [{ RATE_LIMIT_TOKENS_PER_SECOND: '-1' }, /RATE_LIMIT_TOKENS_PER_SECOND/],
      [{ GRAPHQL_INTROSPECTION: 'maybe' }, /GRAPHQL_INTROSPECTION/],
    ];
    for (const [env, message] of bad) expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
  });
});
