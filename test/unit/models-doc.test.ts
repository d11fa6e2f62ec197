// docs/models.md's compatibility table is what the export fixtures are, as the gateway reads them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { compatibilityTable } from '../support/compat-table.js';
import { REPO } from '../support/gateway-process.js';

it('docs/models.md shows the compatibility table derived from the fixtures', async () => {
  const doc = await readFile(path.join(REPO, 'docs/models.md'), 'utf8');
  const shown = /<!-- compatibility-table:start -->\n([\s\S]*?)\n<!-- compatibility-table:end -->/.exec(doc)?.[1];
  // On a mismatch, the expected table is printed: paste it into the document.
  expect(shown).toBe(await compatibilityTable());
});
