import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loggedOperationName, textDigest } from '../../src/telemetry/request-log-plugin.js';

describe('request log: text digest', () => {
  it('sizes and hashes the texts, the same for the same texts', () => {
    const a = textDigest({ t: ['free money', 'meeting'] });
    expect(a).toMatchObject({ chars: 17, hash: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(textDigest({ t: ['free money', 'meeting'] })).toEqual(a);
    expect(textDigest({ t: ['free money', 'meeting!'] }).hash).not.toBe(a.hash);
    expect(textDigest({ t: ['x'.repeat(10_000)] }).hash).not.toBe(textDigest({ t: ['x'.repeat(10_001)] }).hash);
  });

  it('walks 100,000-deep variables without overflowing the stack', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => textDigest({ v: deep })).not.toThrow();
  });

  it('stops after a bounded number of values and says so', () => {
    const d = textDigest({ t: Array.from({ length: 50_000 }, () => 'a') });
    expect(d.partial).toBe(true);
    expect(d.chars).toBeLessThan(50_000);
  });
});

describe('request log: operation name', () => {
  const doc = parse('query ClassifyMail { health { status } } query call_4155550199 { health { status } }');
  it('keeps a plain name defined in the document', () => {
    expect(loggedOperationName('ClassifyMail', doc)).toBe('ClassifyMail');
  });

  it('hashes names that are not in the document or carry digit runs', () => {
    expect(loggedOperationName('jane.doe@example.com', doc)).toMatch(/^#[0-9a-f]{12}$/);
    expect(loggedOperationName('call_4155550199', doc)).toMatch(/^#[0-9a-f]{12}$/);
    expect(loggedOperationName(null, doc)).toBeNull();
  });
});
