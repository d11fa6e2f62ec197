// Credentials as clients present them, and the set of digests they are checked against. Keys and
// tokens are random, high-entropy strings (32 random bytes), so a plain SHA-256 digest is enough to
// store them: nobody can find a key from its digest, and there is no low-entropy secret for a slow
// password hash (bcrypt, scrypt) to protect; such a hash would also cost tens of ms of CPU per request.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Longest credential looked at; anything longer is wrong without hashing it. */
const MAX_CREDENTIAL_CHARS = 256;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key sent as `Authorization: Bearer <key>` or `x-api-key: <key>` (in that order), if any. */
export function presentedCredential(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) return BEARER.exec(auth)?.[1] ?? '';
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : undefined;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Digests of the credentials allowed, each with what it stands for. match() compares the presented
 * credential's digest with every entry in constant time and without stopping at the first match, so
 * its timing tells nothing about which digests exist.
 */
export class DigestSet<T> {
  private readonly entries: { digest: Buffer; value: T }[];

  constructor(entries: readonly { sha256: string; value: T }[]) {
    this.entries = entries.map((e) => ({ digest: Buffer.from(e.sha256, 'hex'), value: e.value }));
  }

  match(credential: string): T | undefined {
    if (credential.length === 0 || credential.length > MAX_CREDENTIAL_CHARS) return undefined;
    const digest = createHash('sha256').update(credential, 'utf8').digest();
    let found: T | undefined;
    for (const entry of this.entries) if (timingSafeEqual(digest, entry.digest)) found = entry.value;
    return found;
  }
}
