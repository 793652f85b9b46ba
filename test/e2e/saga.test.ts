// The arbitrage saga end to end on the embedded default (PGlite on disk, simulated market,
// keystore signer, paper venue): from detection to fill, every step an event in one stream.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { verifyLog } from '../../src/ledger/verify.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { sagaStreamId } from '../../src/trading/events.js';
import type { FinishedSaga } from '../../src/trading/saga.js';
import { startApp } from '../support/app.js';
import { ProjectionsService } from '../../src/projections/projections.module.js';
import { SQL_CLIENT } from '../../src/ledger/ledger.module.js';
import type { SqlClient } from '../../src/shared/sql/sql-client.js';

describe('arbitrage saga on the embedded default', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let store: EventStore;
  let saga: ArbitrageSagaService;
  let market: SimulatedMarket;
  const outcomes: FinishedSaga[] = []; // runNew drives each saga to its end: asserted below

  beforeAll(async () => {
    app = await startApp({ DATABASE_URL: undefined, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-saga-')), SIM_SEED: '7' });
    store = app.app.get(EVENT_STORE);
    saga = app.app.get(ArbitrageSagaService);
    market = app.app.get(OPPORTUNITY_SOURCE);
    for (let i = 0; i < 40 && !outcomes.some((o) => o.outcome === 'filled'); i++) outcomes.push((await saga.runNew(market.next())) as FinishedSaga);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('runs opportunities to an end: fills, and rejections with the failed checks', async () => {
    expect(outcomes.every((o) => o.phase === 'finished')).toBe(true);
    expect(outcomes.some((o) => o.outcome === 'filled')).toBe(true);
    for (const o of outcomes.filter((x) => x.outcome === 'rejected_by_risk')) {
      expect(o.risk!.approved).toBe(false);
      expect(o.risk!.failedChecks.length).toBeGreaterThan(0);
    }
  });

  it('records every step of a filled saga in order, with correlation and causation ids', async () => {
    const filled = outcomes.find((o) => o.outcome === 'filled')!;
    const events = await store.readStream(sagaStreamId(filled.opportunityId));
    expect(events.map((e) => e.type)).toEqual([
      'OpportunityDetected',
      'QuoteReceived',
      'RiskAssessed',
      'ComplianceScreened',
      'TransactionPrepared',
      'TransactionSigned',
      'TransactionSubmitted',
      'FillConfirmed',
    ]);
    expect(new Set(events.map((e) => e.metadata.correlationId))).toEqual(new Set([filled.opportunityId]));
    expect(events[0].metadata.causationId).toBeNull();
    for (let i = 1; i < events.length; i++) {
      // Prepared and Signed are one append caused by the screening.
      const cause = events[i].type === 'TransactionSigned' ? events[i - 2] : events[i - 1];
      expect(events[i].metadata.causationId).toBe(cause.id);
    }
    const quote = events[1].payload as { legs: { inAmount: string; outAmount: string; routePlan: unknown; raw: unknown }[]; price: { publishTime: number } };
    expect(quote.legs).toHaveLength(2);
    expect(quote.legs[0].raw).toBeTruthy();
    const signed = events[5].payload as { signature: string; signerPublicKey: string; signerKind: string };
    expect(signed.signerKind).toBe('keystore');
    expect(JSON.stringify(signed)).not.toMatch(/secret|private|seed/i);
    const fill = events[7].payload as { signature: string; amountIn: string; amountOut: string; feeLamports: string; realisedPnl: string };
    expect(fill.signature).toBe(signed.signature);
    expect(BigInt(fill.realisedPnl)).toBe(BigInt(fill.amountOut) - BigInt(fill.amountIn));
    expect(BigInt(fill.feeLamports)).toBeGreaterThan(0n);
  });

  it('projects the sagas into the read models on the embedded database too', async () => {
    const projections = app.app.get(ProjectionsService);
    await projections.runner.waitUntilCaughtUp();
    for (const st of await projections.runner.status()) expect(st.lastError, st.name).toBeNull();
    const sql = app.app.get<SqlClient>(SQL_CLIENT);
    const { rows } = await sql.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM executions GROUP BY status');
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    expect(byStatus.filled).toBe(outcomes.filter((o) => o.outcome === 'filled').length);
    expect(Object.values(byStatus).reduce((a, b) => a + b, 0)).toBe(outcomes.length);
  });

  it('leaves a log whose hash chains verify', async () => {
    const r = await verifyLog(store);
    expect(r.ok).toBe(true);
    expect(r.eventsChecked).toBeGreaterThan(outcomes.length * 3);
  });
});
