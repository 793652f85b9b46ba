// The console's only way to the app: typed GraphQL documents over fetch, REST commands with an
// Idempotency-Key, and subscriptions over one graphql-ws connection, all presenting the key the
// operator logged in with. A refused call becomes an ApiError whose text says why (a 403 names
// the role it needs), so a page can explain instead of failing silently.
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocument } from './generated/graphql';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
  ) {
    super(message);
  }
  get forbidden(): boolean {
    return this.status === 403 || this.code === 'FORBIDDEN';
  }
}

const KEY_SLOT = 'arbiter.console.key';
let key: string | null = sessionStorage.getItem(KEY_SLOT);
let ws: Client | null = null;

export const currentKey = () => key;
export function setKey(k: string | null): void {
  key = k;
  if (k) sessionStorage.setItem(KEY_SLOT, k);
  else sessionStorage.removeItem(KEY_SLOT);
  void ws?.dispose();
  ws = null;
}

const auth = (): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

export async function gql<R, V>(doc: TypedDocument<R, V>, variables?: V): Promise<R> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify({ query: doc, variables: variables ?? {} }),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) {
    const e = body.errors[0];
    const code = e.extensions?.code ?? null;
    const status = res.status !== 200 ? res.status : code === 'FORBIDDEN' || /needs a key with the/.test(e.message) ? 403 : 400;
    throw new ApiError(e.message, status, code);
  }
  if (!res.ok || !body.data) throw new ApiError(`GraphQL answered ${res.status}`, res.status);
  return body.data;
}

export async function rest<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { ...auth(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(method === 'GET' ? {} : { 'idempotency-key': crypto.randomUUID() }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => null)) as any;
  if (!res.ok) {
    // The API's error shape: { statusCode, error, message, problems?, correlationId }.
    const problems = Array.isArray(data?.problems) ? `: ${data.problems.join('; ')}` : '';
    throw new ApiError(`${String(data?.message ?? res.statusText)}${problems}`, res.status);
  }
  return data as T;
}

/** Subscribes; returns the function that stops it. Errors go to onError (shown by the page). */
export function subscribe<R, V>(doc: TypedDocument<R, V>, variables: V, onData: (r: R) => void, onError: (e: Error) => void = () => undefined, onComplete: () => void = () => undefined): () => void {
  ws ??= createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => auth(),
    retryAttempts: 5,
    lazy: true,
  });
  return ws.subscribe<R>(
    { query: doc, variables: variables as Record<string, unknown> },
    {
      next: (v) => (v.errors?.length ? onError(new ApiError(v.errors[0].message, 400)) : v.data && onData(v.data as R)),
      error: (e) => onError(e instanceof Error ? e : new Error(Array.isArray(e) ? e.map((x: any) => x.message).join('; ') : 'live connection closed')),
      complete: onComplete,
    },
  );
}

/** Whether the OpenAPI document lists a REST route (feature check for commands other work adds). */
let openApiPaths: Promise<Set<string>> | null = null;
export function restRoutes(): Promise<Set<string>> {
  openApiPaths ??= fetch('/docs/openapi.json')
    .then((r) => r.json())
    .then((d: { paths?: Record<string, Record<string, unknown>> }) => {
      const out = new Set<string>();
      for (const [p, ops] of Object.entries(d.paths ?? {})) for (const m of Object.keys(ops)) out.add(`${m.toUpperCase()} ${p}`);
      return out;
    })
    .catch(() => new Set<string>());
  return openApiPaths;
}
