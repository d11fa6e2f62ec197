// One structured log line per GraphQL request: request id, trace id, operation, fields, outcome, time,
// and the size and a short hash of the texts sent. Never the texts.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { publicCode } from '../errors/format-error.js';

/** Strings found in the variables: how much text was sent and a hash to correlate repeats. */
function textDigest(variables: Record<string, unknown> | undefined): { chars: number; hash?: string } {
  const strings: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(variables);
  if (strings.length === 0) return { chars: 0 };
  const hash = createHash('sha256');
  for (const s of strings) hash.update(s).update('\u0000');
  return { chars: strings.reduce((n, s) => n + s.length, 0), hash: hash.digest('hex').slice(0, 12) };
}

export function requestLogPlugin(log: Logger): ApolloServerPlugin<{ requestId?: string }> {
  return {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      const traceId = trace.getActiveSpan()?.spanContext().traceId;
      return {
        async willSendResponse({ response, errors, operation }) {
          const fields = operation?.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : [])) ?? [];
          const status = response.http.status ?? 200;
          log.info(
            {
              requestId: contextValue.requestId,
              traceId,
              operation: request.operationName ?? null,
              fields,
              status,
              errors: errors?.map((e) => publicCode(e)),
              ms: Math.round((performance.now() - started) * 10) / 10,
              input: textDigest(request.variables as Record<string, unknown> | undefined),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
