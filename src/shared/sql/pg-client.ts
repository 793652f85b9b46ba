// SqlClient on a real PostgreSQL server through `pg`.
import pg from 'pg';
import type { QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

export class PgSqlClient implements SqlClient {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;

  constructor(connectionString: string, opts: { max?: number; applicationName?: string } = {}) {
    this.pool = new pg.Pool({
      connectionString,
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'arbiter',
    });
    // An idle client that loses its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async query<T>(text: string, params?: unknown[]): Promise<QueryResult<T>> {
    const r = await this.pool.query(text, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.pool.connect();
    const tx: SqlExecutor = {
      query: async <R>(text: string, params?: unknown[]) => {
        const r = await conn.query(text, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
      exec: async (script: string) => {
        await conn.query(script);
      },
    };
    let broken = false;
    try {
      await conn.query('BEGIN');
      const result = await fn(tx);
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await conn.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      conn.release(broken);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const conn = await this.pool.connect();
    const handler = (msg: pg.Notification) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    };
    conn.on('notification', handler);
    await conn.query(`LISTEN ${quoteIdent(channel)}`);
    return async () => {
      conn.off('notification', handler);
      try {
        await conn.query(`UNLISTEN ${quoteIdent(channel)}`);
        conn.release();
      } catch {
        conn.release(true);
      }
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
