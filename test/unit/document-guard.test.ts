import { buildSchema, getIntrospectionQuery } from 'graphql';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DocumentGuard } from '../../src/limits/document-guard.js';
import { REPO } from '../support/gateway-process.js';

const schema = buildSchema(readFileSync(path.join(REPO, 'schema.graphql'), 'utf8'));
const limits = { maxChars: 10_000, maxTokens: 1000, maxAliases: 15, maxDepth: 6, maxDirectives: 20, maxCost: 5000, maxFieldRepeats: 20 };
const guard = new DocumentGuard(schema, limits);
const limitOf = (query: string) => guard.check(query)?.details['limit'];

describe('document guard', () => {
  it('lets ordinary documents, introspection and plain syntax errors through (Apollo reports the latter)', () => {
    expect(guard.check('{ classify(text: "x") { label score scores { label score } model { name version } tokens } }')).toBeUndefined();
    expect(guard.check(getIntrospectionQuery())).toBeUndefined();
    expect(guard.check('{ health { ')).toBeUndefined();
  });

  it('refuses by size before parsing, and by tokens while parsing', () => {
    expect(limitOf(`# ${'x'.repeat(10_000)}\n{ health { status } }`)).toBe('size');
    expect(guard.check(`{ health { ${'status '.repeat(1001)} } }`)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', details: { limit: 'tokens', max: 1000 } });
  });

  it('refuses one response name repeated over the limit, fragments and inline fragments included', () => {
    expect(limitOf(`{ health { ${'status '.repeat(20)} } }`)).toBeUndefined();
    expect(limitOf(`{ health { ${'status '.repeat(21)} } }`)).toBe('fieldRepeats');
    expect(limitOf(`{ health { ...F ... on Health { ${'status '.repeat(11)} } } } fragment F on Health { ${'status '.repeat(10)} }`)).toBe('fieldRepeats');
    // A named fragment spread twice in one selection set is executed once.
    expect(limitOf(`{ health { ...F ...F } } fragment F on Health { ${'status '.repeat(15)} }`)).toBeUndefined();
  });

  it('applies graphql-armor depth, alias, directive and cost limits', () => {
    expect(limitOf(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: classify(text: "x") { label }`).join(' ')} }`)).toBe('aliases');
    expect(limitOf(`{${' a {'.repeat(8)} b ${'} '.repeat(8)}}`)).toBe('depth');
    expect(limitOf(`{ health { ${Array.from({ length: 21 }, (_, i) => `... @include(if: true) { f${i}: status }`).join(' ')} } }`)).toBe('aliases');
    expect(limitOf(`{ health { ${Array.from({ length: 21 }, (_, i) => `... @include(if: true) { ${i % 2 ? 'status' : 'version'} }`).join(' ')} } }`)).toBe('directives');
    expect(limitOf(`{ health { ${'...F '.repeat(400)} } } fragment F on Health { status version }`)).toBe('cost');
  });

  it('stays linear on fragments that double 30 times', () => {
    let q = '{ health { ...F30 } } fragment F0 on Health { status } ';
    for (let i = 1; i <= 30; i++) q += `fragment F${i} on Health { ...F${i - 1} ...F${i - 1} } `;
    const started = performance.now();
    expect(limitOf(q)).toBe('depth');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses operations the schema has no root for, as a validation error', () => {
    for (const q of ['mutation { x }', 'subscription S { health { status } }', 'query A { health { status } } mutation B { y }']) {
      expect(guard.check(q)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    }
  });

  it('remembers verdicts per document text', () => {
    const q = `{ health { ${'status '.repeat(500)} } }`;
    const first = guard.check(q);
    expect(guard.check(q)).toBe(first);
  });
});
