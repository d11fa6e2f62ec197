// Shape limits on a GraphQL document, checked before Apollo parses and validates it: size, tokens
// (parsing stops at the limit), then operation types, repeated fields, and graphql-armor's depth,
// alias, directive and cost rules, all cheap single passes. They run here, ahead of Apollo, because
// Apollo runs custom validation rules together with the standard ones, and the standard
// overlapping-fields rule is quadratic in repeated fields (graphql-js #3955): 250 repeats of one
// field cost 80 ms of validation, 1,000 cost a second. Verdicts are cached per document text.
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLArmorCallbackConfiguration } from '@escape.tech/graphql-armor-types';
import {
  GraphQLError,
  Kind,
  parse,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { ErrorCode } from '../errors/codes.js';
import { QueryTooComplexError, type QueryLimit } from '../errors/errors.js';

export interface DocumentLimits {
  maxChars: number;
  maxTokens: number;
  maxAliases: number;
  maxDepth: number;
  maxDirectives: number;
  maxCost: number;
  maxFieldRepeats: number;
}

/** Why a document is refused: a public code, its message and client-safe details. */
export interface DocumentRefusal {
  code: ErrorCode.QUERY_TOO_COMPLEX | 'GRAPHQL_VALIDATION_FAILED';
  message: string;
  details: Record<string, unknown>;
}

/** graphql-js 16 spells it "more that"; later versions "more than". */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] \d+ tokens/;

/** A QueryTooComplexError as validation rules report errors. */
function limitError(limit: QueryLimit, max: number, message: string): GraphQLError {
  const error = new QueryTooComplexError(limit, max, message);
  return new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, ...error.details } });
}

/**
 * Operations of a type the schema has no root for (mutation, subscription here). graphql-js 16 only
 * notices at execution, as a server error; graphql 17 has this rule (KnownOperationTypesRule).
 */
function knownOperationTypes(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (context.getSchema().getRootType(node.operation)) return;
      context.reportError(
        new GraphQLError(`This gateway answers queries only; ${node.operation} operations are not supported.`, {
          nodes: [node],
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
      );
    },
  };
}

/**
 * At most `max` fields with one response name in any selection set, counting inline fragments and
 * each named fragment spread in it (once, as execution does). Fragment counts are memoised.
 */
function fieldRepeats(max: number): ValidationRule {
  return (context) => {
    const memo = new Map<string, Map<string, number>>();
    const fragmentCounts = (name: string, visiting: Set<string>): Map<string, number> => {
      const known = memo.get(name);
      if (known) return known;
      const fragment: FragmentDefinitionNode | undefined | null = context.getFragment(name);
      if (!fragment || visiting.has(name)) return new Map(); // unknown or cyclic: other rules report it
      visiting.add(name);
      const counts = countSet(fragment.selectionSet, visiting);
      visiting.delete(name);
      memo.set(name, counts);
      return counts;
    };
    const countSet = (set: SelectionSetNode, visiting: Set<string>, spread = new Set<string>(), counts = new Map<string, number>()) => {
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          const key = s.alias?.value ?? s.name.value;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        } else if (s.kind === Kind.INLINE_FRAGMENT) countSet(s.selectionSet, visiting, spread, counts);
        else if (!spread.has(s.name.value)) {
          spread.add(s.name.value);
          for (const [key, n] of fragmentCounts(s.name.value, visiting)) counts.set(key, (counts.get(key) ?? 0) + n);
        }
      }
      return counts;
    };
    return {
      SelectionSet(node) {
        for (const [key, n] of countSet(node, new Set())) {
          if (n > max) {
            context.reportError(limitError('fieldRepeats', max, `"${key}" is selected ${n} times in one selection set; the limit is ${max}`));
            return false; // one report is enough; nothing below needs counting
          }
        }
        return undefined;
      },
    };
  };
}

/** graphql-armor reports through callbacks; this one turns a rejection into our limit error. */
function armorReport(limit: QueryLimit, max: number): GraphQLArmorCallbackConfiguration {
  return {
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(limitError(limit, max, error.message.replace(/^Syntax Error: /, '')))],
  };
}

export class DocumentGuard {
  private readonly rules: ValidationRule[];
  private readonly verdicts: LRUCache<string, DocumentRefusal | 'ok'>;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: DocumentLimits,
  ) {
    this.rules = [
      knownOperationTypes,
      fieldRepeats(limits.maxFieldRepeats),
      maxDepthRule({ n: limits.maxDepth, ...armorReport('depth', limits.maxDepth) }),
      maxAliasesRule({ n: limits.maxAliases, ...armorReport('aliases', limits.maxAliases) }),
      maxDirectivesRule({ n: limits.maxDirectives, ...armorReport('directives', limits.maxDirectives) }),
      costLimitRule({ maxCost: limits.maxCost, ...armorReport('cost', limits.maxCost) }),
    ];
    // Bounded by entries and by the characters of the documents kept as keys.
    this.verdicts = new LRUCache({ max: 2000, maxSize: 16 * 1024 * 1024, sizeCalculation: (_v, key) => key.length + 1 });
  }

  /**
   * undefined when the document may go on to Apollo (which also reports plain syntax errors), or
   * why it is refused.
   */
  check(query: string): DocumentRefusal | undefined {
    if (query.length > this.limits.maxChars) {
      return refusal(limitError('size', this.limits.maxChars, `the query document has ${query.length} characters; the limit is ${this.limits.maxChars} (send long texts as variables)`));
    }
    let verdict = this.verdicts.get(query);
    if (verdict === undefined) {
      verdict = this.judge(query);
      this.verdicts.set(query, verdict);
    }
    return verdict === 'ok' ? undefined : verdict;
  }

  private judge(query: string): DocumentRefusal | 'ok' {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.limits.maxTokens, noLocation: true });
    } catch (e) {
      if (e instanceof GraphQLError && TOKEN_LIMIT.test(e.message)) {
        return refusal(limitError('tokens', this.limits.maxTokens, `the query document has more than ${this.limits.maxTokens} tokens`));
      }
      return 'ok'; // a plain syntax error: Apollo reports it as GRAPHQL_PARSE_FAILED
    }
    const [first] = validate(this.schema, document, this.rules, { maxErrors: 1 });
    return first ? refusal(first) : 'ok';
  }
}

function refusal(error: GraphQLError): DocumentRefusal {
  const { code, ...details } = error.extensions as { code: DocumentRefusal['code'] };
  return { code, message: error.message, details };
}
