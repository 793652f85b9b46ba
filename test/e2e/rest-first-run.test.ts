// First run on the embedded database (PGlite, no DATABASE_URL): the app issues an admin key,
// writes it to <ARBITER_DATA_DIR>/admin-api-key readable by the owner only, and that key works.
// A second start on the same data directory issues nothing new.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { SQL_CLIENT } from '../../src/ledger/ledger.module.js';
import type { SqlClient } from '../../src/shared/sql/sql-client.js';
import { startApp } from '../support/app.js';

describe('first run on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arbiter-first-run-'));
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  afterAll(async () => {
    await app?.close();
  });

  it('writes an admin key file (mode 0600) that authenticates, and records ApiKeyIssued', async () => {
    app = await startApp({ DATABASE_URL: undefined, EVENTSTORE_URL: undefined, ARBITER_DATA_DIR: dataDir, ARBITER_ADMIN_KEY_FILE: undefined, LOG_LEVEL: 'error' });
    const file = join(dataDir, 'admin-api-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^arb_[a-z0-9]{12}_/);

    const sql = app.app.get<SqlClient>(SQL_CLIENT);
    const { rows } = await sql.query<{ key_hash: string; role: string }>('SELECT key_hash, role FROM api_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].role).toBe('admin');
    expect(rows[0].key_hash).not.toContain(key.slice(18)); // only the hash is stored

    const keyId = key.slice(4, 16);
    const events = await app.app.get<EventStore>(EVENT_STORE).readStream(`apikey-${keyId}`);
    expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([['ApiKeyIssued', 'system:first-run']]);

    const anon = await fetch(`${app.url}/keys`);
    expect(anon.status).toBe(401);
    const listed = await fetch(`${app.url}/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { keys: { keyId: string }[] }).keys.map((k) => k.keyId)).toEqual([keyId]);

    await app.close();
    app = null;

    // Restart on the same data directory: the key exists, nothing new is issued.
    app = await startApp({ DATABASE_URL: undefined, EVENTSTORE_URL: undefined, ARBITER_DATA_DIR: dataDir, LOG_LEVEL: 'error' });
    const again = await app.app.get<SqlClient>(SQL_CLIENT).query('SELECT key_id FROM api_keys');
    expect(again.rows).toHaveLength(1);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
  }, 120_000);
});
