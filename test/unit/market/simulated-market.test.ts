// The seeded simulated market: deterministic per seed, quotes consistent with its prices, and a
// mix of profitable and unprofitable opportunities with occasional wide or stale prices.
import { describe, expect, it } from 'vitest';
import { storableJsonProblems } from '../../../src/ledger/schema.js';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { marketEvents, OpportunityDetected, opportunityDetectedPayload, QuoteReceived, quoteReceivedPayload } from '../../../src/market/events.js';
import { MarketDataError } from '../../../src/market/errors.js';
import type { PriceObservation } from '../../../src/market/price-feed.port.js';
import { roundTripQuote } from '../../../src/market/quote-source.port.js';
import { Prng } from '../../../src/market/simulated/prng.js';
import { SimulatedMarket } from '../../../src/market/simulated/simulated-market.js';
import { SOL, USDC, USDT } from '../../../src/shared/tokens.js';
import { VersionedTransaction, Keypair } from '@solana/web3.js';

const NOW = new Date('2026-11-25T10:00:00.000Z');
const meta = { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' };

function market(seed: number, extra: Partial<ConstructorParameters<typeof SimulatedMarket>[0]> = {}) {
  const ids = new Prng(seed ^ 0x5eed);
  return new SimulatedMarket({ seed, opportunitiesPerMinute: 60, now: () => NOW, newId: () => ids.uuid(), ...extra });
}

/** Steps the market n times and records everything a run would produce. */
async function run(m: SimulatedMarket, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const o = m.next();
    const rt = await roundTripQuote(m, { mintA: o.route.mintA, mintB: o.route.mintB, amount: o.amountIn, slippageBps: o.slippageBps });
    const [price] = await m.latest([o.priceFeedId]);
    out.push({ o, rt, price: price! });
  }
  return out;
}

