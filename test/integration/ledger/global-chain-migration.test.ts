// A log written before the global chain existed (migrations 001–006) keeps verifying after 007
// and 008: its stream hashes are untouched, and the global chain is backfilled over its rows.
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { contentHash, GENESIS_HASH, logChainHash } from '../../../src/ledger/hash-chain.js';
import { verifyLog } from '../../../src/ledger/verify.js';
import { migrate, migrationsDir } from '../../../src/shared/sql/migrator.js';
import { PgSqlClient } from '../../../src/shared/sql/pg-client.js';
import { SERVER_URL } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';

describe('migration 007 on an existing log', () => {
  const name = `arbiter_test_mig_${Date.now().toString(36)}`;
  let sql: PgSqlClient;
  afterAll(async () => {
    await sql?.close();
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('backfills the global chain so old logs verify, and appends continue the chain', async () => {
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(SERVER_URL);
    u.pathname = `/${name}`;
    sql = new PgSqlClient(u.toString());

    const old = mkdtempSync(join(tmpdir(), 'arbiter-mig-'));
    for (const f of readdirSync(migrationsDir()).filter((f) => f < '007')) cpSync(join(migrationsDir(), f), join(old, f));
    expect(await migrate(sql, old)).toHaveLength(6);
    // Written by the old arbiter_append, as a deployed version did.
    const requests = ['a', 'b', 'a', 'c', 'b'].map((stream, i) => {
      const e = ev('Moved', { i });
      return {
        stream,
        expected: 'any',
        events: [{ id: e.id, type: e.type, version: 1, recordedAt: e.recordedAt, ...e.metadata, payload: e.payload, contentHash: contentHash({ ...e, streamId: stream }) }],
      };
    });
    await sql.query('SELECT arbiter_append($1::jsonb)', [JSON.stringify(requests)]);
    const { rows: before } = await sql.query<{ hash: string }>('SELECT hash FROM events ORDER BY global_position');

    expect(await migrate(sql)).toEqual(readdirSync(migrationsDir()).filter((f) => f >= '007' && f.endsWith('.sql')).sort());
    const { rows: after } = await sql.query<{ hash: string; log_hash: string; global_position: string }>(
      'SELECT hash, log_hash, global_position FROM events ORDER BY global_position',
    );
    expect(after.map((r) => r.hash)).toEqual(before.map((r) => r.hash));
    let chain = GENESIS_HASH;
    for (const r of after) {
      chain = logChainHash(chain, BigInt(r.global_position), r.hash);
      expect(r.log_hash).toBe(chain);
    }
    const store = new PostgresEventStore(sql, testRegistry());
    expect(await store.logHead()).toEqual({ position: 5n, hash: chain });
    await store.append('a', [ev('Moved', { i: 5 })], 'any');
    const r = await verifyLog(store);
    expect(r.failures).toEqual([]);
    expect(r.eventsChecked).toBe(6);
  });
});
