// The CLI at its edges: strict dates, arguments PostgreSQL cannot store (exit 2 naming them,
// nothing written), no silently created empty ledger for a command that reads, and `replay`
// output that arrives whole through a real pipe.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { freshDatabase, SERVER_URL, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

describe('arbiter CLI edges', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const EVENTS = 3000;

  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url };
    const store = new PostgresEventStore(db.sql, testRegistry());
    for (let s = 0; s < EVENTS / 100; s++) {
      await store.append(`acct-${s}`, Array.from({ length: 100 }, (_, i) => ev('Moved', { i, note: 'n'.repeat(200) })), 'no_stream');
    }
  }, 120_000);
  afterAll(() => db.drop());

  it.each([
    ['2026-02-30', /--until must be an ISO-8601 time .*2026-02 has no day 30/],
    ['2026-11-25 junk', /--until must be an ISO-8601 time .*not in that form/],
    ['2026-11-25T12:00:00Zjunk', /not in that form/],
    ['2026-11-25T12:00:00', /not in that form/], // a time without Z or an offset is ambiguous
    ['2026-13-01', /there is no month 13/],
    ['2026-11-25T24:00:00Z', /time of day is out of range/],
  ])('refuses --until %j with exit 2', async (until, message) => {
    const io = capture();
    expect(await runCli(['replay', '--all', '--until', until], env, io)).toBe(2);
    expect(io.stderr).toMatch(message);
    expect(io.stdout).toBe('');
  });

  it('accepts a calendar date, a UTC time with fractions and a time with an offset', async () => {
    for (const until of ['2026-02-28', '2026-11-25T12:00:00.000Z', '2026-11-25T14:00:00+02:00']) {
      const io = capture();
      expect(await runCli(['replay', '--stream', 'acct-0', '--until', until], env, io), until).toBe(0);
    }
  });

  it('refuses arguments PostgreSQL cannot store, naming them, and writes nothing', async () => {
    const keys = async () => Number((await db.sql.query<{ n: string }>('SELECT count(*) AS n FROM api_keys')).rows[0].n);
    const before = await keys();
    for (const [argv, message] of [
      [['keys', 'issue', '--role', 'viewer', '--label', 'a\u0000b'], /--label must not contain the NUL character/],
      [['keys', 'issue', '--role', 'viewer', '--label', 'x\ud800'], /--label must not contain an unpaired UTF-16 surrogate/],
      [['keys', 'issue', '--role', 'viewer', '--label', 'x'.repeat(101)], /--label must have 1–100 characters/],
      [['replay', '--stream', 'acct-\ud800'], /--stream must not contain an unpaired UTF-16 surrogate/],
      [['verify', '--stream', 'a\u0000'], /--stream must not contain the NUL character/],
    ] as [string[], RegExp][]) {
      const io = capture();
      expect(await runCli(argv, env, io), argv.join(' ')).toBe(2);
      expect(io.stderr).toMatch(message);
    }
    expect(await keys()).toBe(before);
  });

  it('refuses to create an embedded ledger it was asked to read: "no ledger at …", exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-cli-empty-'));
    for (const argv of [['verify'], ['replay', '--all'], ['keys', 'list']]) {
      const io = capture();
      expect(await runCli(argv, { ARBITER_DATA_DIR: dir, DATABASE_URL: '' }, io), argv.join(' ')).toBe(2);
      expect(io.stderr).toContain(`no ledger at ${join(dir, 'pglite')}`);
      expect(io.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'pglite'))).toBe(false);
  });

  it('refuses to read a PostgreSQL database that holds no ledger, and leaves it empty', async () => {
    const name = `arbiter_test_empty_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${name}`;
    try {
      const io = capture();
      expect(await runCli(['verify'], { DATABASE_URL: url.toString() }, io)).toBe(2);
      expect(io.stderr).toMatch(/no ledger in the database at .* \(it has no events table/);
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      await c.end();
      expect(rows[0].n).toBe(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('prints every replayed event through a pipe (replay … | wc -l)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" --import ./test/support/ts-loader.mjs src/cli/main.ts replay --all --json | wc -l`], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, ARBITER_CLI: '1' },
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(r.stderr).not.toMatch(/arbiter:/);
    expect(Number(r.stdout.trim())).toBe(EVENTS);
  }, 180_000);
});
