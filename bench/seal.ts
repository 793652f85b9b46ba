// Cost of tamper evidence on the local PostgreSQL: what the global chain adds to appends (the
// same appends on a schema without it, migrations ≤ 006, and with it), what one seal costs
// (keystore signature + LedgerSealed append; with SEAL_EVERY_EVENTS=1000 that is the cost per
// 1,000 events), and verify's cost per 1,000 events. Prints figures; asserts nothing.
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '../src/ledger/envelope.js';
import { EventTypeRegistry } from '../src/ledger/event-types.js';
import { contentHash } from '../src/ledger/hash-chain.js';
import { PostgresEventStore } from '../src/ledger/postgres/postgres-event-store.js';
import { LedgerSealer } from '../src/audit/sealer.js';
import { verifyLog } from '../src/ledger/verify.js';
import { createKeystore, KeystoreSigner } from '../src/signing/keystore/keystore-signer.js';
import { migrate, migrationsDir } from '../src/shared/sql/migrator.js';
import { PgSqlClient } from '../src/shared/sql/pg-client.js';

const meta = { correlationId: 'bench', causationId: null, actor: 'bench', tenant: 'default' };
const event = (i: number): NewEvent => ({
  id: randomUUID(),
  type: 'FillConfirmed',
  version: 1,
  payload: { opportunityId: randomUUID(), amountIn: '1000000000', amountOut: String(1000000000 + i) },
  metadata: meta,
  recordedAt: new Date().toISOString(),
});

/** The same request shape PostgresEventStore sends, so both schemas run the same appends. */
function request(stream: string, events: NewEvent[]) {
  return {
    stream,
    expected: 'any',
    events: events.map((e) => ({ id: e.id, type: e.type, version: 1, recordedAt: e.recordedAt, ...e.metadata, payload: e.payload, contentHash: contentHash({ ...e, streamId: stream }) })),
  };
}

async function appendMs(sql: PgSqlClient, events: number, perAppend: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < events / perAppend; i++) {
    await sql.query('SELECT arbiter_append($1::jsonb)', [JSON.stringify([request(`s-${i % 200}`, Array.from({ length: perAppend }, (_, j) => event(j)))])]);
  }
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function sealBench(withDatabase: <T>(fn: (url: string) => Promise<T>) => Promise<T>, quick: boolean): Promise<string[][]> {
  const events = quick ? 5_000 : 20_000;
  const rows: string[][] = [];
  const per1000 = (ms: number) => ((ms / events) * 1000).toFixed(1);

  // 1. Appends without and with the global chain: the same requests (10 events per append), in
  // alternating rounds on two databases so that other load on the machine hits both alike.
  const old = mkdtempSync(join(tmpdir(), 'arbiter-bench-mig-'));
  for (const f of readdirSync(migrationsDir()).filter((f) => f < '007')) cpSync(join(migrationsDir(), f), join(old, f));
  await withDatabase((oldUrl) =>
    withDatabase(async (url) => {
      const before = new PgSqlClient(oldUrl, { max: 2 });
      await migrate(before, old);
      const sql = new PgSqlClient(url, { max: 2 });
      await migrate(sql);
      await appendMs(before, 1000, 10); // warm-up
      await appendMs(sql, 1000, 10);
      let without = 0;
      let withChain = 0;
      for (let round = 0; round < events / 1000; round++) {
        without += await appendMs(before, 1000, 10);
        withChain += await appendMs(sql, 1000, 10);
      }
      await before.close();
      rows.push([`append ${events.toLocaleString('en-US')} events, 10/append, stream chain only (schema ≤ 006)`, `${per1000(without)} ms per 1,000 events`]);
      rows.push([`append ${events.toLocaleString('en-US')} events, 10/append, stream + global chain (007)`, `${per1000(withChain)} ms per 1,000 events`]);
      rows.push(['global chain, added to appends', `${per1000(withChain - without)} ms per 1,000 events`]);
      await sealAndVerify(sql, rows, quick);
      await sql.close();
    }),
  );
  return rows;
}

async function sealAndVerify(sql: PgSqlClient, rows: string[][], quick: boolean): Promise<void> {
  {
    // 2. Seals: one after every 1,000 events (SEAL_EVERY_EVENTS=1000), keystore signer.
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-bench-seal-'));
    await createKeystore(join(dir, 'seal.json'), 'bench', { scryptN: 1024, keyId: 'bench-seal' });
    const signer = await KeystoreSigner.open(join(dir, 'seal.json'), 'bench');
    const store = new PostgresEventStore(sql, new EventTypeRegistry(true));
    const sealer = new LedgerSealer(store, signer, null, { everyEvents: 1000, everySeconds: 3600 });
    const seals = quick ? 20 : 100;
    const sealMs: number[] = [];
    for (let i = 0; i < seals; i++) {
      await appendMs(sql, 1000, 100);
      const t0 = performance.now();
      const s = await sealer.tick();
      sealMs.push(performance.now() - t0);
      if (!s) throw new Error('the sealer did not seal after 1,000 events');
    }
    rows.push([`one seal (keystore Ed25519 + LedgerSealed append), ${seals} seals: p50`, `${pct(sealMs, 50).toFixed(2)} ms per 1,000 events`]);
    rows.push([`one seal: p99`, `${pct(sealMs, 99).toFixed(2)} ms`]);
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await sealer.tick();
      idle.push(performance.now() - t0);
    }
    rows.push(['a look with nothing to seal (every SEAL_CHECK_MS): p50', `${pct(idle, 50).toFixed(2)} ms`]);

    // 3. verify over everything (both chains, heads, seals).
    const t0 = performance.now();
    const r = await verifyLog(store);
    const ms = performance.now() - t0;
    if (!r.ok) throw new Error(`verify failed on the bench log: ${r.failure?.reason}`);
    rows.push([`verify ${r.eventsChecked.toLocaleString('en-US')} events (${r.sealsChecked} seals)`, `${((ms / r.eventsChecked) * 1000).toFixed(1)} ms per 1,000 events`]);
  }
}
