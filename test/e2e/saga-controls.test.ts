// Compliance and risk controls acting on live sagas (real PostgreSQL, simulated market, paper
// venue): a sanctioned address blocks the trade, and the circuit breaker pauses the engine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { flagStreamId } from '../../src/compliance/cases.js';
import { EngineStateService } from '../../src/risk/engine-state.service.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import type { FinishedSaga, SagaState } from '../../src/trading/saga.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { buildEventRegistry } from '../../src/event-catalog.js';
import { FillFailed } from '../../src/execution/events.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { startApp } from '../support/app.js';

describe('saga controls', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'arbiter-controls-'));
  });
  afterEach(async () => {
    await app?.close();
    app = null;
    await db.drop();
  });

  async function runUntil(pred: (s: FinishedSaga) => boolean, max = 60): Promise<FinishedSaga[]> {
    const saga = app!.app.get(ArbitrageSagaService);
    const market = app!.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    const out: FinishedSaga[] = [];
    for (let i = 0; i < max; i++) {
      const s = await saga.runNew(market.next());
      expect(s.phase).toBe('finished'); // runNew drives a saga to its end
      if (s.phase !== 'finished') continue;
      out.push(s);
      if (pred(s)) return out;
    }
    return out;
  }

  it('blocks a trade touching a sanctioned address and raises a blocking flag with evidence', async () => {
    const keystore = join(dir, 'keystore.json');
    const { publicKey } = await createKeystore(keystore, 'correct horse battery staple');
    const sanctions = join(dir, 'sanctions.txt');
    writeFileSync(sanctions, `# test list\n${publicKey}\n`);
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      KEYSTORE_PATH: keystore,
      KEYSTORE_PASSPHRASE: 'correct horse battery staple',
      COMPLIANCE_SANCTIONS_FILE: sanctions,
    });
    const runs = await runUntil((s) => s.outcome === 'blocked_by_compliance');
    const blocked = runs.at(-1)!;
    expect(blocked.outcome).toBe('blocked_by_compliance');
    expect(runs.some((s) => s.outcome === 'filled')).toBe(false);
    const flagId = blocked.screened!.flags[0];
    const [flag] = await app.app.get<EventStore>(EVENT_STORE).readStream(flagStreamId(flagId));
    expect(flag.type).toBe('ComplianceFlagRaised');
    expect(flag.payload).toMatchObject({ rule: 'sanctioned_address', severity: 'blocking', opportunityId: blocked.opportunityId });
    expect(JSON.stringify(flag.payload)).toContain(publicKey);
    expect(flag.metadata.correlationId).toBe(blocked.opportunityId);
  });

  it('lets an advisory flag through and keeps it for review', async () => {
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: dir, COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '1' });
    const runs = await runUntil((s) => s.outcome === 'filled');
    const filled = runs.at(-1)!;
    expect(filled.outcome).toBe('filled');
    expect(filled.screened!.decision).toBe('advisory');
    const [flag] = await app.app.get<EventStore>(EVENT_STORE).readStream(flagStreamId(filled.screened!.flags[0]));
    expect(flag.payload).toMatchObject({ rule: 'large_transaction', severity: 'advisory' });
  });

  it('pauses the engine by itself on a price-deviation spike, and a paused engine trades nothing', async () => {
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      RISK_MAX_PRICE_DEVIATION_BPS: '1',
      RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS: '1',
    });
    const engine = app.app.get(EngineStateService);
    const runs = await runUntil(() => engine.current().mode === 'PAUSED', 10);
    expect(engine.current().mode).toBe('PAUSED');
    const [paused] = await app.app.get<EventStore>(EVENT_STORE).readStream('engine');
    expect(paused.type).toBe('EnginePaused');
    expect(paused.metadata.actor).toBe('engine:circuit-breaker');
    expect(paused.payload).toMatchObject({ cause: 'circuit_breaker' });
    // Caused by the RiskAssessed of one of the sagas that ran (the breaker acts as the event is folded).
    expect(runs.map((r) => r.opportunityId)).toContain(paused.metadata.correlationId);
    const cause = (await app.app.get<EventStore>(EVENT_STORE).readStream(`arbitrage-${paused.metadata.correlationId}`)).find(
      (e) => e.id === paused.metadata.causationId,
    );
    expect(cause?.type).toBe('RiskAssessed');
    const after = await app.app.get(ArbitrageSagaService).runNew(app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE).next());
    expect(after).toMatchObject({ phase: 'finished', outcome: 'rejected_by_risk' });
    expect((after as FinishedSaga).risk?.failedChecks).toContain('engine_state');
  });

  it('pauses on start when failed fills had reached the threshold but the pause was never recorded', async () => {
    // The failures are in the log (an engine that crashed right after recording them); no app ran.
    const store = new PostgresEventStore(db.sql, buildEventRegistry());
    const failures = [1, 2].map((i) =>
      newEvent(
        FillFailed,
        { opportunityId: `opp-${i}`, signature: '5'.repeat(64 + i), reason: 'slippage tolerance exceeded', failure: null, failedAt: new Date().toISOString() },
        { correlationId: `opp-${i}`, causationId: null, actor: 'engine', tenant: 'default' },
      ),
    );
    for (const [i, f] of failures.entries()) await store.append(`arbitrage-opp-${i + 1}`, [f], 'any');
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: dir, RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS: '2' });
    expect(app.app.get(EngineStateService).current().mode).toBe('PAUSED');
    const [paused] = await store.readStream('engine');
    expect(paused.metadata).toMatchObject({ actor: 'engine:circuit-breaker', causationId: failures[1].id });
    expect(paused.payload).toMatchObject({ cause: 'circuit_breaker' });
  });
});
