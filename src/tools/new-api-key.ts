// Makes an API key: `npm run key:new -- <id> [model ...]` prints the key (give it to the client, once;
// it is stored nowhere) and its entry for the keys file (its SHA-256 digest).
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { sha256Hex } from '../access/credentials.js';
import { KEY_ID, type ApiKeyEntry } from '../config/api-keys-file.js';

/** A new key and its entry. 32 random bytes: a key nobody can guess, which is why its plain SHA-256 is safe to store. */
export function newApiKey(id: string, models: readonly string[] = []): { key: string; entry: Pick<ApiKeyEntry, 'id' | 'sha256' | 'models'> } {
  if (!KEY_ID.test(id)) throw new Error('id: 1-64 letters, digits, ".", "_" or "-"');
  const key = `nlpg_${randomBytes(32).toString('base64url')}`;
  return { key, entry: { id, sha256: sha256Hex(key), models: models.length > 0 ? [...models] : '*' } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [id, ...models] = process.argv.slice(2);
  try {
    const { key, entry } = newApiKey(id ?? '', models);
    console.log(`key (give to the client; shown once):\n  ${key}\nentry for API_KEYS_FILE ("keys" array):\n  ${JSON.stringify(entry)}`);
  } catch (e) {
    console.error(`usage: npm run key:new -- <id> [model ...]\n${(e as Error).message}`);
    process.exit(2);
  }
}
