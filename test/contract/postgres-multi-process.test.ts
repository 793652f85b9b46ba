// Appends from several processes (separate pools, separate in-process queues) on one database:
// the serialisation in arbiter_append must still give a gap-safe, strictly ordered log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { PgSqlClient } from '../../src/shared/sql/pg-client.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ev, testRegistry } from '../support/events.js';

describe('PostgreSQL event store with writers in several processes', () => {
  let db: TestDatabase;
  const clients: PgSqlClient[] = [];
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await db.drop();
  });

  it('a tailing reader never skips an event that commits later with a lower position', async () => {
    const stores = Array.from({ length: 4 }, () => {
      const c = new PgSqlClient(db.url, { max: 4 });
      clients.push(c);
      return new PostgresEventStore(c, testRegistry(), { livePollMs: 50 });
    });
    const reader = stores[0];
    const seen: RecordedEvent[] = [];
    const total = 4 * 4 * 50;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const sub = reader.subscribeToAll({
      batchSize: 13,
      onEvents: (es) => {
        seen.push(...es);
        if (seen.length >= total) done();
      },
    });
    await Promise.all(
      stores.flatMap((s, p) =>
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 50; i++) await s.append(`p${p}-w${w}`, [ev('M', { p, w, i })], 'any');
        }),
      ),
    );
    await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error(`saw ${seen.length}/${total}`)), 20_000))]);
    await sub.stop();
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((e) => e.id)).size).toBe(total);
    // Positions are contiguous 1..N: nothing was skipped, nothing repeated.
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => BigInt(i + 1)));
  });
});
