// The API keys document (API_KEYS_FILE or API_KEYS): which keys exist, what each may call and how
// fast. It holds SHA-256 digests of the keys, never the keys: a leaked file or environment does not
// let anyone call the gateway. `node dist/tools/new-api-key.js <id>` makes a key and its entry.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Key ids appear in logs and as the client identity of limits: short and plain. */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;

const keyEntry = z.strictObject({
  /** Names the key in logs and limits (never the key itself). */
  id: z.string().regex(KEY_ID, '1-64 letters, digits, ".", "_" or "-"'),
  /** SHA-256 of the key, lowercase hex. */
  sha256: z.string().regex(SHA256_HEX, '64 lowercase hex digits (SHA-256 of the key)'),
  /** Models the key may call; "*" (default): every model. */
  models: z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]).default('*'),
  /** This key's rate (tokens per second) and bucket size, instead of RATE_LIMIT_*; 0 = unlimited. */
  tokensPerSecond: z.number().min(0).optional(),
  burstTokens: z.number().int().min(1).optional(),
});

const keysDocument = z
  .strictObject({ keys: z.array(keyEntry).min(1) })
  .superRefine((doc, ctx) => {
    const seen = { id: new Set<string>(), sha256: new Set<string>() };
    doc.keys.forEach((k, i) => {
      for (const field of ['id', 'sha256'] as const) {
        if (seen[field].has(k[field])) ctx.addIssue({ code: 'custom', path: ['keys', i, field], message: `duplicate ${field}` });
        seen[field].add(k[field]);
      }
    });
  });

export type ApiKeyEntry = z.infer<typeof keyEntry>;

/** Parses a keys document; throws with every problem listed (paths inside the document). */
export function parseApiKeys(text: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const parsed = keysDocument.safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data.keys;
}

export function readApiKeysFile(file: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseApiKeys(text);
}
