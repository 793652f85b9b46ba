// Inventory in the trading state (risk's fold) and the flatten decision (which sales a flatten
// starts): given events / when the fold or the plan / then the state or the sales.
import { describe, expect, it } from 'vitest';
import { evolve, heldExposure, initialEngineState, sellableInventory, tokenExposure, type EngineEventLike, type EngineState } from '../../../src/risk/engine-state.js';
import { defaultRiskLimits } from '../../../src/risk/limits.js';
import { SOL, USDC, tokenByMint } from '../../../src/shared/tokens.js';
import { FlattenRefusedError, planInventorySales, saleDetectedPayload } from '../../../src/trading/inventory-sales.js';

const T = '2026-03-02T12:00:00.000Z';
const NOW_MS = Date.parse(T);
const ev = (type: string, payload: Record<string, unknown>): EngineEventLike => ({ type, payload, recordedAt: T });
const given = (events: EngineEventLike[]): EngineState => events.reduce(evolve, initialEngineState(defaultRiskLimits()));

/** A SOL → USDC → SOL round trip whose leg 1 left `left` USDC base units over, priced 1 micro-USD per unit. */
const roundTripFill = (id: string, left: bigint) =>
  ev('FillConfirmed', {
    opportunityId: id, signature: 'x', slot: '1', inputMint: SOL.mint, outputMint: SOL.mint, amountIn: '1000000000', amountOut: '1000100000', feeLamports: '5000', realisedPnl: '100000', confirmedAt: T,
    inventory: { mint: USDC.mint, changeBaseUnits: left.toString(), baseMint: SOL.mint, price: { usdMicros: '150000000', perBaseUnits: '150000000' } },
  });
const saleDetected = (id: string, amount: bigint) =>
  ev('OpportunityDetected', {
    opportunityId: id, route: { mintA: USDC.mint, mintB: SOL.mint, symbolA: 'USDC', symbolB: 'SOL', decimalsA: 6, decimalsB: 9 }, amountIn: amount.toString(), source: 'inventory', detectedAt: T,
    reduction: { trigger: 'flatten', requestId: null, actor: 'operator:a', reason: 'r' },
  });
const saleFill = (id: string, sold: bigint) =>
  ev('FillConfirmed', {
    opportunityId: id, signature: 'y', slot: '2', inputMint: USDC.mint, outputMint: SOL.mint, amountIn: sold.toString(), amountOut: '5000000', feeLamports: '5000', confirmedAt: T,
    inventory: { mint: USDC.mint, changeBaseUnits: (-sold).toString(), baseMint: SOL.mint, price: { usdMicros: '990000', perBaseUnits: '1000000' } },
  });

describe('inventory in the trading state', () => {
  it('given round trips that left USDC over, then the inventory is their sum and counts in exposure at its price', () => {
    const s = given([roundTripFill('a', 700_000n), roundTripFill('b', 50_000n)]);
    expect(s.inventory[USDC.mint]).toMatchObject({ amountBaseUnits: 750_000n, baseMint: SOL.mint });
    expect(heldExposure(s)[USDC.mint]).toBe(750_000n);
    expect(tokenExposure(s, USDC.mint, NOW_MS)).toBe(750_000n);
    // A round trip adds nothing held of its base token.
    expect(heldExposure(s)[SOL.mint]).toBeUndefined();
  });

  it('given a sale detected, then its units are held until it ends; a failed sale frees them', () => {
    const s = given([roundTripFill('a', 750_000n), saleDetected('sale-1', 500_000n)]);
    expect(sellableInventory(s, USDC.mint)).toBe(250_000n);
    expect(sellableInventory(s, USDC.mint, 'sale-1')).toBe(750_000n);
    const failed = evolve(s, ev('FillFailed', { opportunityId: 'sale-1', reason: 'slippage' }));
    expect(sellableInventory(failed, USDC.mint)).toBe(750_000n);
    const rejected = evolve(s, ev('RiskAssessed', { opportunityId: 'sale-1', approved: false }));
    expect(rejected.reductionsOpen).toEqual({});
  });

  it('given a sale filled, then inventory goes down by what it sold, is revalued, and is gone at zero (never negative)', () => {
    const part = given([roundTripFill('a', 750_000n), saleDetected('s1', 500_000n), saleFill('s1', 500_000n)]);
    expect(part.inventory[USDC.mint]).toMatchObject({ amountBaseUnits: 250_000n, price: { usdMicros: 99n, perBaseUnits: 100n } });
    expect(part.reductionsOpen).toEqual({});
    expect(heldExposure(part)[USDC.mint]).toBe(247_500n);
    const all = evolve(part, saleFill('s2', 300_000n));
    expect(all.inventory).toEqual({});
    expect(heldExposure(all)).toEqual({});
  });

  it('given a v1 fill (no inventory field), then inventory is untouched', () => {
    const { inventory: _gone, ...v1 } = roundTripFill('a', 1n).payload as Record<string, unknown>;
    expect(given([ev('FillConfirmed', v1)]).inventory).toEqual({});
  });
});

describe('which sales a flatten starts', () => {
  const held = (mode: EngineState['mode'], events: EngineEventLike[] = []) => ({ ...given([roundTripFill('a', 750_000n), ...events]), mode });

  it('one sale per held mint, back to its base token, with an id fixed by the request and the mint', () => {
    const plan = planInventorySales(held('REDUCING'), { trigger: 'flatten', requestId: 'req-1' }, tokenByMint);
    if (plan instanceof Error) throw plan;
    expect(plan.sales).toEqual([{ opportunityId: expect.stringMatching(/^[0-9a-f-]{36}$/), route: expect.objectContaining({ mintA: USDC.mint, mintB: SOL.mint, decimalsA: 6 }), amountIn: '750000' }]);
    const again = planInventorySales(held('ACTIVE'), { trigger: 'flatten', requestId: 'req-1' }, tokenByMint) as typeof plan;
    expect(again.sales[0]!.opportunityId).toBe(plan.sales[0]!.opportunityId);
    const d = saleDetectedPayload(plan.sales[0]!, { trigger: 'flatten', requestId: null, actor: 'a', reason: 'r' }, T);
    expect(d).toMatchObject({ source: 'inventory', amountIn: '750000', reduction: { trigger: 'flatten' } });
  });

  it('nothing to flatten is an empty plan: no inventory, or every unit already being sold', () => {
    expect(planInventorySales(given([]), { trigger: 'flatten', requestId: 'r' }, tokenByMint)).toEqual({ sales: [], skipped: [] });
    const selling = held('REDUCING', [saleDetected('s1', 750_000n)]);
    expect(planInventorySales(selling, { trigger: 'reducing', requestId: 'r' }, tokenByMint)).toEqual({ sales: [], skipped: [] });
  });

  it('a PAUSED engine sells nothing, and says what to do', () => {
    const out = planInventorySales(held('PAUSED'), { trigger: 'flatten', requestId: 'r' }, tokenByMint);
    expect(out).toBeInstanceOf(FlattenRefusedError);
    expect((out as Error).message).toMatch(/PAUSED.*POST \/engine\/reduce/);
  });

  it('a mint the engine has no token information for is skipped with the reason', () => {
    const out = planInventorySales(held('ACTIVE'), { trigger: 'flatten', requestId: 'r' }, () => undefined);
    expect(out).toMatchObject({ sales: [], skipped: [{ mint: USDC.mint, amountBaseUnits: '750000', reason: expect.stringMatching(/no token information/) }] });
  });
});
