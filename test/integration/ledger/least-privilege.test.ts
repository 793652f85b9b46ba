// The production role setup of README "Security" (docs/deploy/postgres/*.sql), run as written
// with psql on the real PostgreSQL: the app role appends, reads, verifies and rebuilds, but
// cannot change events, cannot switch the append-only trigger off, and cannot bypass triggers.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { PgSqlClient } from '../../../src/shared/sql/pg-client.js';
import { SERVER_URL } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';

const dir = fileURLToPath(new URL('../../../docs/deploy/postgres/', import.meta.url));
const suffix = randomBytes(4).toString('hex');
const names = { owner: `arbiter_owner_${suffix}`, app: `arbiter_app_${suffix}`, db: `arbiter_lp_${suffix}` };
/** The deploy scripts with this run's role and database names (roles are cluster-wide). */
const script = (file: string) =>
  readFileSync(`${dir}${file}`, 'utf8')
    .replaceAll('arbiter_owner', names.owner)
    .replaceAll('arbiter_app', names.app)
    .replace(/\bDATABASE arbiter\b/g, `DATABASE ${names.db}`)
    .replace(/\\connect arbiter\b/g, `\\connect ${names.db}`);
const urlAs = (user: string) => {
  const u = new URL(SERVER_URL);
  u.username = user;
  u.pathname = `/${names.db}`;
  return u.toString();
};
const psql = (sql: string, db = new URL(SERVER_URL).pathname.slice(1)) => {
  const u = new URL(SERVER_URL);
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', db, '-f', '-'], { input: sql, stdio: ['pipe', 'pipe', 'pipe'] });
};
const quiet = (): CliIo & { stdout: string; stderr: string } => {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
};

describe('least-privilege roles (README, Security)', () => {
  let app: PgSqlClient;
  beforeAll(() => {
    psql(script('1-roles.sql'));
  });
  afterAll(async () => {
    await app?.close();
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${names.db} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${names.app}`);
    await admin.query(`DROP ROLE IF EXISTS ${names.owner}`);
    await admin.end();
  });

  it('migrates as the owner; the app appends and rebuilds but cannot change or unprotect events', { timeout: 60_000 }, async () => {
    let io = quiet();
    expect(await runCli(['migrate'], { DATABASE_URL: urlAs(names.owner) }, io)).toBe(0);
    expect(io.stdout).toMatch(/migrations: \d+ applied, latest \d{3}_/);
    psql(script('2-grants.sql'), names.db);

    app = new PgSqlClient(urlAs(names.app));
    const store = new PostgresEventStore(app, testRegistry());
    await store.append('acct', [ev('Moved', { n: 1 }), ev('Moved', { n: 2 })], 'no_stream');
    await expect(app.query(`UPDATE events SET actor = 'mallory'`)).rejects.toThrow(/permission denied for table events/);
    await expect(app.query('DELETE FROM events')).rejects.toThrow(/permission denied for table events/);
    await expect(app.query('ALTER TABLE events DISABLE TRIGGER events_append_only')).rejects.toThrow(/must be owner of table events/);
    await expect(app.transaction((tx) => tx.query('SET LOCAL session_replication_role = replica'))).rejects.toThrow(/permission denied to set parameter/);

    // The app's own start-up (migrations already applied), verify and a rebuild all work as the app.
    const env = { DATABASE_URL: urlAs(names.app) };
    io = quiet();
    expect(await runCli(['verify'], env, io)).toBe(0);
    io = quiet();
    expect(await runCli(['rebuild', 'audit_index'], env, io)).toBe(0);
    expect(io.stdout).toMatch(/rebuilt audit_index/);
  });
});
