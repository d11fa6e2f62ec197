// The in-process tier: an LRU bounded both by entry count and by (estimated) bytes, with a TTL.
// Entries are kept encoded, in the wire format Redis holds (codec.ts): one string per entry rather
// than a small graph of objects, which is what a busy event loop's garbage collector has to copy and
// promote for every new result (the tier churns through its entries under fresh traffic), and every
// read hands out a fresh copy, so a caller that changes a result in place cannot alter what later
// requests get.
import { LRUCache } from 'lru-cache';
import { decodeTrusted, type CachedResult } from './codec.js';

export interface MemoryTierOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Rough per-entry overhead of the V8 heap and the LRU's bookkeeping, so small entries count for something. */
const ENTRY_OVERHEAD = 96;
const WIDE = /[^\u0000-\u00ff]/;

export class MemoryTier {
  private readonly lru: LRUCache<string, string>;

  constructor(options: MemoryTierOptions) {
    this.lru = new LRUCache<string, string>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // V8 keeps a string of Latin-1 characters at one byte each (keys are hex; entries are JSON and
      // base64 but for the labels), other strings at two.
      sizeCalculation: (encoded, key) => ENTRY_OVERHEAD + key.length + (WIDE.test(encoded) ? 2 : 1) * encoded.length,
      ttl: options.ttlMs,
      // Expiry is checked on read; a timer per entry would cost more than stale entries waiting for
      // eviction.
      ttlAutopurge: false,
    });
  }

  get(key: string): CachedResult | undefined {
    const encoded = this.lru.get(key);
    // Only good entries get in (see set): parsed, not checked again.
    return encoded === undefined ? undefined : decodeTrusted(encoded);
  }

  /**
   * `encoded`: the result as codec.ts encodes it, and known to be good: encoded here (encodeValid) or
   * read from Redis and decoded (decode) without fault. `ttlMs` shortens the entry's life below
   * the tier's TTL (an entry copied from Redis keeps its expiry).
   */
  set(key: string, encoded: string, ttlMs?: number): void {
    // An entry larger than maxBytes is silently not stored by lru-cache, which is what we want.
    this.lru.set(key, encoded, ttlMs === undefined ? undefined : { ttl: ttlMs });
  }

  /** Entries not yet evicted (expired ones included until they are read or pushed out) and their bytes. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  clear(): void {
    this.lru.clear();
  }
}
