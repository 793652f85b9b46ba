// Inventory and REDUCING end to end (real PostgreSQL, simulated market, paper venue whose round
// trips' leg 1 delivers 1 % more of the intermediate than leg 2 spends, PAPER_LEG1_SURPLUS_BPS):
// the leftover shows as inventory and in exposure; REDUCING refuses new round trips with the
// reason; POST /engine/flatten sells the inventory back to the base token through an inventory
// sale saga (single leg), idempotently; with nothing left it says so. And REDUCING sells by itself.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { heldExposure } from '../../src/risk/engine-state.js';
import { EngineStateService } from '../../src/risk/engine-state.service.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { sagaStreamId } from '../../src/trading/events.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

describe('inventory, flatten and REDUCING', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await app?.close();
    app = null;
    await db.drop();
  });

  const boot = async (reducingEveryMs: string, extra: Record<string, string> = {}) => {
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-inventory-')),
      PAPER_LEG1_SURPLUS_BPS: '100',
      ENGINE_REDUCING_SALE_EVERY_MS: reducingEveryMs,
      ...extra,
    });
    return { engine: app.app.get(EngineStateService), saga: app.app.get(ArbitrageSagaService), market: app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE), store: app.app.get<EventStore>(EVENT_STORE) };
  };

  /** Runs round trips until one fills with inventory; returns the engine's inventory then. */
  async function tradeUntilInventory(ctx: Awaited<ReturnType<typeof boot>>) {
    for (let i = 0; i < 60; i++) {
      const s = await ctx.saga.runNew(ctx.market.next());
      if (s.phase === 'finished' && s.outcome === 'filled') {
        const [fill] = (await ctx.store.readStream(sagaStreamId(s.opportunityId))).filter((e) => e.type === 'FillConfirmed');
        const inv = (fill!.payload as { inventory: { mint: string; changeBaseUnits: string } | null }).inventory;
        expect(inv, 'a paper round trip with a leg-1 surplus leaves inventory').not.toBeNull();
        await ctx.engine.caughtUp(fill!.position);
        return { mint: inv!.mint, left: BigInt(inv!.changeBaseUnits) };
      }
    }
    throw new Error('no round trip filled in 60 opportunities');
  }

  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${app!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  async function finished(store: EventStore, opportunityId: string, timeoutMs = 30_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const events = await store.readStream(sagaStreamId(opportunityId));
      const end = events.find((e) => ['FillConfirmed', 'FillFailed', 'TransactionExpired', 'OpportunityAbandoned', 'QuoteFailed'].includes(e.type) || (e.type === 'RiskAssessed' && !(e.payload as { approved: boolean }).approved));
      if (end) return { events, end };
      if (Date.now() > until) throw new Error(`sale ${opportunityId} did not end: ${events.map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('leftover intermediate is inventory in exposure; REDUCING refuses round trips; flatten sells it back, once per key', async () => {
    const ctx = await boot('3600000');
    const operator = await authHeaders(app!.app, 'operator');
    const { mint, left } = await tradeUntilInventory(ctx);
    expect(left).toBeGreaterThan(0n);
    const held = ctx.engine.current().inventory[mint]!;
    expect(held.amountBaseUnits).toBeGreaterThanOrEqual(left);
    expect(heldExposure(ctx.engine.current())[mint]).toBeGreaterThan(0n);

    expect((await post('/engine/reduce', operator, { reason: 'wind down for the test' })).status).toBe(200);
    await ctx.engine.caughtUpThrough(await ctx.store.headPosition());
    const refused = await ctx.saga.runNew(ctx.market.next());
    expect(refused.phase === 'finished' && refused.outcome).toBe('rejected_by_risk');
    const engineCheck = refused.phase === 'finished' ? refused.risk!.checks.find((c) => c.name === 'engine_state') : undefined;
    expect(engineCheck).toMatchObject({ passed: false, reason: expect.stringMatching(/REDUCING.*round trip reduces nothing/) });

    const key = { ...operator, 'idempotency-key': randomUUID() };
    const res = await post('/engine/flatten', key, { reason: 'sell the leftovers' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { request: { type: string; streamId: string } | null; sales: { opportunityId: string; amountIn: string; route: { mintA: string; mintB: string } }[]; message: string };
    expect(body.request).toMatchObject({ type: 'FlattenRequested' });
    expect(body.sales).toHaveLength(1);
    const sale = body.sales[0]!;
    expect(sale.route.mintA).toBe(mint);
    expect(BigInt(sale.amountIn)).toBe(held.amountBaseUnits);

    const { events, end } = await finished(ctx.store, sale.opportunityId);
    expect(events[0]).toMatchObject({ type: 'OpportunityDetected', payload: { source: 'inventory', reduction: { trigger: 'flatten', actor: expect.any(String), reason: 'sell the leftovers' } } });
    const risk = events.find((e) => e.type === 'RiskAssessed')!.payload as { approved: boolean; engineMode: string };
    expect(risk).toMatchObject({ approved: true, engineMode: 'REDUCING' });
    expect(end.type).toBe('FillConfirmed');
    const fill = end.payload as { inputMint: string; outputMint: string; amountIn: string; amountOut: string; inventory: { changeBaseUnits: string } };
    // Sold for the base token: its amount came back (paper balances), the inventory went out.
    expect(fill).toMatchObject({ inputMint: mint, amountIn: sale.amountIn, inventory: { changeBaseUnits: `-${sale.amountIn}` } });
    expect(fill.outputMint).toBe(sale.route.mintB);
    expect(BigInt(fill.amountOut)).toBeGreaterThan(0n);
    await ctx.engine.caughtUp(end.position);
    expect(ctx.engine.current().inventory).toEqual({});
    expect(heldExposure(ctx.engine.current())[mint]).toBeUndefined();

    // The same request again: the same answer, no second sale.
    const replay = await post('/engine/flatten', key, { reason: 'sell the leftovers' });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { sales: { opportunityId: string }[] }).sales.map((s) => s.opportunityId)).toEqual([sale.opportunityId]);
    expect((await ctx.store.readStream(sagaStreamId(sale.opportunityId))).filter((e) => e.type === 'FillConfirmed')).toHaveLength(1);

    // Nothing left: it says so, records nothing.
    const none = await post('/engine/flatten', { ...operator, 'idempotency-key': randomUUID() }, { reason: 'again' });
    expect(none.status).toBe(200);
    expect(await none.json()).toMatchObject({ request: null, sales: [], message: expect.stringMatching(/nothing to flatten/) });

    // A viewer may not flatten; a PAUSED engine refuses with what to do.
    expect((await post('/engine/flatten', await authHeaders(app!.app, 'viewer'), { reason: 'x' })).status).toBe(403);
    expect((await post('/engine/pause', operator, { reason: 'stop' })).status).toBe(200);
    await ctx.engine.caughtUpThrough(await ctx.store.headPosition());
    const paused = await post('/engine/flatten', operator, { reason: 'while paused' });
    expect(paused.status).toBe(409);
    expect(((await paused.json()) as { message: string }).message).toMatch(/PAUSED.*engine\/reduce/);
  });

  it('REDUCING sells the inventory by itself', async () => {
    const ctx = await boot('200');
    const operator = await authHeaders(app!.app, 'operator');
    const { mint } = await tradeUntilInventory(ctx);
    expect((await post('/engine/reduce', operator, { reason: 'wind down by itself' })).status).toBe(200);
    const until = Date.now() + 30_000;
    while (ctx.engine.current().inventory[mint] && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(ctx.engine.current().inventory).toEqual({});
    const sales = (await ctx.store.readAll({ after: 0n, maxCount: 10_000, filter: { eventTypes: ['OpportunityDetected'] } })).filter((e) => (e.payload as { source: string }).source === 'inventory');
    expect(sales.length).toBeGreaterThanOrEqual(1);
    expect(sales[0]!.payload).toMatchObject({ reduction: { trigger: 'reducing', actor: 'engine', requestId: null } });
  });

  it('in REDUCING the engine loop starts no round trip (risk would refuse each); ACTIVE again, it does', async () => {
    const ctx = await boot('600000', { SIM_OPPORTUNITIES_PER_MINUTE: '600' });
    const operator = await authHeaders(app!.app, 'operator');
    expect((await post('/engine/reduce', { ...operator, 'idempotency-key': randomUUID() }, { reason: 'loop test: reduce' })).status).toBe(200);
    const [reducing] = (await ctx.store.readStream('engine')).filter((e) => e.type === 'EngineReducing');
    await ctx.engine.caughtUp(reducing!.position);
    const roundTripsAfter = async (position: bigint) =>
      (await ctx.store.readAll({ after: position, maxCount: 100_000 })).filter(
        (e) => e.type === 'OpportunityDetected' && (e.payload as { reduction: unknown }).reduction === null,
      );
    ctx.saga.start();
    try {
      await new Promise((r) => setTimeout(r, 2_000)); // ~20 offers at 600 a minute
      expect(await roundTripsAfter(reducing!.position)).toEqual([]);
      expect((await post('/engine/resume', { ...operator, 'idempotency-key': randomUUID() }, { reason: 'loop test: back' })).status).toBe(200);
      const until = Date.now() + 15_000;
      while ((await roundTripsAfter(reducing!.position)).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect((await roundTripsAfter(reducing!.position)).length).toBeGreaterThan(0);
    } finally {
      await ctx.saga.stop();
    }
  }, 60_000);
});
