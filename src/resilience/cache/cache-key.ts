// Cache keys: a SHA-256 over everything that changes a model's answer, so that texts never reach the
// cache (or Redis, or a log) in the clear and two different requests can never share an entry.
import { createHash, hash } from 'node:crypto';
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
 * The key function of one model (and options): 64 hex chars per text. What is not the text is
 * hashed once, as a JSON array (strings quoted and escaped; "1", 1 and true differ), and every key
 * hashes that fixed-length digest followed by the text, so no two inputs can run together and a
 * text costs one SHA-256 of itself. The codec's format version is part of it, so replicas on
 * different formats during a rolling deploy use disjoint keys instead of reading each other's
 * entries as corrupt.
 */
export function cacheKeyer({ model, version, options }: Omit<CacheKeyInput, 'text'>): (text: string) => string {
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
  const prefix = createHash('sha256')
    .update(JSON.stringify([`result-cache/${FORMAT_VERSION}/2`, model, version, sorted]), 'utf8')
    .digest('hex');
  return (text) => hash('sha256', prefix + text, 'hex');
}

export function cacheKey({ text, ...rest }: CacheKeyInput): string {
  return cacheKeyer(rest)(text);
}
