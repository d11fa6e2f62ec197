// What an operation will cost in model work, computed before it runs from the document and the
// variables: the texts it sends (every `text` argument, every item of every `texts` list, over all
// root fields, aliases included) and an upper bound on their tokens. Cost is model work, not fields:
// one classifyBatch of 256 texts costs 256 texts, 256 aliased classify fields cost the same.
//
// Root fields are collected as execution collects them (fragments followed once, fields with the
// same response key merged), so the estimate is linear in the document, whatever its fragments.
import {
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { OperationCost } from '../errors/errors.js';
import type { Task } from '../inference/model-spec.js';

/** What the estimate needs to know of a model. */
export interface ModelBound {
  name: string;
  maxTokens: number;
  /** Tokens the tokenizer adds to every text ([CLS], [SEP]). */
  specialTokens: number;
}

/** The model a field would use (by name, or the task's default); undefined when it cannot be resolved. */
export type ModelLookup = (name: string | null, task: Task) => ModelBound | undefined;

/**
 * The task of each root field that does model work: every root field with a `text` or `texts`
 * argument (the schema has no other; validation, which runs before the estimate, refuses unknown ones).
 */
const TASK_OF_FIELD: Partial<Record<string, Task>> = {
  classify: 'classification',
  classifyBatch: 'classification',
  embed: 'embedding',
  embedBatch: 'embedding',
};

export interface FieldCost extends OperationCost {
  field: string;
  /** The model it would use; undefined when the name is unknown (the operation then fails without work). */
  model: string | undefined;
}

export interface CostEstimate extends OperationCost {
  fields: FieldCost[];
}

/** Root fields of the operation by response key, as execution collects them. */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const byKey = new Map<string, FieldNode>();
  const visited = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        if (!byKey.has(key)) byKey.set(key, s);
      } else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      else if (!visited.has(s.name.value)) {
        visited.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(selectionSet);
  return [...byKey.values()];
}

/** Variables as the operation sees them: the request's, with the operation's defaults for the rest. */
function effectiveVariables(operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...variables };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (out[name] === undefined && def.defaultValue) out[name] = valueFromASTUntyped(def.defaultValue);
  }
  return out;
}

export function estimateCost(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  lookup: ModelLookup,
): CostEstimate {
  const vars = effectiveVariables(operation, variables);
  const fields: FieldCost[] = [];
  for (const field of rootFields(document, operation.selectionSet)) {
    const arg = (name: string) => {
      const node = field.arguments?.find((a) => a.name.value === name);
      return node ? valueFromASTUntyped(node.value, vars) : undefined;
    };
    const one = arg('text');
    const many = arg('texts');
    // A list argument given one value is coerced to a list of one.
    const texts = [...(one == null ? [] : [one]), ...(many == null ? [] : Array.isArray(many) ? many : [many])];
    if (texts.length === 0) continue;
    const requested = arg('model');
    const task = TASK_OF_FIELD[field.name.value];
    const model = task === undefined ? undefined : lookup(typeof requested === 'string' ? requested : null, task);
    let tokens = 0;
    if (model) {
      for (const text of texts) tokens += Math.min(model.maxTokens, (typeof text === 'string' ? text.length : 0) + model.specialTokens);
    }
    fields.push({ field: field.name.value, model: model?.name, texts: texts.length, tokens });
  }
  return {
    texts: fields.reduce((n, f) => n + f.texts, 0),
    tokens: fields.reduce((n, f) => n + f.tokens, 0),
    fields,
  };
}
