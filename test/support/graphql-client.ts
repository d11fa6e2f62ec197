// A minimal typed client over fetch: operations come from codegen, so variables and results are typed
// exactly as a partner app's would be.
import type { ResultOf, TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface Response<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export async function execute<D extends TypedDocumentNode<any, any>>(
  url: string,
  document: D,
  variables?: VariablesOf<D>,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
): Promise<Response<ResultOf<D>>> {
  const query = print(document);
  let res: globalThis.Response;
  if (init.method === 'GET') {
    const params = new URLSearchParams({ query });
    if (variables) params.set('variables', JSON.stringify(variables));
    res = await fetch(`${url}?${params}`, { headers: { 'apollo-require-preflight': 'true', ...init.headers } });
  } else {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: JSON.stringify({ query, variables }),
    });
  }
  const body = (await res.json()) as { data?: ResultOf<D>; errors?: GraphQLErrorBody[] };
  return { status: res.status, ...body };
}

/** Posts a raw body (for malformed or hand-written requests). */
export async function postRaw(url: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: GraphQLErrorBody[] } };
}
