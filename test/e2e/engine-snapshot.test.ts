// The engine's trading state is snapshotted so a start folds only what came after. A start from
// the snapshot must give exactly the state a fold of the whole history gives.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { EngineStateService } from '../../src/risk/engine-state.service.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startApp } from '../support/app.js';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)));

describe('engine state snapshots', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await freshDatabase();
    env = {
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-snap-')),
      SIM_SEED: '21',
      RISK_MAX_ORDERS_PER_MINUTE: '100000',
      COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '400000000',
    };
  });
  afterAll(() => db.drop());

  it('a start from the snapshot equals a fold of the whole log', async () => {
    const first = await startApp(env);
    const saga = first.app.get(ArbitrageSagaService);
    const market = first.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    for (let i = 0; i < 25; i++) await saga.runNew(market.next());
    await first.close(); // saves the snapshot

    const saved = await db.sql.query<{ position: string }>(`SELECT position FROM snapshots WHERE name = 'engine-state'`);
    expect(saved.rows).toHaveLength(1);
    expect(BigInt(saved.rows[0].position)).toBeGreaterThan(0n);

    const older = (await db.sql.query<{ position: string; state: string }>(`SELECT position, state::text AS state FROM snapshots WHERE name = 'engine-state'`)).rows[0];

    // More trading after the snapshot; then put the older snapshot back, so the next start must
    // fold the events that came after it on top of it.
    const second = await startApp(env);
    for (let i = 0; i < 15; i++) await second.app.get(ArbitrageSagaService).runNew(second.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE).next());
    await second.close();
    await db.sql.query(`UPDATE snapshots SET position = $1, state = $2::jsonb WHERE name = 'engine-state'`, [older.position, older.state]);

    const fromSnapshot = await startApp(env);
    const restored = plain(fromSnapshot.app.get(EngineStateService).current());
    expect(fromSnapshot.app.get(EngineStateService).startedFromSnapshot).toBe(BigInt(older.position));
    await fromSnapshot.close();

    await db.sql.query('DELETE FROM snapshots');
    const fromScratch = await startApp(env);
    const folded = plain(fromScratch.app.get(EngineStateService).current());
    expect(fromScratch.app.get(EngineStateService).startedFromSnapshot).toBe(0n);
    await fromScratch.close();
    expect(restored).toEqual(folded);
    expect(folded.recentOrders.length + Object.keys(folded.inFlight).length).toBeGreaterThan(0);
  }, 120_000); // four application starts and 40 sagas: well past the 30 s default on a loaded 2-core machine
});
