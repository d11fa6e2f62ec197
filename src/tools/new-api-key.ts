// Makes an API key: `node dist/tools/new-api-key.js <id> [model ...]` prints the key (give it to the
// client, once; it is not stored anywhere) and the entry for the keys file (its SHA-256 digest).
import { randomBytes } from 'node:crypto';
import { KEY_ID } from '../config/api-keys-file.js';
import { sha256Hex } from '../access/credentials.js';

const [id, ...models] = process.argv.slice(2);
if (!id || !KEY_ID.test(id)) {
  console.error('usage: new-api-key <id> [model ...]   (id: 1-64 letters, digits, ".", "_" or "-")');
  process.exit(2);
}
// 32 random bytes: a key nobody can guess, which is why its plain SHA-256 is safe to store.
const key = `nlpg_${randomBytes(32).toString('base64url')}`;
const entry = { id, sha256: sha256Hex(key), models: models.length > 0 ? models : '*' };
console.log(`key (give to the client; shown once):\n  ${key}\nentry for API_KEYS_FILE ("keys" array):\n  ${JSON.stringify(entry)}`);
