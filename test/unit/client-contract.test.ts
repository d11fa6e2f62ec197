// The client package stays in step with the server: its error codes are the server's, and its
// operations cover every query of the committed schema and validate against it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, getNamedType, isObjectType, parse, TypeInfo, validate, visit, visitWithTypeInfo, type DocumentNode, type GraphQLObjectType } from 'graphql';
import { SERVER_ERROR_CODES } from 'nlp-gateway/client';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/codes.js';
import { GRAPHQL_OWN_CODES } from '../../src/errors/format-error.js';
import { REPO } from '../support/gateway-process.js';

const schema = buildSchema(readFileSync(path.join(REPO, 'schema.graphql'), 'utf8'));
const OPERATIONS = path.join(REPO, 'client/operations');

function operations(): DocumentNode {
  const files = readdirSync(OPERATIONS).filter((f) => f.endsWith('.graphql'));
  return parse(files.map((f) => readFileSync(path.join(OPERATIONS, f), 'utf8')).join('\n'));
}

describe('the client package', () => {
  it('knows exactly the error codes the server can send (the built list matches src/errors)', () => {
    const server = [...new Set([...Object.values(ErrorCode), ...GRAPHQL_OWN_CODES])].sort();
    expect([...SERVER_ERROR_CODES]).toEqual(server);
  });

  it('has a valid operation for every query field of schema.graphql, selecting every field of its type', () => {
    const document = operations();
    expect(validate(schema, document)).toEqual([]);
    // Every field the operations select, as Type.field ...
    const selected = new Set<string>();
    const info = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(info, {
        Field(node) {
          selected.add(`${info.getParentType()!.name}.${node.name.value}`);
        },
      }),
    );
    // ... against every field of every type a query can return.
    const all = new Set<string>();
    const walk = (type: GraphQLObjectType) => {
      for (const field of Object.values(type.getFields())) {
        const key = `${type.name}.${field.name}`;
        if (all.has(key)) continue;
        all.add(key);
        const named = getNamedType(field.type);
        if (isObjectType(named)) walk(named);
      }
    };
    walk(schema.getQueryType()!);
    expect([...selected].sort()).toEqual([...all].sort());
  });
});
