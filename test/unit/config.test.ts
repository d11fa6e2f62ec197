// Configuration mistakes stop start-up naming the variable, empty values included; the IDE's default
// follows NODE_ENV.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

function problems(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe('loadConfig', () => {
  it('refuses empty values, naming each variable (PORT= would otherwise listen on a random port)', () => {
    expect(problems({ PORT: '', LOG_LEVEL: ' ' })).toEqual([
      { variable: 'PORT', problem: 'is empty: unset it for its default, or give a value' },
      { variable: 'LOG_LEVEL', problem: 'is empty: unset it for its default, or give a value' },
    ]);
  });

  it('names every bad variable and what is wrong with it', () => {
    const found = problems({ PORT: 'eighty', GRAPHQL_IDE: 'maybe', BATCH_MAX_SIZE: '0' });
    expect(found.map((p) => p.variable).sort()).toEqual(['BATCH_MAX_SIZE', 'GRAPHQL_IDE', 'PORT']);
    expect(found.every((p) => p.problem.startsWith('is invalid: '))).toBe(true);
    expect(new ConfigError(found).message).toMatch(/^invalid configuration: .*PORT is invalid/);
  });

  it('turns the IDE on by default, off with NODE_ENV=production unless GRAPHQL_IDE says otherwise', () => {
    expect(loadConfig({}).GRAPHQL_IDE).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).GRAPHQL_IDE).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_IDE: 'true' }).GRAPHQL_IDE).toBe(true);
    expect(loadConfig({ GRAPHQL_IDE: 'false' }).GRAPHQL_IDE).toBe(false);
  });
});
