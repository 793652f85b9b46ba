// Forward-only migrations: numbered .sql files in /migrations, applied in order, each in its
// own transaction, recorded in schema_migrations. The same files run on PostgreSQL and PGlite.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from './sql-client.js';

/** /migrations at the repository root, whether running from src (tests) or dist (build). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'migrations');
    try {
      readdirSync(candidate);
      if (readdirSync(dir).includes('package.json')) return candidate;
    } catch {
      /* keep climbing */
    }
    dir = resolve(dir, '..');
  }
  throw new Error('migrations directory not found');
}

export async function migrate(sql: SqlClient, dir = migrationsDir()): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  // One migrator at a time across processes sharing the database.
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7350001)');
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const f of files) {
      if (done.has(f)) continue;
      await tx.exec(readFileSync(join(dir, f), 'utf8'));
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [f]);
      applied.push(f);
    }
    return applied;
  });
}
