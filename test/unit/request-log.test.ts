import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { inputSize, loggedOperationName } from '../../src/telemetry/request-log-plugin.js';

describe('request log: input size', () => {
  it('counts the texts and their characters, nothing of what they say', () => {
    const a = inputSize({ t: ['free money', 'meeting'], m: 'spam-bert' });
    expect(a).toEqual({ strings: 3, chars: 26 });
    expect(JSON.stringify(a)).not.toContain('money');
  });

  it('walks 100,000-deep variables without overflowing the stack', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inputSize({ v: deep })).toMatchObject({ partial: true });
  });

  it('stops after a bounded number of values and says so', () => {
    const d = inputSize({ t: Array.from({ length: 50_000 }, () => 'a') });
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
