// The sandbox (test/sandbox, `npm run sandbox`): the engine in MARKET=live VENUE=solana against
// the Hermes, Jupiter and Solana RPC STAND-INS executes real two-leg round trips end to end. Each
// fill is a signed v0 transaction that litesvm executed; the ledger's realised PnL equals the
// trader's balance change in litesvm, and the fees the ledger records are the lamports spent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { SOL, USDC, USDT } from '../../src/shared/tokens.js';
import { startSandbox, type Sandbox, type SandboxHolding } from '../sandbox/sandbox.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the sandbox: live market, Solana venue, stand-ins', () => {
  let db: TestDatabase;
  let sandbox: Sandbox;
  let app: Awaited<ReturnType<typeof startApp>>;
  let store: PostgresEventStore;
  let before: SandboxHolding[];
  let lamportsBefore: bigint;

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-sandbox-'));
    sandbox = await startSandbox({ dir });
    before = sandbox.holdings();
    lamportsBefore = sandbox.lamports();
    app = await startApp({
      ...sandbox.env,
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      ENGINE_AUTOSTART: 'true',
      MARKET_SCANS_PER_MINUTE: '120',
      SOLANA_CONFIRM_POLL_MS: '20',
      RISK_MAX_PRICE_AGE_SECONDS: '30',
      SEALING: 'off',
    });
    store = new PostgresEventStore(db.sql, buildEventRegistry());
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
    await store?.close();
    await db?.drop();
  });

  const all = async (): Promise<RecordedEvent[]> => store.readAll({ maxCount: 100_000 });
  /**
   * Every submitted transaction has its outcome, and no transaction was prepared for a second (a
   * paused engine still records the opportunities it refuses, so the log itself moves on).
   */
  async function settled() {
    const ended = new Set(['FillConfirmed', 'FillFailed', 'TransactionExpired']);
    const deadline = Date.now() + 60_000;
    let prepared = -1;
    for (;;) {
      const log = await all();
      const open = new Set(log.filter((e) => e.type === 'TransactionSubmitted').map((e) => (e.payload as { opportunityId: string }).opportunityId));
      for (const e of log) if (ended.has(e.type)) open.delete((e.payload as { opportunityId: string }).opportunityId);
      const now = log.filter((e) => e.type === 'TransactionPrepared').length;
      if (open.size === 0 && now === prepared) return;
      if (Date.now() > deadline) throw new Error(`the sandbox did not settle: ${open.size} submitted without an outcome; last: ${log.slice(-8).map((e) => e.type + ' ' + JSON.stringify(e.payload).slice(0, 200)).join('\n')}`);
      prepared = now;
      await sleep(1_000);
    }
  }

  it('fills profitable round trips; realised PnL and fees equal the balance changes in litesvm', async () => {
    const deadline = Date.now() + 90_000;
    let fills: RecordedEvent[] = [];
    while (Date.now() < deadline) {
      const log = await all();
      fills = log.filter((e) => e.type === 'FillConfirmed');
      const pairs = new Set(fills.map((f) => (f.payload as { inputMint: string }).inputMint));
      const usdtQuoted = log.some((e) => e.type === 'QuoteReceived' && (e.payload as { legs: { outputMint: string }[] }).legs[0]!.outputMint === USDT.mint);
      if (pairs.has(SOL.mint) && pairs.has(USDC.mint) && usdtQuoted) break;
      await sleep(250);
    }
    expect(fills.length).toBeGreaterThan(0);
    // Pause, let what is in flight reach its outcome, then compare the ledger with the chain.
    const paused = await fetch(`${app.url}/engine/pause`, {
      method: 'POST',
      headers: { ...(await authHeaders(app.app, 'operator')), 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'sandbox test: compare the ledger with the chain' }),
    });
    expect(paused.status).toBe(200);
    await settled();
    // A paused engine takes no new opportunity: it asks Jupiter for nothing more.
    const quotesAsked = () => sandbox.jupiter.requests.filter((r) => r.path.endsWith('/quote')).length;
    const asked = quotesAsked();
    await sleep(2_000);
    expect(quotesAsked()).toBe(asked);
    const log = await all();
    const confirmed = log.filter((e) => e.type === 'FillConfirmed').map((e) => e.payload as Record<string, string>);
    const failed = log.filter((e) => e.type === 'FillFailed').map((e) => e.payload as Record<string, string>);
    for (const f of confirmed) {
      expect(f.inputMint).toBe(f.outputMint); // a round trip A → B → A
      expect(BigInt(f.realisedPnl)).toBeGreaterThan(0n); // the guard lets nothing else land
    }
    // Each mint moved by the round trips that started in it (realised PnL) plus what leg 1 of the
    // others over-delivered of it (leg 1's out − leg 2's in: inventory; the stand-in pays exactly
    // the quoted amount, so the ledger's quotes say how much).
    const quotes = new Map<string, { legs: { inAmount: string; outAmount: string; outputMint: string }[] }>();
    for (const e of log) if (e.type === 'QuoteReceived') quotes.set((e.payload as { opportunityId: string }).opportunityId, e.payload as never);
    const expected = new Map<string, bigint>();
    const add = (mint: string, n: bigint) => expected.set(mint, (expected.get(mint) ?? 0n) + n);
    for (const f of confirmed) {
      add(f.inputMint, BigInt(f.realisedPnl));
      const [leg1, leg2] = quotes.get(f.opportunityId)!.legs;
      add(leg1!.outputMint, BigInt(leg1!.outAmount) - BigInt(leg2!.inAmount));
    }
    const after = sandbox.holdings();
    for (const h of before) {
      const now = after.find((a) => a.mint === h.mint)!.amount;
      expect(now - h.amount, h.symbol).toBe(expected.get(h.mint) ?? 0n);
    }
    const fees = [...confirmed, ...failed].reduce((s, f) => s + BigInt(f.feeLamports ?? '0'), 0n);
    expect(lamportsBefore - sandbox.lamports()).toBe(fees);
    // SOL → USDT → SOL has no dislocation: tried, and never filled (risk or the guard refused it).
    const usdtTried = [...quotes.values()].filter((q) => q.legs[0]!.outputMint === USDT.mint).length;
    expect(usdtTried).toBeGreaterThan(0);
    expect(confirmed.filter((f) => quotes.get(f.opportunityId)!.legs[0]!.outputMint === USDT.mint)).toEqual([]);
    // The trail of one saga.
    const one = confirmed[0]!.opportunityId;
    const trail = log.filter((e) => (e.payload as { opportunityId?: string }).opportunityId === one).map((e) => e.type);
    expect(trail).toEqual(expect.arrayContaining(['OpportunityDetected', 'QuoteReceived', 'RiskAssessed', 'TransactionPrepared', 'TransactionSubmitted', 'FillConfirmed']));
    const prepared = log.find((e) => e.type === 'TransactionPrepared' && (e.payload as { opportunityId: string }).opportunityId === one)!;
    // One composed v0 round trip, its guard last (then the memo naming it), as recorded before it was signed.
    const rt = (prepared.payload as { roundTrip: { instructionRoles: string[]; legs: unknown[] } | null }).roundTrip;
    expect(rt?.legs).toHaveLength(2);
    expect(rt?.instructionRoles.slice(-2)).toEqual(['guard', 'memo']);
  }, 150_000);
});
