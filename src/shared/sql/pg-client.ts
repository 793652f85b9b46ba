// SqlClient on a real PostgreSQL server through `pg`. Losing the server must never end the
// process: every connection (idle in the pool, checked out for a transaction, held for LISTEN)
// has an 'error' handler; a query waits at most `queryTimeoutMs` and a connection attempt at most
// `connectTimeoutMs`, so a frozen server cannot hang a caller forever; connection failures mark
// the database unavailable until a probe gets an answer again; LISTEN reconnects by itself.
import pg from 'pg';
import { AvailabilityState, isConnectionError, type DatabaseAvailability } from './availability.js';
import type { QueryOptions, QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

export interface PgClientOptions {
  max?: number;
  applicationName?: string;
  /** Bound on opening a connection (and on waiting for a free one). Default 5000. */
  connectTimeoutMs?: number;
  /** Client-side bound on one query: a frozen server answers nothing, not even an error. Default 30000. */
  queryTimeoutMs?: number;
  /** Bound on one availability probe (SELECT 1). Default 2000. */
  probeTimeoutMs?: number;
  /** Probe every this many ms while the database is away (and, once monitor() runs, while it is up). Default 1000. */
  probeIntervalMs?: number;
  /**
   * Server-side bound on every statement of this pool's connections (PostgreSQL's
   * statement_timeout): the server cancels the statement, so a request that gave up does not
   * leave it running. Unset: none (the server's default).
   */
  statementTimeoutMs?: number;
  /** Told when the database goes away and comes back (a log line). */
  onAvailability?: (available: boolean, detail: string) => void;
}

/** Swallows the late 'error' of a connection that was already given up (it was observed once). */
const IGNORE = (): void => undefined;

export class PgSqlClient implements SqlClient {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly state = new AvailabilityState();
  private readonly probeTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private monitoring = false;
  private closed = false;
  private readonly listeners = new Set<{ stop(): Promise<void> }>();

  constructor(connectionString: string, private readonly opts: PgClientOptions = {}) {
    this.pool = new pg.Pool({
      connectionString,
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'arbiter',
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      query_timeout: opts.queryTimeoutMs ?? 30_000,
      ...(opts.statementTimeoutMs !== undefined ? { statement_timeout: opts.statementTimeoutMs } : {}),
      keepAlive: true,
    });
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 2000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 1000;
    // An idle client that loses its connection must not crash the process; the pool replaces it.
    this.pool.on('error', (err) => this.observe(err));
    // Every connection keeps a listener of its own for its whole life: a client the pool is
    // discarding (released after a query timeout, say) can still receive the server's FATAL
    // "terminating connection", and an 'error' with no listener ends the process.
    this.pool.on('connect', (client) => client.on('error', (err) => this.observe(err)));
  }

  get availability(): DatabaseAvailability {
    return this.state;
  }

  /** Probes the server every probeIntervalMs even while it answers, so a frozen server is noticed without waiting for a caller's query to time out. */
  monitor(): void {
    this.monitoring = true;
    this.schedule();
  }

  async query<T>(text: string, params?: unknown[], opts: QueryOptions & { timeoutMs?: number } = {}): Promise<QueryResult<T>> {
    try {
      const r =
        opts.timeoutMs || opts.prepared
          ? await this.pool.query({
              text,
              values: params as unknown[],
              ...(opts.prepared ? { name: opts.prepared } : {}),
              ...(opts.timeoutMs ? { query_timeout: opts.timeoutMs } : {}),
            } as pg.QueryConfig)
          : await this.pool.query(text, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      this.observe(err);
      throw err;
    }
  }

  async exec(script: string): Promise<void> {
    await this.query(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let conn: pg.PoolClient;
    try {
      conn = await this.pool.connect();
    } catch (err) {
      this.observe(err);
      throw err;
    }
    // Checked out, the client has no pool listener: without one, a dying connection would
    // emit an unhandled 'error' and end the process. The failing query rejects as well.
    let lost: unknown = null;
    const onError = (err: Error) => {
      lost = err;
      this.observe(err);
    };
    conn.on('error', onError);
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
      this.observe(err);
      if (lost || isConnectionError(err)) {
        broken = true; // nothing to roll back on a dead (or timed-out) connection: the server does it
      } else {
        try {
          await conn.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw err;
    } finally {
      // A connection released as broken is destroyed, and its socket may still report the
      // server's FATAL message afterwards: it keeps a listener, or that 'error' ends the process.
      if (broken || lost) conn.on('error', IGNORE);
      conn.off('error', onError);
      conn.release(broken || !!lost);
    }
  }

  /**
   * LISTEN on a dedicated connection. If that connection is lost, it reconnects (with back-off)
   * and listens again, calling onNotify('') once back, since notifications sent meanwhile are
   * gone: a listener must treat any call as "look again" (the subscriptions also poll).
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let conn: pg.PoolClient | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | null = null;
    let attempt = 0;
    const onNotification = (msg: pg.Notification) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    };
    const drop = (c: pg.PoolClient, err: unknown) => {
      c.on('error', IGNORE); // see transaction(): a destroyed client may still emit 'error'
      c.off('notification', onNotification);
      c.release(err instanceof Error ? err : true);
    };
    const onLost = (err: Error) => {
      this.observe(err);
      if (!conn) return;
      const c = conn;
      conn = null;
      drop(c, err);
      schedule();
    };
    const schedule = () => {
      if (stopped || this.closed || retry) return;
      const delay = Math.min(5000, 250 * 2 ** Math.min(attempt++, 5));
      retry = setTimeout(() => {
        retry = null;
        void connect().then((ok) => ok && onNotify(''));
      }, delay);
      retry.unref?.();
    };
    const connect = async (): Promise<boolean> => {
      let c: pg.PoolClient;
      try {
        c = await this.pool.connect();
      } catch (err) {
        this.observe(err);
        schedule();
        return false;
      }
      c.on('error', onLost);
      c.on('notification', onNotification);
      try {
        await c.query(`LISTEN ${quoteIdent(channel)}`);
      } catch (err) {
        this.observe(err);
        c.off('error', onLost);
        drop(c, err);
        schedule();
        return false;
      }
      if (stopped) {
        c.off('error', onLost);
        drop(c, true);
        return false;
      }
      conn = c;
      attempt = 0;
      return true;
    };
    await connect();
    const handle = {
      stop: async () => {
        stopped = true;
        this.listeners.delete(handle);
        if (retry) clearTimeout(retry);
        const c = conn;
        conn = null;
        if (!c) return;
        try {
          await c.query(`UNLISTEN ${quoteIdent(channel)}`);
          c.off('notification', onNotification);
          c.off('error', onLost);
          c.release();
        } catch (err) {
          c.off('error', onLost);
          drop(c, err);
        }
      },
    };
    this.listeners.add(handle);
    return handle.stop;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await Promise.allSettled([...this.listeners].map((l) => l.stop()));
    await this.pool.end();
  }

  /** Marks the database down on a connection-level error and starts probing for its return. */
  private observe(err: unknown): void {
    if (this.closed || !isConnectionError(err)) return;
    if (this.state.markDown((err as Error).message || String(err))) {
      this.opts.onAvailability?.(false, (err as Error).message || String(err));
    }
    this.schedule(0);
  }

  private schedule(delayMs = this.probeIntervalMs): void {
    if (this.closed || this.probeTimer) return;
    if (this.state.available && !this.monitoring) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.probe();
    }, delayMs);
    this.probeTimer.unref?.();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    const downSince = this.state.downSinceMs;
    try {
      await this.pool.query({ text: 'SELECT 1', query_timeout: this.probeTimeoutMs } as pg.QueryConfig);
      if (this.state.markUp()) {
        this.opts.onAvailability?.(true, `after ${downSince ? ((Date.now() - downSince) / 1000).toFixed(1) : '?'} s`);
      }
    } catch (err) {
      const message = (err as Error).message || String(err);
      if (this.state.markDown(message)) this.opts.onAvailability?.(false, message);
    } finally {
      this.probing = false;
      this.schedule();
    }
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
