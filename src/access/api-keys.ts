// API keys: who is calling, what they may call, how fast. On when API_KEYS_FILE or API_KEYS is set;
// then every /graphql request needs a key. The client identity used by limits and fair shares is the
// key's id, never the key.
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKeyEntry } from '../config/api-keys-file.js';
import { DigestSet, presentedCredential } from './credentials.js';

/** A caller identified by its key. */
export interface KeyIdentity {
  id: string;
  /** Whether the key may call this model. */
  allows(model: string): boolean;
  /** Per-key rate, when the keys file gives one. */
  rate?: { tokensPerSecond?: number; burstTokens?: number };
}

export type Authentication = { ok: true; key: KeyIdentity } | { ok: false; reason: 'missing' | 'invalid' };

function identity(entry: ApiKeyEntry): KeyIdentity {
  const models = entry.models === '*' ? undefined : new Set(entry.models);
  const rate = entry.tokensPerSecond !== undefined || entry.burstTokens !== undefined ? { tokensPerSecond: entry.tokensPerSecond, burstTokens: entry.burstTokens } : undefined;
  return { id: entry.id, allows: (model) => !models || models.has(model), rate };
}

export class ApiKeys {
  private readonly digests: DigestSet<KeyIdentity>;

  constructor(entries: readonly ApiKeyEntry[]) {
    this.digests = new DigestSet(entries.map((e) => ({ sha256: e.sha256, value: identity(e) })));
  }

  authenticate(headers: IncomingHttpHeaders): Authentication {
    const credential = presentedCredential(headers);
    if (credential === undefined) return { ok: false, reason: 'missing' };
    const key = this.digests.match(credential);
    return key ? { ok: true, key } : { ok: false, reason: 'invalid' };
  }
}

/** Model names a keys file allows that the repository does not have (a typo would deny silently). */
export function unknownModels(entries: readonly ApiKeyEntry[], models: readonly string[]): string[] {
  const known = new Set(models);
  return entries.flatMap((e) => (e.models === '*' ? [] : e.models.filter((m) => !known.has(m)).map((m) => `${e.id}: ${m}`)));
}
