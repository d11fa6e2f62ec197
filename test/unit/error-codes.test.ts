// Public error codes are API: each is documented, and codes that mean a client mistake or a refusal by
// policy stay out of the error-rate alert (any code not excluded there counts as a server fault).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_CODES, ErrorCode } from '../../src/errors/codes.js';
import { REPO } from '../support/gateway-process.js';

describe('public error codes', () => {
  it('are each documented in docs/security.md', () => {
    const doc = readFileSync(path.join(REPO, 'docs/security.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect(Object.values(ErrorCode).filter((c) => !documented.has(c))).toEqual([]);
  });

  it('of clients are left out of the error-rate alert', () => {
    const rules = readFileSync(path.join(REPO, 'deploy/prometheus/alerts.yml'), 'utf8');
    const excluded = new Set(/nlp_errors_total\{code!~"([^"]+)"\}/.exec(rules)![1]!.split('|'));
    expect([...CLIENT_CODES].filter((c) => !excluded.has(c))).toEqual([]);
    expect(excluded.has(ErrorCode.INTERNAL_SERVER_ERROR)).toBe(false);
  });
});
