import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimateCost, type ModelLookup } from '../../src/limits/operation-cost.js';

// Model bounds as the gateway's registry gives them for the built-in models.
const MODELS = {
  'spam-bert': { name: 'spam-bert', task: 'classification', maxTokens: 128, specialTokens: 2 },
  'spam-linear': { name: 'spam-linear', task: 'classification', maxTokens: 512, specialTokens: 0 },
  'glove-embed-100d': { name: 'glove-embed-100d', task: 'embedding', maxTokens: 512, specialTokens: 0 },
} as const;
const DEFAULTS = { classification: 'spam-bert', embedding: 'glove-embed-100d' } as const;
const lookup: ModelLookup = (name, task) => {
  const m = MODELS[(name ?? (task && DEFAULTS[task])) as keyof typeof MODELS];
  return m && (!task || m.task === task) ? m : undefined;
};

function cost(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const doc = parse(query);
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName)! : ops[0]!;
  return estimateCost(doc, op, variables, lookup);
}

describe('operation cost', () => {
  it('counts a text as one text of min(maxTokens, characters + special tokens) tokens', () => {
    expect(cost('{ classify(text: "abcd") { label } }')).toMatchObject({ texts: 1, tokens: 6 });
    expect(cost(`{ classify(text: "${'a'.repeat(1000)}") { label } }`)).toMatchObject({ texts: 1, tokens: 128 });
    expect(cost(`{ classify(text: "${'a'.repeat(1000)}", model: "spam-linear") { label } }`)).toMatchObject({ texts: 1, tokens: 512 });
  });

  it('counts aliases and batch items together, literal or in variables', () => {
    const q = 'query($t: [String!]!, $one: String!) { a: classifyBatch(texts: $t) { label } b: classify(text: $one) { label } c: embedBatch(texts: ["x", $one]) { dimensions } }';
    const c = cost(q, { t: ['a', 'bb', 'ccc'], one: 'dddd' });
    expect(c.texts).toBe(6);
    expect(c.tokens).toBe(3 + 4 + 5 + 6 + 1 + 4);
    expect(c.fields.map((f) => [f.field, f.model, f.texts])).toEqual([
      ['classifyBatch', 'spam-bert', 3],
      ['classify', 'spam-bert', 1],
      ['embedBatch', 'glove-embed-100d', 2],
    ]);
  });

  it('counts one value given for a list as a list of one, and uses variable defaults', () => {
    expect(cost('query($t: [String!]!) { classifyBatch(texts: $t) { label } }', { t: 'single' }).texts).toBe(1);
    expect(cost('query($t: String! = "abc") { classify(text: $t) { label } }', {})).toMatchObject({ texts: 1, tokens: 5 });
  });

  it('merges fields with one response key and follows each fragment once, as execution does', () => {
    expect(cost('{ classify(text: "x") { label } classify(text: "x") { score } }').texts).toBe(1);
    let q = '{ ...F20 } fragment F0 on Query { classify(text: "x") { label } } ';
    for (let i = 1; i <= 20; i++) q += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} } `;
    expect(cost(q).texts).toBe(1);
    expect(cost('{ ... on Query { a: classify(text: "x") { label } } ... on Query { b: classify(text: "y") { label } } }').texts).toBe(2);
  });

  it('costs fields of an unknown model nothing (they fail before any work) and ignores fields without texts', () => {
    expect(cost('{ classify(text: "x", model: "nope") { label } health { status } models { name } }')).toMatchObject({ texts: 1, tokens: 0 });
    expect(cost('{ health { status } }')).toMatchObject({ texts: 0, tokens: 0, fields: [] });
  });

  it('selects the operation by name', () => {
    const q = 'query A { classify(text: "x") { label } } query B { classifyBatch(texts: ["a", "b"]) { label } }';
    expect(cost(q, undefined, 'B').texts).toBe(2);
  });
});
