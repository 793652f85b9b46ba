// A fresh PostgreSQL database per test file on the real server (DATABASE_URL, default the local
// one on 127.0.0.1:5432), dropped afterwards.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { PgSqlClient } from '../../src/shared/sql/pg-client.js';
import { PgliteSqlClient } from '../../src/shared/sql/pglite-client.js';
import { migrate } from '../../src/shared/sql/migrator.js';
import type { SqlClient } from '../../src/shared/sql/sql-client.js';

export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  sql: SqlClient;
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function freshDatabase(prefix = 'arbiter_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(SERVER_URL, name);
  const sql = new PgSqlClient(url, { max: 12 });
  await migrate(sql);
  return {
    url,
    sql,
    async drop() {
      await sql.close();
      const a = new pg.Client({ connectionString: SERVER_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** An in-memory PGlite with the migrations applied (seconds to create: one per test file). */
export async function freshPglite(): Promise<SqlClient> {
  const sql = await PgliteSqlClient.open();
  await migrate(sql);
  return sql;
}
