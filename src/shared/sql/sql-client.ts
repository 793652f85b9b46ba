// The project's SQL client interface. The event store, the migrator, the projection runner and
// the read side all talk to PostgreSQL through it, so the same SQL runs on a real server (`pg`)
// and on the embedded PostgreSQL compiled to WASM (PGlite).
import type { DatabaseAvailability } from './availability.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A name for a statement run very often: on a server connection it is parsed and planned once
   * and kept (a prepared statement); the text for one name must never change. PGlite ignores it.
   */
  prepared?: string;
}

export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Whether the database answers now (PGlite, in-process, always does). */
  readonly availability: DatabaseAvailability;
  /** Runs fn in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel; returns a function that stops listening. A lost connection is
   * re-established by the client, which then calls onNotify('') once (notifications sent while
   * it was away are lost): treat every call as "look again".
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** int8 columns arrive as strings from `pg` and as bigint or number from PGlite: normalise. */
export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  throw new TypeError(`expected an integer value, got ${typeof v}`);
}

/** Nest token of the application's SqlClient (PostgreSQL or the embedded PGlite). */
export const SQL_CLIENT = Symbol('SQL_CLIENT');
