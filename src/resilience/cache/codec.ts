// Wire format of cached results, as stored in Redis and shared by every replica:
//
//   r<FORMAT_VERSION>:<checksum>:<json>
//
// The checksum (first 64 bits of SHA-256 over the JSON) catches truncated or altered entries; strict
// validation of the parsed JSON catches well-formed but foreign ones. Either way decode() answers
// undefined: a cache may miss, it must never answer wrongly.
//
// Embedding vectors travel as base64 of their float32 bytes: bit-exact, and about a third of the size
// of a JSON number array. Bytes are in host order, which is little-endian on every platform Node runs
// on in practice.
import { createHash } from 'node:crypto';

export type CachedResult =
  | { kind: 'classification'; scores: { label: string; score: number }[]; tokens: number; truncated: boolean }
  | { kind: 'embedding'; vector: Float32Array; tokens: number; truncated: boolean };

/** Bump when the wire format changes; it is also part of every cache key (see cache-key.ts). */
export const FORMAT_VERSION = 1;

const PREFIX = `r${FORMAT_VERSION}:`;
const CHECKSUM_CHARS = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Far above any real embedding; stops a foreign entry from making us allocate a huge array. */
const MAX_DIMENSIONS = 1 << 16;

type Wire =
  | { k: 'c'; t: number; x: boolean; s: [string, number][] }
  | { k: 'e'; t: number; x: boolean; d: number; v: string };

/** Throws TypeError for a value that is not a valid result (it would not decode on any replica). */
export function encode(result: CachedResult): string {
  if (!isValidResult(result)) throw new TypeError('not a valid cached result (wrong shape or non-finite number)');
  return encodeValid(result);
}

/** encode() for a result already checked with isValidResult. */
export function encodeValid(result: CachedResult): string {
  const { tokens: t, truncated: x } = result;
  const wire: Wire =
    result.kind === 'classification'
      ? { k: 'c', t, x, s: result.scores.map(({ label, score }) => [label, score]) }
      : { k: 'e', t, x, d: result.vector.length, v: floatsToBase64(result.vector) };
  const body = JSON.stringify(wire);
  return `${PREFIX}${checksum(body)}:${body}`;
}

/** The result, or undefined for anything corrupt, foreign or from another format version. */
export function decode(encoded: unknown): CachedResult | undefined {
  if (typeof encoded !== 'string' || !encoded.startsWith(PREFIX)) return undefined;
  const sumEnd = PREFIX.length + CHECKSUM_CHARS;
  if (encoded[sumEnd] !== ':') return undefined;
  const body = encoded.slice(sumEnd + 1);
  if (encoded.slice(PREFIX.length, sumEnd) !== checksum(body)) return undefined;
  let wire: unknown;
  try {
    wire = JSON.parse(body);
  } catch {
    return undefined;
  }
  const result = fromWire(wire);
  return result && isValidResult(result) ? result : undefined;
}

/**
 * decode() for a string known to be good: one this process encoded (encodeValid) or decoded already.
 * No checksum or validation, only the parse; anything else is a bug (it may throw or answer wrongly).
 */
export function decodeTrusted(encoded: string): CachedResult {
  const wire = JSON.parse(encoded.slice(PREFIX.length + CHECKSUM_CHARS + 1)) as Wire;
  const meta = { tokens: wire.t, truncated: wire.x };
  if (wire.k === 'c') return { kind: 'classification', scores: wire.s.map(([label, score]) => ({ label, score })), ...meta };
  // A fresh, aligned copy (Buffer.from may return a slice of a shared pool).
  const vector = new Float32Array(wire.d);
  new Uint8Array(vector.buffer).set(Buffer.from(wire.v, 'base64'));
  return { kind: 'embedding', vector, ...meta };
}

export function isValidResult(r: CachedResult): boolean {
  if (typeof r !== 'object' || r === null) return false;
  if (!Number.isSafeInteger(r.tokens) || r.tokens < 0 || typeof r.truncated !== 'boolean') return false;
  if (r.kind === 'classification') {
    return (
      Array.isArray(r.scores) &&
      r.scores.length > 0 &&
      r.scores.every(
        (s) => typeof s === 'object' && s !== null && typeof s.label === 'string' && isProbability(s.score),
      )
    );
  }
  if (r.kind === 'embedding') {
    return (
      r.vector instanceof Float32Array &&
      r.vector.length > 0 &&
      r.vector.length <= MAX_DIMENSIONS &&
      r.vector.every(Number.isFinite)
    );
  }
  return false;
}

function fromWire(w: unknown): CachedResult | undefined {
  if (!isRecord(w)) return undefined;
  const tokens = w['t'];
  const truncated = w['x'];
  if (typeof tokens !== 'number' || typeof truncated !== 'boolean') return undefined;
  if (w['k'] === 'c' && hasExactly(w, ['k', 't', 'x', 's'])) {
    const s = w['s'];
    if (!Array.isArray(s)) return undefined;
    const scores: { label: string; score: number }[] = [];
    for (const pair of s) {
      if (!Array.isArray(pair) || pair.length !== 2) return undefined;
      const [label, score] = pair as unknown[];
      if (typeof label !== 'string' || typeof score !== 'number') return undefined;
      scores.push({ label, score });
    }
    return { kind: 'classification', scores, tokens, truncated };
  }
  if (w['k'] === 'e' && hasExactly(w, ['k', 't', 'x', 'd', 'v'])) {
    const d = w['d'];
    const v = w['v'];
    if (!Number.isSafeInteger(d) || (d as number) < 1 || (d as number) > MAX_DIMENSIONS) return undefined;
    if (typeof v !== 'string') return undefined;
    const vector = base64ToFloats(v, d as number);
    return vector && { kind: 'embedding', vector, tokens, truncated };
  }
  return undefined;
}

function floatsToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

function base64ToFloats(text: string, dimensions: number): Float32Array | undefined {
  // Buffer's decoder skips characters it does not know; a strict check keeps damage from going unseen.
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== dimensions * 4) return undefined;
  // Copy into a fresh, aligned buffer: Buffer.from may return a slice of a shared pool.
  const vector = new Float32Array(dimensions);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}

function checksum(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex').slice(0, CHECKSUM_CHARS);
}

function isProbability(x: unknown): boolean {
  return typeof x === 'number' && x >= 0 && x <= 1;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function hasExactly(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}
