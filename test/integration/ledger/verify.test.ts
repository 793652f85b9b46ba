// Tamper evidence on the real PostgreSQL: alter a stored row directly, verify names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { verifyLog } from '../../../src/ledger/verify.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';
import { tamper } from '../../support/tamper.js';

describe('verify (hash chains) on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, testRegistry());
    for (let i = 0; i < 5; i++) await store.append(`acct-${i % 2}`, [ev('Moved', { i, amount: `${i}000` })], 'any');
    await store.append('acct-9', [ev('Moved', { i: 9, amount: '1' }), ev('Moved', { i: 10, amount: '2' })], 'any');
  });
  afterAll(() => db.drop());

  it('passes on an untouched log, for everything and for one stream', async () => {
    const all = await verifyLog(store);
    expect(all).toMatchObject({ ok: true, eventsChecked: 7, streamsChecked: 3, failure: null });
    expect((await verifyLog(store, { streamId: 'acct-1' })).eventsChecked).toBe(2);
  });

  it('names the first altered event when a payload is changed in the table', async () => {
    await tamper(db.sql, `UPDATE events SET payload = jsonb_set(payload, '{amount}', '"999999"') WHERE stream_id = 'acct-0' AND stream_revision = 1`);
    const [target] = (await store.readStream('acct-0')).filter((e) => e.revision === 1n);
    const r = await verifyLog(store);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ streamId: 'acct-0', revision: 1n, eventId: target.id });
    expect(r.failure!.reason).toMatch(/altered/);
    // Restore, then rewrite the hashes too: the next event's prevHash gives it away.
    await tamper(db.sql, `UPDATE events SET payload = jsonb_set(payload, '{amount}', '"2000"') WHERE stream_id = 'acct-0' AND stream_revision = 1`);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('catches a forger who also recomputes the altered event\'s own hashes', async () => {
    const events = await store.readStream('acct-9');
    const forged = { ...events[0], payload: { i: 9, amount: '1000000' } };
    const { contentHash, chainHash } = await import('../../../src/ledger/hash-chain.js');
    const c = contentHash(forged);
    const h = chainHash(forged.prevHash, forged.revision, c);
    await tamper(db.sql, [
      `UPDATE events SET payload = $1::jsonb, content_hash = $2, hash = $3 WHERE event_id = $4`,
      [JSON.stringify(forged.payload), c, h, forged.id],
    ]);
    const r = await verifyLog(store, { streamId: 'acct-9' });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ eventId: events[1].id, revision: 1n });
    expect(r.failure!.reason).toMatch(/prevHash/);
  });

  it('notices a deleted event', async () => {
    await tamper(db.sql, `DELETE FROM events WHERE stream_id = 'acct-1' AND stream_revision = 0`);
    const r = await verifyLog(store, { streamId: 'acct-1' });
    expect(r.ok).toBe(false);
    expect(r.failure!.reason).toMatch(/missing or was reordered/);
  });
});
