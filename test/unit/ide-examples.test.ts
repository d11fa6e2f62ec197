// The IDE's example tabs are valid against the committed schema and cover a first call of each kind.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { IDE_EXAMPLES } from '../../src/server/ide/examples.js';
import { idePage } from '../../src/server/ide/ide-page.js';
import { REPO } from '../support/gateway-process.js';

const schema = buildSchema(readFileSync(path.join(REPO, 'schema.graphql'), 'utf8'));

describe('IDE examples', () => {
  it('validate against schema.graphql, and their variables fill every required variable', () => {
    for (const example of IDE_EXAMPLES) {
      const document = parse(example.query);
      expect(validate(schema, document), example.query).toEqual([]);
      const op = document.definitions[0] as OperationDefinitionNode;
      const required = (op.variableDefinitions ?? []).filter((v) => v.type.kind === 'NonNullType').map((v) => v.variable.name.value);
      expect(Object.keys(example.variables ?? {}).sort()).toEqual(required.sort());
    }
  });

  it('cover classify, classifyBatch, embed, models and health', () => {
    const fields = IDE_EXAMPLES.map((e) => {
      const op = parse(e.query).definitions[0] as OperationDefinitionNode;
      return (op.selectionSet.selections[0] as { name: { value: string } }).name.value;
    });
    expect(fields).toEqual(['classify', 'classifyBatch', 'embed', 'models', 'health']);
  });

  it('travel in the page as JSON that cannot close its script element', () => {
    const html = idePage({}, '/graphql', 't');
    const json = /<script type="application\/json" id="ide-config">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json).tabs).toHaveLength(IDE_EXAMPLES.length);
    expect(json).not.toContain('<');
  });
});
