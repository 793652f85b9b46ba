// Who is calling: the API key presented in `Authorization: Bearer arb_…` or `X-API-Key`,
// looked up once per request (the guard, the GraphQL hook and the controllers share the lookup).
import type { SqlExecutor } from '../../shared/sql/sql-client.js';
import { authenticate, type ApiKeyPrincipal } from './api-keys.js';

const PRINCIPAL = Symbol('arbiter.principal');

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  [PRINCIPAL]?: Promise<ApiKeyPrincipal | null>;
}

export const UNAUTHENTICATED_MESSAGE =
  "missing or invalid API key: send it as 'Authorization: Bearer arb_…' or in the 'X-API-Key' header";

/** The key the request presents, or null when it presents none. */
export function presentedKey(headers: RequestLike['headers']): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : auth.trim() || null;
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  return null;
}

/** The authenticated principal of a request (cached on it), or null. */
export function principalOf(sql: SqlExecutor, req: object): Promise<ApiKeyPrincipal | null> {
  const r = req as RequestLike;
  if (!r[PRINCIPAL]) {
    const key = presentedKey(r.headers ?? {});
    r[PRINCIPAL] = key ? authenticate(sql, key) : Promise.resolve(null);
  }
  return r[PRINCIPAL]!;
}

/** The actor recorded in the events a principal causes: `apikey:<keyId>:<label>`. */
export function actorOf(p: ApiKeyPrincipal): string {
  return `apikey:${p.keyId}:${p.label}`.slice(0, 200);
}
