// A small typed client for nlp-gateway over fetch (browsers and Node 18+): one POST per call, the API
// key in a header, a deadline per call, and retries where the gateway says it is busy, waiting as long
// as it asks.
import { GatewayError, errorCodeOf, type GraphQLErrorBody } from './errors.js';
import {
  ClassifyBatchDocument,
  ClassifyDocument,
  EmbedBatchDocument,
  EmbedDocument,
  HealthDocument,
  ModelsDocument,
  type ClassifyQueryVariables,
  type EmbedQueryVariables,
  type TypedDocumentString,
} from './generated/graphql.js';
import { retryHintMs } from './retry-hint.js';

export interface ClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** Sent as the `x-api-key` header, when the gateway needs a key. */
  apiKey?: string;
  /** Headers sent with every call (e.g. `authorization`, a trace context). */
  headers?: Record<string, string>;
  /** Longest a call may take, retries and waits included. Default 30 000 ms. */
  timeoutMs?: number;
  /** How many times a call is retried after a retryable error. Default 3. */
  retries?: number;
  /** Codes worth retrying. Default: OVERLOADED, RATE_LIMITED, SHUTTING_DOWN (another replica answers). */
  retryOn?: readonly string[];
  /** First wait when the gateway gives no hint; it doubles per retry, with jitter. Default 250 ms. */
  backoffMs?: number;
  /** Longest single wait: a gateway asking for more ends the retries with its error. Default 10 000 ms. */
  maxRetryDelayMs?: number;
  /** fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Told before each retry (for logs or metrics). */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  error: GatewayError;
}

export interface CallOptions {
  /** Cancels the call (ends with code ABORTED). */
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Variables are optional for operations that take none. */
type VariablesArg<V> = V extends { [key: string]: never } ? [variables?: V, options?: CallOptions] : [variables: V, options?: CallOptions];

export const DEFAULT_RETRY_ON: readonly string[] = ['OVERLOADED', 'RATE_LIMITED', 'SHUTTING_DOWN'];

const OPERATION_NAME = /\b(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)/;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export function createClient(options: ClientOptions) {
  const {
    url,
    timeoutMs = 30_000,
    retries = 3,
    backoffMs = 250,
    maxRetryDelayMs = 10_000,
    onRetry,
  } = options;
  const retryOn = new Set(options.retryOn ?? DEFAULT_RETRY_ON);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    ...options.headers,
    ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
  };

  async function attempt(body: string, headers: Record<string, string>, signal: AbortSignal, why: () => GatewayError | undefined): Promise<unknown> {
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(url, { method: 'POST', headers, body, signal });
      text = await res.text();
    } catch (cause) {
      throw why() ?? new GatewayError({ code: 'NETWORK_ERROR', message: `cannot reach ${url}: ${(cause as Error)?.message ?? cause}`, cause });
    }
    let parsed: { data?: unknown; errors?: GraphQLErrorBody[] } | undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const errors = Array.isArray(parsed?.errors) ? parsed.errors : [];
    if (errors.length > 0) {
      const first = errors[0]!;
      const serverCode = typeof first.extensions?.code === 'string' ? first.extensions.code : undefined;
      throw new GatewayError({
        code: errorCodeOf(serverCode),
        serverCode,
        message: String(first.message ?? 'error without a message'),
        status: res.status,
        retryAfterMs: retryHintMs(first, res.headers.get('retry-after')),
        errors,
      });
    }
    if (!res.ok || parsed === null || typeof parsed !== 'object' || parsed.data == null) {
      throw new GatewayError({ code: 'BAD_RESPONSE', message: `not a GraphQL answer (HTTP ${res.status})`, status: res.status });
    }
    return parsed.data;
  }

  /** Runs one typed operation; resolves with its data or rejects with a GatewayError. */
  async function request<R, V>(document: TypedDocumentString<R, V>, ...[variables, call = {}]: VariablesArg<V>): Promise<R> {
    const query = document.toString();
    const body = JSON.stringify({ query, variables, operationName: OPERATION_NAME.exec(query)?.[1] });
    const headers = { ...baseHeaders, ...call.headers };
    const deadline = Date.now() + timeoutMs;

    // One signal for the whole call: the deadline or the caller's signal, whichever comes first.
    const controller = new AbortController();
    let reason: GatewayError | undefined;
    const stop = (error: GatewayError) => {
      reason ??= error;
      controller.abort();
    };
    const timer = setTimeout(() => stop(new GatewayError({ code: 'TIMEOUT', message: `no answer within ${timeoutMs} ms` })), timeoutMs);
    const onAbort = () => stop(new GatewayError({ code: 'ABORTED', message: 'the call was aborted' }));
    if (call.signal?.aborted) onAbort();
    call.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      for (let n = 1; ; n++) {
        try {
          if (reason) throw reason;
          return (await attempt(body, headers, controller.signal, () => reason)) as R;
        } catch (e) {
          if (!(e instanceof GatewayError)) throw e;
          e.attempts = n;
          if (e === reason || n > retries || !retryOn.has(e.serverCode ?? e.code)) throw e;
          const delayMs = e.retryAfterMs ?? Math.round(backoffMs * 2 ** (n - 1) * (0.5 + Math.random()));
          // A wait the gateway asks for that is too long, or would pass the deadline, is not worth it.
          if (delayMs > maxRetryDelayMs || Date.now() + delayMs >= deadline) throw e;
          onRetry?.({ attempt: n, delayMs, error: e });
          await sleep(delayMs, controller.signal);
        }
      }
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    request,
    /** Classifies one text with the default classifier (or `model`). */
    classify: async (text: string, vars: Omit<ClassifyQueryVariables, 'text'> = {}, call?: CallOptions) =>
      (await request(ClassifyDocument, { text, ...vars }, call)).classify,
    /** Classifies several texts; answers in the order of `texts`. */
    classifyBatch: async (texts: string[], vars: Omit<ClassifyQueryVariables, 'text'> = {}, call?: CallOptions) =>
      (await request(ClassifyBatchDocument, { texts, ...vars }, call)).classifyBatch,
    /** Embeds one text with the default embedding model (or `model`). */
    embed: async (text: string, vars: Omit<EmbedQueryVariables, 'text'> = {}, call?: CallOptions) =>
      (await request(EmbedDocument, { text, ...vars }, call)).embed,
    /** Embeds several texts; answers in the order of `texts`. */
    embedBatch: async (texts: string[], vars: Omit<EmbedQueryVariables, 'text'> = {}, call?: CallOptions) =>
      (await request(EmbedBatchDocument, { texts, ...vars }, call)).embedBatch,
    /** The models the gateway serves. */
    models: async (call?: CallOptions) => (await request(ModelsDocument, {}, call)).models,
    /** Whether the gateway and each model can serve. */
    health: async (call?: CallOptions) => (await request(HealthDocument, {}, call)).health,
  };
}

export type Client = ReturnType<typeof createClient>;
