// The in-process tier: an LRU bounded both by entry count and by (estimated) bytes, with a TTL.
// Values are copied in and out, so a caller that normalises a vector in place cannot alter what
// later requests get.
import { LRUCache } from 'lru-cache';
import type { CachedResult } from './codec.js';

export interface MemoryTierOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Rough per-object overhead of the V8 heap, so that small entries still count for something. */
const ENTRY_OVERHEAD = 96;
const SCORE_OVERHEAD = 48;

export class MemoryTier {
  private readonly lru: LRUCache<string, CachedResult>;

  constructor(options: MemoryTierOptions) {
    this.lru = new LRUCache<string, CachedResult>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: estimateBytes,
      ttl: options.ttlMs,
      // Expiry is checked on read; a timer per entry would cost more than stale entries waiting for
      // eviction.
      ttlAutopurge: false,
    });
  }

  get(key: string): CachedResult | undefined {
    const value = this.lru.get(key);
    return value && copy(value);
  }

  /** `ttlMs` shortens the entry's life below the tier's TTL (an entry copied from Redis keeps its expiry). */
  set(key: string, value: CachedResult, ttlMs?: number): void {
    // An entry larger than maxBytes is silently not stored by lru-cache, which is what we want.
    this.lru.set(key, copy(value), ttlMs === undefined ? undefined : { ttl: ttlMs });
  }

  /** Entries not yet evicted (expired ones included until they are read or pushed out) and their bytes. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  clear(): void {
    this.lru.clear();
  }
}

function estimateBytes(value: CachedResult): number {
  if (value.kind === 'embedding') return ENTRY_OVERHEAD + value.vector.byteLength;
  return value.scores.reduce((n, s) => n + SCORE_OVERHEAD + 2 * s.label.length, ENTRY_OVERHEAD);
}

function copy(value: CachedResult): CachedResult {
  return value.kind === 'embedding'
    ? { ...value, vector: value.vector.slice() }
    : { ...value, scores: value.scores.map((s) => ({ label: s.label, score: s.score })) };
}
