// Request metrics per top-level GraphQL field (an "operation" of this API: classify, embed, ...),
// and errors by their public code. A field whose client went away counts as status "cancelled", not
// "error": it says nothing about the gateway. Counted once per request when the response is ready, from the
// operation and the result: no per-field hook wraps the resolvers. Labels are bounded: field names
// come from the schema, model names from the model repository, codes from the ErrorCode enum or
// GraphQL's own codes.
import type { ApolloServerPlugin } from '@apollo/server';
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
        async willSendResponse({ operation, response, errors, request }) {
          if (!operation) return; // parse or validation failed: counted by didEncounterErrors
          const seconds = (performance.now() - started) / 1000;
          const data = response.body.kind === 'single' ? response.body.singleResult.data : undefined;
          // Errors by response key; one without a path refused the whole request.
          const codes = new Map(errors?.map((e) => [e.path?.[0], publicCode(e)]));
          const whole = codes.get(undefined);
          const statusOf = (key: string) => {
            const code = codes.get(key) ?? whole;
            return code === undefined ? 'ok' : code === ErrorCode.CLIENT_CLOSED_REQUEST ? 'cancelled' : 'error';
          };
          for (const selection of operation.selectionSet.selections) {
            if (selection.kind !== 'Field') continue;
            const operationName = selection.name.value;
            const key = selection.alias?.value ?? operationName;
            const asked = selection.arguments?.find((a) => a.name.value === 'model')?.value;
            const value = asked?.kind === 'StringValue' ? asked.value : asked?.kind === 'Variable' ? request.variables?.[asked.name.value] : undefined;
            const named = typeof value === 'string' && isModel(value) ? value : undefined;
            const model = modelOf(data?.[key]) ?? named ?? 'none';
            metrics.requests.inc({ model, operation: operationName, status: statusOf(key) });
            metrics.duration.observe({ model, operation: operationName }, seconds);
          }
        },
        async didEncounterErrors({ errors, operation }) {
          // Errors carry the response key (an alias, when one is used); metrics name the field.
          const fieldOf = new Map<string, string>();
          for (const s of operation?.selectionSet.selections ?? []) if (s.kind === 'Field') fieldOf.set(s.alias?.value ?? s.name.value, s.name.value);
          for (const error of errors) {
            const key = error.path?.[0];
            const operationName = typeof key === 'string' ? (fieldOf.get(key) ?? 'none') : 'none';
            metrics.errors.inc({ operation: operationName, code: publicCode(error) });
          }
        },
      };
    },
  };
}
