// Request metrics per top-level GraphQL field (an "operation" of this API: classify, embed, ...),
// and errors by their public code. Labels are bounded: field names come from the schema, model names
// from the model repository, codes from the ErrorCode enum or GraphQL's own codes.
import type { ApolloServerPlugin } from '@apollo/server';
import type { Counter, Histogram } from 'prom-client';
import { publicCode } from '../errors/format-error.js';

export interface RequestMetrics {
  requests: Counter<'model' | 'operation' | 'status'>;
  errors: Counter<'operation' | 'code'>;
  duration: Histogram<'model' | 'operation'>;
}

/** The model that answered, read from the field's result (one object or a list of them). */
function modelOf(result: unknown): string | undefined {
  const first = Array.isArray(result) ? result[0] : result;
  const name = (first as { model?: { name?: unknown } } | undefined)?.model?.name;
  return typeof name === 'string' ? name : undefined;
}

export function metricsPlugin(metrics: RequestMetrics, isModel: (name: string) => boolean): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async executionDidStart() {
          return {
            willResolveField({ info, args }) {
              if (info.parentType.name !== info.schema.getQueryType()?.name) return;
              const operation = info.fieldName;
              const started = performance.now();
              return (error, result) => {
                const asked = (args as { model?: unknown }).model;
                const model = modelOf(result) ?? (typeof asked === 'string' && isModel(asked) ? asked : 'none');
                metrics.requests.inc({ model, operation, status: error ? 'error' : 'ok' });
                metrics.duration.observe({ model, operation }, (performance.now() - started) / 1000);
              };
            },
          };
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const operation = typeof error.path?.[0] === 'string' ? error.path[0] : 'none';
            metrics.errors.inc({ operation, code: publicCode(error) });
          }
        },
      };
    },
  };
}
