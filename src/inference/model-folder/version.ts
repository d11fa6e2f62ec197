// A model's version when model.json gives none: derived from the weights, so that different weights
// never share a version (nor cache entries) and the same weights always get the same one.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Reading } from './read-from.js';

export async function weightsVersion(folder: string, weights: string): Promise<Reading<string>> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path.join(folder, weights))) hash.update(chunk as Buffer);
  return { value: hash.digest('hex').slice(0, 12), from: `sha256 of ${weights} (no version in model.json)` };
}