describe('SimulatedMarket', () => {
  it('is deterministic: the same seed gives the same opportunities, prices and quotes', async () => {
    const a = await run(market(42), 40);
    const b = await run(market(42), 40);
    expect(a).toEqual(b);
    const c = await run(market(43), 40);
    expect(c.map((x) => x.rt.expectedProfit)).not.toEqual(a.map((x) => x.rt.expectedProfit));
  });

  it('produces both profitable and unprofitable round trips, on every configured pair', async () => {
    const results = await run(market(42), 200);
    const profits = results.map((r) => r.rt.expectedProfit);
    expect(profits.some((p) => p > 0n)).toBe(true);
    expect(profits.some((p) => p < 0n)).toBe(true);
    const pairs = new Set(results.map((r) => `${r.o.route.symbolA}/${r.o.route.symbolB}`));
    expect(pairs).toEqual(new Set(['SOL/USDC', 'USDC/SOL', 'SOL/USDT']));
  });

  it('sometimes publishes a wide confidence interval or a stale price', async () => {
    const results = await run(market(7), 200);
    const nowSec = Math.floor(NOW.getTime() / 1000);
    const wide = results.filter((r) => r.price.conf * 100n > r.price.price); // conf > 1 % of price
    const stale = results.filter((r) => nowSec - r.price.publishTime >= 120);
    const normal = results.filter((r) => r.price.conf * 100n <= r.price.price && nowSec - r.price.publishTime < 60);
    expect(wide.length).toBeGreaterThan(0);
    expect(stale.length).toBeGreaterThan(0);
    expect(normal.length).toBeGreaterThan(results.length / 2);
  });

  it('quotes consistently with its prices (fair value less fees and impact, plus the dislocation)', async () => {
    const m = market(11, { pairs: [{ a: SOL, b: USDC, minAmountIn: 1_000_000_000n, maxAmountIn: 1_000_000_000n }] });
    m.next();
    const [sol, usdc] = await m.latest([SOL.pythFeedId, USDC.pythFeedId]);
    const q = await m.quote({ inputMint: SOL.mint, outputMint: USDC.mint, amount: 1_000_000_000n, slippageBps: 50 });
    const fair = (1_000_000_000n * sol!.price * 10n ** 6n) / (usdc!.price * 10n ** 9n);
    // Within the dislocation band (−30 … +40 bps) less a 4 bps fee and tiny impact.
    expect(q.outAmount).toBeGreaterThan((fair * 9_960n) / 10_000n);
    expect(q.outAmount).toBeLessThan((fair * 10_040n) / 10_000n);
    expect(q.otherAmountThreshold).toBe((q.outAmount * 9_950n) / 10_000n);
    expect(q.contextSlot).not.toBeNull();
    expect(q.quotedAt).toBe(NOW.toISOString());
  });

  it('keeps amounts in integer base units within the pair bounds', async () => {
    const m = market(5);
    for (let i = 0; i < 50; i++) {
      const o = m.next();
      expect(typeof o.amountIn).toBe('bigint');
      const bounds = o.route.symbolA === 'SOL' ? [500_000_000n, 5_000_000_000n] : [100_000_000n, 1_000_000_000n];
      expect(o.amountIn >= bounds[0]! && o.amountIn <= bounds[1]!).toBe(true);
    }
  });

  it('yields OpportunityDetected and QuoteReceived payloads the event registry accepts', async () => {
    const registry = new EventTypeRegistry(false).register(...marketEvents);
    const [r] = await run(market(42), 1);
    const detected = opportunityDetectedPayload(r!.o);
    const received = quoteReceivedPayload(r!.o.opportunityId, r!.rt, r!.price);
    expect(storableJsonProblems(received)).toEqual([]);
    expect(() => registry.validate(newEvent(OpportunityDetected, detected, meta))).not.toThrow();
    expect(() => registry.validate(newEvent(QuoteReceived, received, meta))).not.toThrow();
    expect(received.legs[0]!.timeTaken).toMatch(/^\d+\.\d+$/);
    expect(received.price.feedId).toBe(r!.o.priceFeedId);
  });

  it('streams prices on every step until closed', async () => {
    const m = market(3);
    const seen: PriceObservation[] = [];
    const errors: MarketDataError[] = [];
    const s = m.stream([SOL.pythFeedId, USDT.pythFeedId], (p) => seen.push(p), (e) => errors.push(e));
    await Promise.resolve(); // the first snapshot is delivered on a microtask
    expect(seen).toHaveLength(2);
    m.next();
    expect(seen).toHaveLength(4);
    s.close();
    m.next();
    expect(seen).toHaveLength(4);
    expect(errors).toEqual([]);
  });

  it('turns an unknown pair or feed into a typed error', async () => {
    const m = market(1);
    await expect(m.quote({ inputMint: SOL.mint, outputMint: 'DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263', amount: 1n, slippageBps: 50 })).rejects.toMatchObject({
      code: 'NO_ROUTE',
    });
    await expect(m.latest(['ab'.repeat(32)])).rejects.toMatchObject({ code: 'REJECTED' });
  });

  it('builds a VersionedTransaction paid by the user for a simulated swap', async () => {
    const m = market(9);
    m.next();
    const q = await m.quote({ inputMint: SOL.mint, outputMint: USDC.mint, amount: 1_000_000_000n, slippageBps: 50 });
    const user = Keypair.generate().publicKey;
    const swap = await m.swapTransaction(q.raw, user.toBase58());
    const tx = VersionedTransaction.deserialize(Buffer.from(swap.swapTransaction, 'base64'));
    expect(tx.message.staticAccountKeys[0]!.equals(user)).toBe(true);
    expect(swap.lastValidBlockHeight > 0n).toBe(true);
  });

  it('start() offers opportunities and survives a handler that throws', async () => {
    const m = market(2, { opportunitiesPerMinute: 60_000 }); // every millisecond
    const got: string[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      const r = m.start(
        (o) => {
          got.push(o.opportunityId);
          if (got.length === 1) throw new Error('handler failed');
          if (got.length === 3) {
            r.stop();
            resolve();
          }
        },
        (e) => errors.push(e),
      );
    });
    expect(got).toHaveLength(3);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('handler failed');
  });
});
