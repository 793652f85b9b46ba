// Tamper evidence on the real PostgreSQL, tried as an attacker with database access would: the
// table refuses changes; a superuser who switches the trigger off and erases a fill, a stream,
// reorders the log, or recomputes every hash is named by verify — the last one only by a seal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { verifyLog, type VerifyResult } from '../../../src/ledger/verify.js';
import { LedgerSealer } from '../../../src/audit/sealer.js';
import { toDigest, type LedgerSealedPayload } from '../../../src/ledger/sealing/seal.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';
import { forgeChains, tamper } from '../../support/tamper.js';
import { testSealSigner } from '../../support/seal-signer.js';
import type { KeystoreSigner } from '../../../src/signing/keystore/keystore-signer.js';

const kinds = (r: VerifyResult) => r.failures.map((f) => f.kind);

describe('tamper evidence on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let signer: KeystoreSigner;
  beforeEach(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, testRegistry());
    signer ??= await testSealSigner();
    // positions 1..6: fills of two sagas and a third stream in between.
    await store.append('saga-a', [ev('FillConfirmed', { amount: '100' })], 'no_stream');
    await store.append('saga-b', [ev('FillConfirmed', { amount: '200' })], 'no_stream');
    await store.append('saga-a', [ev('FillConfirmed', { amount: '300' })], 0n);
    await store.append('other', [ev('Noted', { n: 1 })], 'no_stream');
    await store.append('saga-b', [ev('FillConfirmed', { amount: '400' })], 0n);
    await store.append('other', [ev('Noted', { n: 2 })], 0n);
  });
  afterEach(() => db.drop());

  it('refuses UPDATE, DELETE and TRUNCATE on the events table', async () => {
    await expect(db.sql.query(`UPDATE events SET payload = '{"amount":"1"}' WHERE global_position = 1`)).rejects.toThrow(/append-only: UPDATE is refused/);
    await expect(db.sql.query('DELETE FROM events WHERE global_position = 6')).rejects.toThrow(/append-only: DELETE is refused/);
    await expect(db.sql.query('TRUNCATE events CASCADE')).rejects.toThrow(/append-only: TRUNCATE is refused/);
    const { rows } = await db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
    expect(rows[0].n).toBe('6');
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('names an erased fill (the last event of a stream) as a missing tail, in the log and for the stream', async () => {
    await tamper(db.sql, `DELETE FROM events WHERE stream_id = 'saga-a' AND stream_revision = 1`);
    const all = await verifyLog(store);
    expect(all.ok).toBe(false);
    expect(kinds(all)).toContain('missing-tail');
    expect(all.failures.find((f) => f.kind === 'missing-tail')!.reason).toMatch(/stream "saga-a" ends at revision 0 but its head records revision 1/);
    expect(kinds(all)).toContain('gap');
    const one = await verifyLog(store, { streamId: 'saga-a' });
    expect(one).toMatchObject({ ok: false, failure: { kind: 'missing-tail', streamId: 'saga-a' } });
  });

  it('names an erased last event of the whole log, even with the stream head put back', async () => {
    await tamper(
      db.sql,
      'DELETE FROM events WHERE global_position = 6',
      `UPDATE event_streams SET revision = 0, last_hash = (SELECT hash FROM events WHERE global_position = 4), last_position = 4 WHERE stream_id = 'other'`,
    );
    const r = await verifyLog(store);
    expect(r.ok).toBe(false);
    expect(r.failure!.kind).toBe('log-head');
    expect(r.failure!.reason).toMatch(/log head records position 6 but the last event is at 5: the tail of the log \(1 event\(s\)\) was removed/);
  });

  it('names a removed stream', async () => {
    await tamper(db.sql, `DELETE FROM events WHERE stream_id = 'saga-b'`);
    const all = await verifyLog(store);
    expect(kinds(all)).toContain('missing-stream');
    expect(all.failures.find((f) => f.kind === 'missing-stream')!.streamId).toBe('saga-b');
    expect(await verifyLog(store, { streamId: 'saga-b' })).toMatchObject({ ok: false, failure: { kind: 'missing-stream' } });
  });

  it('names a reorder of events of different streams', async () => {
    // Swap positions 2 (saga-b) and 3 (saga-a): each stream's own order is unchanged.
    await tamper(
      db.sql,
      'UPDATE events SET global_position = -3 WHERE global_position = 3',
      'UPDATE events SET global_position = 3 WHERE global_position = 2',
      'UPDATE events SET global_position = 2 WHERE global_position = -3',
    );
    const r = await verifyLog(store);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ kind: 'global-chain', position: 2n });
    expect(r.failure!.reason).toMatch(/reordered/);
    expect(kinds(r)).not.toContain('event');
  });

  it('says a stream that does not exist does not exist', async () => {
    const r = await verifyLog(store, { streamId: 'no-such-saga' });
    expect(r).toMatchObject({ ok: false, eventsChecked: 0, failure: { kind: 'no-such-stream', streamId: 'no-such-saga' } });
  });

  it('passes a forgery of every hash and head table, unless a seal covers it', async () => {
    const forgeFill = async (position: number, amount: string) => {
      await tamper(db.sql, [`UPDATE events SET payload = $1::jsonb WHERE global_position = $2`, [JSON.stringify({ amount }), position]]);
      await forgeChains(db.sql);
    };
    // Without a seal, a forger who recomputes everything passes: this is why seals exist.
    await forgeFill(1, '1000000');
    expect((await verifyLog(store)).ok).toBe(true);

    const sealer = new LedgerSealer(store, signer, null, { everyEvents: 1000, everySeconds: 60 });
    const seal = (await sealer.sealIfNew())!;
    expect(seal.payload.position).toBe('6');
    expect(await sealer.sealIfNew()).toBeNull();
    await store.append('saga-c', [ev('FillConfirmed', { amount: '500' })], 'no_stream');

    let r = await verifyLog(store);
    expect(r).toMatchObject({ ok: true, sealsChecked: 1, unsealed: { events: 2, fromPosition: 7n, toPosition: 8n } });
    expect(r.unsealed!.streams).toEqual(['ledger-seals', 'saga-c']);

    // Forging after the seal still passes (and is named as unsealed); forging before it does not.
    await forgeFill(8, '999');
    expect((await verifyLog(store)).ok).toBe(true);
    await forgeFill(3, '7');
    r = await verifyLog(store);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ kind: 'seal', position: 7n });
    expect(r.failure!.reason).toMatch(/the log at or before position 6 was changed after it was sealed/);

    // The digest an auditor kept says the same, even if the forger also removes the seal.
    const digest = toDigest(seal.eventPosition, seal.eventId, seal.payload);
    const withDigest = await verifyLog(store, { digest });
    expect(withDigest.digestExtended).toBe(false);
    expect(kinds(withDigest)).toContain('digest');
  });

  it('refuses a seal re-signed with another key when the auditor pins the seal key', async () => {
    const sealer = new LedgerSealer(store, signer, null, { everyEvents: 1000, everySeconds: 60 });
    const seal = (await sealer.sealIfNew())!;
    const digest = toDigest(seal.eventPosition, seal.eventId, seal.payload);
    expect(await verifyLog(store, { digest })).toMatchObject({ ok: true, digestExtended: true });

    // The forger rewrites fill 1, recomputes everything and re-seals with a key of their own.
    const mallory = await testSealSigner('mallory');
    await tamper(db.sql, `UPDATE events SET payload = '{"amount":"1000000"}' WHERE global_position = 1`, 'DELETE FROM events WHERE global_position = 7');
    await forgeChains(db.sql);
    await tamper(db.sql, `DELETE FROM event_streams WHERE stream_id = 'ledger-seals'`);
    const forged = (await new LedgerSealer(store, mallory, null, { everyEvents: 1000, everySeconds: 60 }).sealIfNew())!;
    expect(forged.eventPosition).toBe(7n);
    // Verified alone, the forged seal is genuine (a different key): the report names its key.
    const alone = await verifyLog(store);
    expect(alone.ok).toBe(true);
    expect((alone.lastSeal!.payload as LedgerSealedPayload).publicKey).toBe(await mallory.publicKeyBase58());
    // Against the digest (or the pinned key) it is not.
    const pinned = await verifyLog(store, { digest });
    expect(pinned.ok).toBe(false);
    expect(pinned.failures.map((f) => f.reason).join('\n')).toMatch(/not a trusted seal key|not the digest's seal|was changed/);
  });
});
