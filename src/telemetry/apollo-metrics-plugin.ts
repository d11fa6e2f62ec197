// Request metrics per top-level GraphQL field (an "operation" of this API: classify, embed, ...),
// and errors by their public code. A field whose client went away counts as status "cancelled", not
// "error": it says nothing about the gateway. Counted once per request when the response is ready, from the
// operation and the result: no per-field hook wraps the resolvers. Labels are bounded: field names
// come from the schema, model names from the model repository, codes from the ErrorCode enum or
// GraphQL's own codes.
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, valueFromASTUntyped } from 'graphql';
import type { Counter, Histogram } from 'prom-client';
import { ErrorCode } from '../errors/codes.js';
import { publicCode } from '../errors/format-error.js';

export interface RequestMetrics {
  requests: Counter<'model' | 'operation' | 'status'>;
  errors: Counter<'operation' | 'code'>;
  duration: Histogram<'model' | 'operation'>;
}

/** The model that answered, read from the field's result (one object or a list of them). */
function modelOf(result: unknown): string | undefined {
  const first = Array.isArray(result) ? result[0] : result;
  const name = (first as { model?: { name?: unknown } } | null | undefined)?.model?.name;
  return typeof name === 'string' ? name : undefined;
}

export function metricsPlugin(metrics: RequestMetrics, isModel: (name: string) => boolean): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        // Apollo calls this for every request, after didEncounterErrors when there were errors: one
        // place counts both the errors and the fields.
        async willSendResponse({ operation, response, errors, request }) {
          const fields = operation?.selectionSet.selections.filter((s) => s.kind === Kind.FIELD) ?? [];
          // Errors carry the response key (an alias, when one is used); metrics name the field. One
          // without a path refused the whole request.
          const codes = new Map<unknown, string>();
          for (const error of errors ?? []) {
            const key = error.path?.[0];
            const code = publicCode(error);
            codes.set(key, code);
            const field = fields.find((f) => (f.alias?.value ?? f.name.value) === key);
            metrics.errors.inc({ operation: field?.name.value ?? 'none', code });
          }
          if (!operation) return; // parse or validation failed: no operation to time
          const seconds = (performance.now() - started) / 1000;
          const data = response.body.kind === 'single' ? response.body.singleResult.data : undefined;
          const whole = codes.get(undefined);
          for (const field of fields) {
            const operationName = field.name.value;
            const key = field.alias?.value ?? operationName;
            const code = codes.get(key) ?? whole;
            const status = code === undefined ? 'ok' : code === ErrorCode.CLIENT_CLOSED_REQUEST ? 'cancelled' : 'error';
            const asked = field.arguments?.find((a) => a.name.value === 'model')?.value;
            const value = asked && valueFromASTUntyped(asked, request.variables);
            const named = typeof value === 'string' && isModel(value) ? value : undefined;
            const model = modelOf(data?.[key]) ?? named ?? 'none';
            metrics.requests.inc({ model, operation: operationName, status });
            metrics.duration.observe({ model, operation: operationName }, seconds);
          }
        },
      };
    },
  };
}
