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
import { ENGINE_LEADER_STREAM, EngineLeadershipAcquired } from '../../src/ledger/leadership/events.js';
import { tokenOfActor } from '../../src/ledger/leadership/fencing.js';
import { LeadershipService } from '../../src/ledger/leadership/leadership.service.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';

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

  it('a new leader pauses before it trades when the old one died between the failures and its pause', async () => {
    // A ghost leader: it holds the lease and recorded its leadership (token 0).
    const store = new PostgresEventStore(db.sql, buildEventRegistry());
    await db.sql.query(`UPDATE engine_lease SET holder = 'ghost', epoch = 1, expires_at = now() + interval '1 minute' WHERE id = 1`);
    const meta = (id: string) => ({ correlationId: id, causationId: null, actor: 'engine@token:0', tenant: 'default' });
    await store.append(ENGINE_LEADER_STREAM, [newEvent(EngineLeadershipAcquired, { holder: 'ghost', epoch: '1', settings: null }, meta('lease-1'))], 'no_stream');
    // The standby trades the moment it leads (autostart, 10 opportunities a second).
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS: '2',
      ENGINE_HA: 'on',
      ENGINE_NODE_ID: 'standby',
      ENGINE_AUTOSTART: 'true',
      SIM_OPPORTUNITIES_PER_MINUTE: '600',
      ENGINE_LEASE_ACQUIRE_MS: '200',
    });
    const leadership = app.app.get(LeadershipService);
    expect(leadership.status().role).toBe('standby');
    // The ghost's last words: two failed fills (the threshold), then it dies before its pause.
    // The standby folds them live but may not pause an engine it does not run.
    const failures = [1, 2].map((i) =>
      newEvent(
        FillFailed,
        { opportunityId: `ghost-${i}`, signature: '6'.repeat(64 + i), reason: 'slippage tolerance exceeded', failedAt: new Date().toISOString(), failure: null },
        meta(`ghost-${i}`),
      ),
    );
    for (const [i, f] of failures.entries()) await store.append(`arbitrage-ghost-${i + 1}`, [f], 'no_stream');
    const engine = app.app.get(EngineStateService);
    for (let i = 0; i < 100 && engine.current().consecutiveFailedFills < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(engine.current()).toMatchObject({ mode: 'ACTIVE', consecutiveFailedFills: 2 });
    // Its lease runs out.
    await db.sql.query(`UPDATE engine_lease SET expires_at = now() WHERE id = 1`);

    for (let i = 0; i < 200 && leadership.status().role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(leadership.status()).toMatchObject({ role: 'leader', token: '1' });
    await leadership.settled();
    expect(engine.current().mode).toBe('PAUSED');
    const [paused] = await store.readStream('engine');
    expect(paused.metadata).toMatchObject({ actor: 'engine:circuit-breaker@token:1', causationId: failures[1].id });
    expect(paused.payload).toMatchObject({ cause: 'circuit_breaker', detail: { trigger: 'consecutive_failed_fills', foundOnTakeover: expect.any(String) } });
    // Nothing the new leader wrote for a saga comes before its pause.
    await new Promise((r) => setTimeout(r, 500));
    const sagaEvents = (await store.readAll({ after: 0n, maxCount: 10_000, filter: { streamPrefix: SAGA_STREAM_PREFIX } })).filter((e) => tokenOfActor(e.metadata.actor) === 1n);
    for (const e of sagaEvents) expect(e.position, `${e.type} of ${e.streamId}`).toBeGreaterThan(paused.position);
  });
});
