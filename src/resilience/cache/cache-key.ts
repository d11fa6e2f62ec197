// Cache keys: a SHA-256 over everything that changes a model's answer, so that texts never reach the
// cache (or Redis, or a log) in the clear and two different requests can never share an entry.
import { createHash } from 'node:crypto';
import { FORMAT_VERSION } from './codec.js';

export type KeyOption = string | number | boolean;

export interface CacheKeyInput {
  model: string;
  version: string;
  /** Every option that changes the output (e.g. normalisation, truncation length); order is irrelevant. */
  options: Readonly<Record<string, KeyOption>>;
  text: string;
}

/**
 * 64 hex chars. The hashed input is a JSON array, which keeps every part unambiguous (strings are
 * quoted and escaped; "1", 1 and true differ). The codec's format version is part of it, so replicas
 * on different formats during a rolling deploy use disjoint keys instead of reading each other's
 * entries as corrupt.
 */
export function cacheKey({ model, version, options, text }: CacheKeyInput): string {
  const sorted = Object.keys(options)
    .sort()
    .map((name) => {
      const value = options[name]!;
      // JSON writes NaN and Infinity as null; refuse rather than let them collide.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new TypeError(`cache key option "${name}" is not a finite number`);
      }
      return [name, value];
    });
  const encoded = JSON.stringify([`result-cache/${FORMAT_VERSION}`, model, version, sorted, text]);
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}
