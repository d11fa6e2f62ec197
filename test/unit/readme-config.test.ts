// The README's configuration table is generated from src/config/config.ts (npm run docs:config); this
// fails when they drift apart, and when a variable is declared without a doc comment.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { configTable, docComments, withTable } from '../../scripts/readme-config.mjs';
import { configFields } from '../../src/config/config.js';
import { REPO } from '../support/gateway-process.js';

const source = readFileSync(path.join(REPO, 'src/config/config.ts'), 'utf8');

describe('README configuration table', () => {
  it('is the table generated from src/config/config.ts (run npm run docs:config after changing it)', () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(withTable(readme, configTable(configFields.shape, source))).toBe(readme);
  });

  it('has a row for every declared variable, with its default and meaning', () => {
    const table: string = configTable(configFields.shape, source);
    for (const name of Object.keys(configFields.shape)) expect(table).toMatch(new RegExp(`^\\| \`${name}\` \\| .+ \\| .+ \\|$`, 'm'));
    expect(table).toContain('| `PORT` | `4000` | TCP port of the HTTP server; 0 picks a free one (tests). |');
    expect(table).toContain('| `GRAPHQL_IDE` | on, off when NODE_ENV is production |');
  });

  it('refuses a variable without a doc comment', () => {
    const undocumented = source.replace(/\/\*\* PORT:[^*]*\*\/\n/, '');
    expect(docComments(undocumented).PORT.text).toBe('');
    expect(() => configTable(configFields.shape, undocumented)).toThrow('PORT has no doc comment in src/config/config.ts');
  });
});
