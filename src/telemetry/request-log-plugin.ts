// One structured log line per GraphQL request: request id, trace id, operation, fields, outcome, time,
// the caller's key id, the model work it caused, and how much text was sent.
// Never the texts, and no other free text a client chooses: the operation name is logged only when
// it names an operation of the document and reads like a program's identifier, else as a hash.
// A request whose client went away is logged at debug: it says nothing about the gateway's health.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { DocumentNode } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors/codes.js';
import { publicCode } from '../errors/format-error.js';
import type { GatewayContext } from '../schema/context.js';

/** Values walked at most to size the texts of one request; the size says when it stopped. */
const MAX_VALUES = 20_000;
/** A GraphQL name of reasonable length without long digit runs (phone numbers, ids of people). */
const PLAIN_NAME = /^(?!.*\d{5})[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** Strings found in the variables: how many, and how many characters (never what they say). */
export function inputSize(variables: Record<string, unknown> | undefined): { strings: number; chars: number; partial?: true } {
  let chars = 0;
  let strings = 0;
  let seen = 0;
  // Iterative, so that no nesting can overflow the stack; bounded, so that no size can stall the loop.
  const stack: unknown[] = [variables];
  while (stack.length > 0 && seen < MAX_VALUES) {
    const v = stack.pop();
    seen++;
    if (typeof v === 'string') {
      chars += v.length;
      strings++;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else if (v && typeof v === 'object') {
      const values = Object.values(v);
      for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
    }
  }
  return stack.length > 0 ? { strings, chars, partial: true } : { strings, chars };
}

/** How the operation is named in logs: its name when it is one of the document's and plain; a hash otherwise. */
export function loggedOperationName(name: string | null | undefined, document: DocumentNode | undefined): string | null {
  if (!name) return null;
  const defined = document?.definitions.some((d) => d.kind === 'OperationDefinition' && d.name?.value === name);
  if (defined && PLAIN_NAME.test(name)) return name;
  return `#${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

export function requestLogPlugin(log: Logger): ApolloServerPlugin<Pick<GatewayContext, 'requestId' | 'key' | 'usage'>> {
  return {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      const traceId = trace.getActiveSpan()?.spanContext().traceId;
      return {
        async willSendResponse({ response, errors, operation, document }) {
          const codes = errors?.map((e) => publicCode(e));
          const gone = codes?.includes(ErrorCode.CLIENT_CLOSED_REQUEST) ?? false;
          const level = gone ? 'debug' : 'info';
          // A level that is off costs nothing.
          if (!log.isLevelEnabled(level)) return;
          const fields = operation?.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : [])) ?? [];
          log[level](
            {
              requestId: contextValue.requestId,
              traceId,
              key: contextValue.key?.id,
              operation: loggedOperationName(request.operationName ?? operation?.name?.value, document),
              fields,
              status: response.http.status ?? 200,
              errors: codes,
              cost: contextValue.usage ? { ...contextValue.usage } : undefined,
              ms: Math.round((performance.now() - started) * 10) / 10,
              input: inputSize(request.variables as Record<string, unknown> | undefined),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
