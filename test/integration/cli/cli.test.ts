// The arbiter CLI against a real PostgreSQL database: replay as of a time or position, verify,
// rebuild, and usage errors (exit 2, no stack trace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';
import { tamper } from '../../support/tamper.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

describe('arbiter CLI', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let cutoff: string;
  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url };
    // The CLI validates against the application's catalog: use events of a real type there is none
    // of yet, so write with a permissive registry and read back raw.
    const store = new PostgresEventStore(db.sql, testRegistry());
    const t0 = new Date('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 6; i++) {
      const e = ev('Moved', { i });
      e.recordedAt = new Date(t0.getTime() + i * 60_000).toISOString();
      await store.append(i % 2 ? 'acct-odd' : 'acct-even', [e], 'any');
    }
    cutoff = new Date(t0.getTime() + 2 * 60_000).toISOString();
  });
  afterAll(() => db.drop());

  it('replays one stream as of a time, as JSON lines', async () => {
    const io = capture();
    expect(await runCli(['replay', '--stream', 'acct-even', '--until', cutoff, '--json'], env, io)).toBe(0);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.payload.i)).toEqual([0, 2]);
    expect(lines[0]).toMatchObject({ streamId: 'acct-even', revision: '0', type: 'Moved' });
  });

  it('replays everything up to a global position, as text', async () => {
    const io = capture();
    expect(await runCli(['replay', '--all', '--until-position', '4'], env, io)).toBe(0);
    const lines = io.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/acct-odd@1\s+Moved v1/);
  });

  it('verifies, and exits 1 naming the first tampered event', async () => {
    let io = capture();
    expect(await runCli(['verify'], env, io)).toBe(0);
    expect(io.stdout).toMatch(/OK: 6 events in 2 streams/);
    await tamper(db.sql, `UPDATE events SET actor = 'mallory' WHERE global_position = 3`);
    const { rows } = await db.sql.query<{ event_id: string }>('SELECT event_id FROM events WHERE global_position = 3');
    io = capture();
    expect(await runCli(['verify', '--stream', 'acct-even'], env, io)).toBe(1);
    expect(io.stdout).toContain(`TAMPERED: first bad event is ${rows[0].event_id}`);
    expect(io.stdout).toContain('position 3');
  });

  it('rebuilds a projection and prints progress and a digest', async () => {
    const io = capture();
    expect(await runCli(['rebuild', 'audit_index'], env, io)).toBe(0);
    expect(io.stdout).toMatch(/rebuilt audit_index: generation 2, 6 events/);
    expect(io.stdout).toMatch(/digest audit_streams:2:[0-9a-f]{32}/);
  });

  it.each([
    [['replay'], /exactly one of --stream ID or --all/],
    [['replay', '--all', '--stream', 'x'], /exactly one of/],
    [['replay', '--all', '--until', 'yesterday'], /--until must be an ISO-8601 time/],
    [['replay', '--all', '--until-position', '-3'], /non-negative integer/],
    [['replay', '--all', '--bogus'], /unknown option --bogus/],
    [['rebuild'], /exactly one projection name/],
    [['rebuild', 'nope'], /unknown projection "nope"; known: audit_index/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['verify', '--stream'], /--stream needs a value/],
  ])('usage error for %j exits 2 with a message and the usage', async (argv, message) => {
    const io = capture();
    expect(await runCli(argv as string[], env, io)).toBe(2);
    expect(io.stderr).toMatch(message);
    expect(io.stderr).toContain('Usage:');
    expect(io.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects bad configuration with exit 2', async () => {
    const io = capture();
    expect(await runCli(['verify'], { DATABASE_URL: 'mysql://nope' }, io)).toBe(2);
    expect(io.stderr).toMatch(/DATABASE_URL must be a postgres:\/\//);
  });
});

describe('arbiter keys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db.drop());

  it('issues a key once, lists it, revokes it, and records both as events', async () => {
    const env = { DATABASE_URL: db.url };
    let io = capture();
    expect(await runCli(['keys', 'issue', '--role', 'admin', '--label', 'ops on-call'], env, io)).toBe(0);
    const key = io.stdout.trim();
    expect(key).toMatch(/^arb_[a-z0-9]{12}_/);
    const keyId = key.split('_')[1];
    const { authenticate } = await import('../../../src/api/auth/api-keys.js');
    expect(await authenticate(db.sql, key)).toMatchObject({ keyId, role: 'admin', label: 'ops on-call' });
    const stored = await db.sql.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
    expect(JSON.stringify(stored.rows)).not.toContain(key); // only the hash is kept

    io = capture();
    expect(await runCli(['keys', 'list'], env, io)).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`${keyId}\\s+admin\\s+.*active\\s+ops on-call`));

    io = capture();
    expect(await runCli(['keys', 'revoke', keyId], env, io)).toBe(0);
    expect(await authenticate(db.sql, key)).toBeNull();
    io = capture();
    expect(await runCli(['keys', 'revoke', keyId], env, io)).toBe(1);
    expect(io.stderr).toMatch(/no active key/);

    const events = await db.sql.query<{ event_type: string; actor: string }>(`SELECT event_type, actor FROM events WHERE stream_id = $1 ORDER BY stream_revision`, [`apikey-${keyId}`]);
    expect(events.rows.map((r) => r.event_type)).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
    expect(events.rows[0].actor).toMatch(/^cli:/);
  });

  it.each([
    [['keys'], /subcommand: issue, list or revoke/],
    [['keys', 'issue', '--role', 'god', '--label', 'x'], /--role, one of viewer/],
    [['keys', 'issue', '--role', 'viewer'], /needs --label/],
    [['keys', 'revoke'], /exactly one key id/],
  ])('usage error for %j', async (argv, message) => {
    const io = capture();
    expect(await runCli(argv as string[], { DATABASE_URL: db.url }, io)).toBe(2);
    expect(io.stderr).toMatch(message);
  });
});
