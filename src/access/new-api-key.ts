// Makes an API key and its entry for the keys file (its SHA-256 digest): `nlp-gateway keys new`.
import { randomBytes } from 'node:crypto';
import { sha256Hex } from './credentials.js';
import { KEY_ID, type ApiKeyEntry } from '../config/api-keys-file.js';

/** A new key and its entry. 32 random bytes: a key nobody can guess, which is why its plain SHA-256 is safe to store. */
export function newApiKey(id: string, models: readonly string[] = []): { key: string; entry: Pick<ApiKeyEntry, 'id' | 'sha256' | 'models'> } {
  if (!KEY_ID.test(id)) throw new Error('id: 1-64 letters, digits, ".", "_" or "-"');
  const key = `nlpg_${randomBytes(32).toString('base64url')}`;
  return { key, entry: { id, sha256: sha256Hex(key), models: models.length > 0 ? [...models] : '*' } };
}

