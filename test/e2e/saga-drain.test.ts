// A graceful stop (SIGTERM → Nest's shutdown hooks) and the restart after it (issue 9, finding 7):
// the engine drains — no new saga, the ones in flight go on to their end — and the projections
// apply what it wrote before the process ends.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import { foldSaga } from '../../src/trading/saga.js';
import { startApp } from '../support/app.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

async function sagas(store: PostgresEventStore): Promise<Map<string, RecordedEvent[]>> {
  const byStream = new Map<string, RecordedEvent[]>();
  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000, filter: { streamPrefix: SAGA_STREAM_PREFIX } });
    if (!page.length) return byStream;
    for (const e of page) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    after = page[page.length - 1].position;
  }
}

describe('graceful stop and restart of the engine', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const env = (extra: Record<string, string>) => ({
    DATABASE_URL: db.url,
    ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-drain-')),
    SIM_SEED: '21',
    RISK_MIN_PROFIT_BASE_UNITS: '0',
    RISK_MAX_ORDERS_PER_MINUTE: '100000',
    ENGINE_MAX_SAGA_AGE_MS: '600000',
    LOG_LEVEL: 'error',
    ...extra,
  });

  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, buildEventRegistry());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('drains on shutdown: every saga in flight ends, and the read model has them all', async () => {
    // Opportunities arrive far faster than 4 sagas at a time can take them: at any moment, four
    // are in flight.
    const app = await startApp(env({ ENGINE_AUTOSTART: 'true', SIM_OPPORTUNITIES_PER_MINUTE: '6000', ENGINE_CONCURRENCY: '4' }));
    const deadline = Date.now() + 60_000;
    while ((await sagas(store)).size < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await app.close();

    const all = await sagas(store);
    expect(all.size).toBeGreaterThanOrEqual(12);
    const unfinished = [...all].filter(([id, es]) => foldSaga(id.slice(SAGA_STREAM_PREFIX.length), es).phase !== 'finished');
    expect(unfinished.map(([id, es]) => `${id}: ${es.map((e) => e.type).join(',')}`)).toEqual([]);
    const { rows } = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM executions');
    expect(rows[0].n).toBe(all.size);
  });
});
