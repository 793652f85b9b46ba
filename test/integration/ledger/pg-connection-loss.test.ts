// The `pg` client when the server drops its connections (pg_terminate_backend, as a fast stop
// or a failover does): the LISTEN connection and a connection inside a transaction must not
// crash the process with an unhandled 'error', LISTEN must come back by itself, and the client
// must say the database was away and is back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSqlClient } from '../../../src/shared/sql/pg-client.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';

describe('PgSqlClient when its backends are terminated', () => {
  let db: TestDatabase;
  let sql: PgSqlClient;
  const errors: unknown[] = [];
  const onUncaught = (err: unknown) => errors.push(err);

  beforeAll(async () => {
    db = await freshDatabase();
    sql = new PgSqlClient(db.url, { max: 4, probeIntervalMs: 100 });
    process.on('uncaughtException', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await sql?.close();
    await db?.drop();
  });

  const terminate = async () => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const r = await admin.query(
        `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'arbiter') t`,
      );
      return r.rows[0].n as number;
    } finally {
      await admin.end();
    }
  };
  const notify = async (payload: string) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`SELECT pg_notify('loss_test', $1)`, [payload]);
    await c.end();
  };
  const eventually = async (fn: () => boolean | Promise<boolean>, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('keeps LISTENing across a terminated backend and survives a transaction that loses its connection', async () => {
    const got: string[] = [];
    const unlisten = await sql.listen('loss_test', (p) => got.push(p));
    await notify('before');
    await eventually(() => got.includes('before'));

    // A transaction in flight when its backend is terminated: it fails, nothing crashes.
    const inFlight = sql.transaction((tx) => tx.query('SELECT pg_sleep(5)')).then(
      () => null,
      (err: Error) => err,
    );
    const changes: boolean[] = [];
    sql.availability?.onChange((up) => changes.push(up));
    await new Promise((r) => setTimeout(r, 300));
    expect(await terminate()).toBeGreaterThanOrEqual(2); // the LISTEN connection and the transaction's
    expect(await inFlight).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).toEqual([]);

    // LISTEN comes back by itself and says so with a wake-up ('') for what it may have missed.
    await eventually(() => got.includes(''));
    await notify('after');
    await eventually(() => got.includes('after'));
    await eventually(() => sql.availability.available);
    expect(changes).toEqual([false, true]);
    expect((await sql.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    await unlisten();
    expect(errors).toEqual([]);
  });
});
