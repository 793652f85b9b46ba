// SqlClient on PGlite: PostgreSQL compiled to WASM, in-process, data on disk (or in memory).
// PGlite runs one backend, so its own queue serialises queries and transactions.
import { PGlite, types } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { ALWAYS_AVAILABLE } from './availability.js';
import { mkdirPrivate, restrictTree } from '../fs/private-files.js';
import type { QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

export class PgliteSqlClient implements SqlClient {
  readonly kind = 'pglite' as const;
  readonly availability = ALWAYS_AVAILABLE;

  private constructor(readonly db: PGlite) {}

  /** dataDir undefined = in memory. Creating a new database costs seconds (initdb); reopening is fast. */
  static async open(dataDir?: string): Promise<PgliteSqlClient> {
    if (dataDir) mkdirPrivate(dataDir);
    const db = await PGlite.create(dataDir, {
      // int8 as text, like `pg`, so both clients hand the same shapes to the code above them.
      parsers: { [types.INT8]: (v: string) => v },
    });
    if (dataDir) restrictTree(dataDir); // owner only: see private-files.ts
    return new PgliteSqlClient(db);
  }

  async query<T>(text: string, params?: unknown[]): Promise<QueryResult<T>> {
    const r = await this.db.query<T>(text, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(text: string, params?: unknown[]) => {
          const r = await t.query<R>(text, params as unknown[]);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        exec: async (script: string) => {
          await t.exec(script);
        },
      }),
    );
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, onNotify);
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
