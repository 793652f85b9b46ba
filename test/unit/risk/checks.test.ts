import { describe, expect, it } from 'vitest';
import {
  assessRisk,
  checkDailyLoss,
  checkEngineState,
  checkMinProfit,
  checkOrderRate,
  checkPriceConfidence,
  checkPriceDeviation,
  checkPriceStaleness,
  checkSlippage,
  checkTokenExposure,
  checkTradeNotional,
  deviationBps,
} from '../../../src/risk/checks.js';
import { CHECK_NAMES } from '../../../src/risk/events.js';
import { BONK, NOW, NOW_MS, SOL, USD, USDC, approved, event, fresh, given, input, limits } from './fixtures.js';

describe('assessRisk', () => {
  it('given an ACTIVE engine, when every check passes, then it approves and reports all ten checks in order', () => {
    const r = assessRisk(input(), fresh(), NOW);
    expect(r.approved).toBe(true);
    expect(r.failedChecks).toEqual([]);
    expect(r.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(r.checks.every((c) => c.passed && c.reason.length > 0)).toBe(true);
  });

  it('given several problems, when assessed, then it rejects listing every failed check, not only the first', () => {
    const r = assessRisk(input({ slippageBps: 51, notionalUsdMicros: 1_001n * USD, expectedProfit: 0n }), fresh(), NOW);
    expect(r.approved).toBe(false);
    expect(r.failedChecks).toEqual(['slippage', 'min_profit', 'trade_notional']);
    expect(r.checks).toHaveLength(CHECK_NAMES.length);
  });

  it('given a PAUSED engine, when a good trade is assessed, then it is rejected by engine_state and the other checks are still reported', () => {
    const state = given([event('EnginePaused', { actor: 'operator:alice', reason: 'maintenance', cause: 'operator' })]);
    const r = assessRisk(input(), state, NOW);
    expect(r.approved).toBe(false);
    expect(r.failedChecks).toEqual(['engine_state']);
    const c = r.checks[0];
    expect(c.reason).toContain('PAUSED');
    expect(c.reason).toContain('operator:alice');
    expect(c.reason).toContain('maintenance');
    expect(r.checks.slice(1).every((x) => x.passed)).toBe(true);
  });

  it('when the input has a non-positive amount, then it throws instead of reporting nonsense', () => {
    expect(() => assessRisk(input({ amountIn: 0n }), fresh(), NOW)).toThrow(/amountIn must be positive/);
    expect(() => assessRisk(input({ notionalUsdMicros: -1n }), fresh(), NOW)).toThrow(/notionalUsdMicros/);
  });
});

describe('engine_state in REDUCING mode', () => {
  const reducing = (extra: ReturnType<typeof event>[] = []) =>
    given([
      // A BONK position of 300 USD from an earlier SOL→BONK fill.
      approved('buy', NOW_MS - 600_000, { inputMint: SOL, outputMint: BONK, notionalUsdMicros: 300n * USD }),
      event('FillConfirmed', { opportunityId: 'buy', realisedPnl: '0', amountIn: '2000000000', inputMint: SOL }, NOW_MS - 590_000),
      event('EngineReducing', { actor: 'operator:bob', reason: 'wind down' }, NOW_MS - 500_000),
      ...extra,
    ]);

  it('given a held BONK position, when a trade sells at most that much BONK, then it passes', () => {
    const c = checkEngineState(input({ inputMint: BONK, outputMint: USDC, notionalUsdMicros: 300n * USD }), reducing(), NOW_MS);
    expect(c.passed).toBe(true);
    expect(c.limit).toBe(String(300n * USD));
  });

  it('when the trade sells one micro-dollar more than is held, then it fails', () => {
    const c = checkEngineState(input({ inputMint: BONK, outputMint: USDC, notionalUsdMicros: 300n * USD + 1n }), reducing(), NOW_MS);
    expect(c.passed).toBe(false);
    expect(c.reason).toContain('REDUCING');
  });

  it('when the trade is a round trip, then it fails: a round trip reduces nothing', () => {
    const c = checkEngineState(input(), reducing(), NOW_MS);
    expect(c.passed).toBe(false);
    expect(c.reason).toContain('round trip');
  });

  it('given part of the position is already being sold in flight, then only the rest can be sold', () => {
    const state = reducing([approved('sell-1', NOW_MS - 1_000, { inputMint: BONK, outputMint: USDC, notionalUsdMicros: 200n * USD })]);
    expect(checkEngineState(input({ inputMint: BONK, outputMint: USDC, notionalUsdMicros: 100n * USD }), state, NOW_MS).passed).toBe(true);
    expect(checkEngineState(input({ inputMint: BONK, outputMint: USDC, notionalUsdMicros: 100n * USD + 1n }), state, NOW_MS).passed).toBe(false);
  });
});

describe('price_staleness', () => {
  const publishTime = NOW_MS / 1000 - 5;
  it('when the price is exactly maxPriceAgeSeconds old, then it passes', () => {
    const c = checkPriceStaleness(input({ pyth: { ...input().pyth, publishTime } }), fresh(), NOW_MS);
    expect(c).toMatchObject({ passed: true, observed: '5000', limit: '5000', unit: 'ms' });
  });
  it('when it is one millisecond older, then it fails', () => {
    const c = checkPriceStaleness(input({ pyth: { ...input().pyth, publishTime } }), fresh(), NOW_MS + 1);
    expect(c).toMatchObject({ passed: false, observed: '5001' });
  });
  it('when publishTime is not a valid unix time, then it fails without an observed value', () => {
    const c = checkPriceStaleness(input({ pyth: { ...input().pyth, publishTime: 0 } }), fresh(), NOW_MS);
    expect(c).toMatchObject({ passed: false, observed: null });
  });
});

describe('price_confidence', () => {
  const pyth = (price: bigint, conf: bigint) => ({ ...input().pyth, price, conf });
  it('when conf/price is exactly the limit, then it passes', () => {
    expect(checkPriceConfidence(input({ pyth: pyth(10_000n, 50n) }), fresh(), NOW_MS)).toMatchObject({ passed: true, observed: '50' });
  });
  it('when it is one bps wider, then it fails', () => {
    expect(checkPriceConfidence(input({ pyth: pyth(10_000n, 51n) }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: '51' });
  });
  it('when it is a fraction of a bps over, then it fails and reports the rounded-up bps', () => {
    expect(checkPriceConfidence(input({ pyth: pyth(1_000_000n, 5_001n) }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: '51' });
  });
  it('when the Pyth price is not positive, then it fails', () => {
    expect(checkPriceConfidence(input({ pyth: pyth(0n, 1n) }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: null });
  });
});

describe('price_deviation', () => {
  const pyth = { ...input().pyth, price: 10_000n, expo: -4 }; // 1.0000
  it('when the quote is exactly the limit away (with different exponents), then it passes', () => {
    expect(checkPriceDeviation(input({ pyth, quoteImpliedPrice: { price: 101n, expo: -2 } }), fresh(), NOW_MS)).toMatchObject({ passed: true, observed: '100' });
    expect(checkPriceDeviation(input({ pyth, quoteImpliedPrice: { price: 9_900n, expo: -4 } }), fresh(), NOW_MS)).toMatchObject({ passed: true, observed: '100' });
  });
  it('when it is one bps further, then it fails', () => {
    expect(checkPriceDeviation(input({ pyth, quoteImpliedPrice: { price: 10_101n, expo: -4 } }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: '101' });
  });
  it('when it is a hair past the limit, then it fails (exact arithmetic, rounded up)', () => {
    expect(deviationBps(pyth, { price: 101_000_001n, expo: -8 })).toBe(101n);
    expect(checkPriceDeviation(input({ pyth, quoteImpliedPrice: { price: 101_000_001n, expo: -8 } }), fresh(), NOW_MS).passed).toBe(false);
  });
  it('when a price is not positive or its exponent is absurd, then it fails without crashing', () => {
    expect(checkPriceDeviation(input({ pyth, quoteImpliedPrice: { price: -1n, expo: -4 } }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: null });
    expect(deviationBps(pyth, { price: 1n, expo: -400 })).toBeNull();
  });
});

describe('slippage', () => {
  it('passes at the limit and fails one bps above', () => {
    expect(checkSlippage(input({ slippageBps: 50 }), fresh(), NOW_MS).passed).toBe(true);
    expect(checkSlippage(input({ slippageBps: 51 }), fresh(), NOW_MS).passed).toBe(false);
  });
  it('fails a non-integer slippage', () => {
    expect(checkSlippage(input({ slippageBps: 1.5 }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: null });
  });
});

describe('min_profit', () => {
  // fees 5_000 + priority 100_000 lamports; min 1_000_000
  it('given a SOL input, when profit minus fees equals the minimum, then it passes', () => {
    const c = checkMinProfit(input({ expectedProfit: 1_105_000n }), fresh(), NOW_MS);
    expect(c).toMatchObject({ passed: true, observed: '1000000', limit: '1000000' });
  });
  it('when it is one base unit short, then it fails', () => {
    expect(checkMinProfit(input({ expectedProfit: 1_104_999n }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: '999999' });
  });
  it('given a loss before fees, then it fails with a negative observed profit', () => {
    expect(checkMinProfit(input({ expectedProfit: -5n }), fresh(), NOW_MS)).toMatchObject({ passed: false, observed: '-105005' });
  });
  it('given a USDC input without a fee conversion, then it fails and says what to supply', () => {
    const c = checkMinProfit(input({ inputMint: USDC, outputMint: USDC }), fresh(), NOW_MS);
    expect(c.passed).toBe(false);
    expect(c.reason).toContain('feesInInputBaseUnits');
  });
  it('given a USDC input with fees converted to USDC base units, then those fees are used', () => {
    const c = checkMinProfit(input({ inputMint: USDC, outputMint: USDC, expectedProfit: 1_000_016n, feesInInputBaseUnits: 16n }), fresh(), NOW_MS);
    expect(c).toMatchObject({ passed: true, observed: '1000000' });
  });
});

describe('trade_notional', () => {
  it('passes at the limit and fails one micro-dollar above', () => {
    expect(checkTradeNotional(input({ notionalUsdMicros: 1_000n * USD }), fresh(), NOW_MS).passed).toBe(true);
    expect(checkTradeNotional(input({ notionalUsdMicros: 1_000n * USD + 1n }), fresh(), NOW_MS).passed).toBe(false);
  });
});

describe('token_exposure', () => {
  // Two approved SOL round trips in flight: 1_500 USD of SOL exposure; limit 2_000 USD.
  const state = () =>
    given([
      approved('a', NOW_MS - 10_000, { notionalUsdMicros: 700n * USD }),
      approved('b', NOW_MS - 5_000, { notionalUsdMicros: 800n * USD }),
    ]);
  it('given in-flight exposure, when the trade brings it exactly to the limit, then it passes', () => {
    const c = checkTokenExposure(input({ notionalUsdMicros: 500n * USD }), state(), NOW_MS);
    expect(c).toMatchObject({ passed: true, observed: String(2_000n * USD) });
    expect(c.inputs.exposureBeforeUsdMicros).toBe(String(1_500n * USD));
  });
  it('when it goes one micro-dollar over, then it fails', () => {
    expect(checkTokenExposure(input({ notionalUsdMicros: 500n * USD + 1n }), state(), NOW_MS).passed).toBe(false);
  });
  it('given an in-flight trade older than two minutes, then it no longer counts', () => {
    const s = given([approved('old', NOW_MS - 120_000, { notionalUsdMicros: 1_900n * USD })]);
    expect(checkTokenExposure(input({ notionalUsdMicros: 2_000n * USD }), s, NOW_MS).passed).toBe(true);
  });
  it('given the in-flight trade has filled as a round trip, then its exposure is released', () => {
    const s = given([
      approved('a', NOW_MS - 10_000, { notionalUsdMicros: 1_900n * USD }),
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '5', amountIn: '1000000000', inputMint: SOL }, NOW_MS - 9_000),
    ]);
    expect(checkTokenExposure(input({ notionalUsdMicros: 2_000n * USD }), s, NOW_MS).passed).toBe(true);
  });
  it('given held BONK from a fill, when buying more BONK, then held and new notional add up', () => {
    const s = given([
      approved('buy', NOW_MS - 600_000, { inputMint: SOL, outputMint: BONK, notionalUsdMicros: 1_500n * USD }),
      event('FillConfirmed', { opportunityId: 'buy', realisedPnl: '0', amountIn: '1', inputMint: SOL }, NOW_MS - 590_000),
    ]);
    expect(checkTokenExposure(input({ outputMint: BONK, notionalUsdMicros: 500n * USD }), s, NOW_MS).passed).toBe(true);
    expect(checkTokenExposure(input({ outputMint: BONK, notionalUsdMicros: 500n * USD + 1n }), s, NOW_MS).passed).toBe(false);
    // Selling BONK adds to the output mint only.
    expect(checkTokenExposure(input({ inputMint: BONK, outputMint: USDC, notionalUsdMicros: 2_000n * USD }), s, NOW_MS).passed).toBe(true);
  });
});

describe('daily_loss', () => {
  const lossOf = (usdMicros: bigint, atMs = NOW_MS - 1_000) =>
    given([event('FillConfirmed', { opportunityId: 'x', realisedPnl: '-1', amountIn: '1', inputMint: SOL, pnlUsdMicros: (-usdMicros).toString() }, atMs)]);
  it('given a realised loss one micro-dollar under the limit, then it passes', () => {
    expect(checkDailyLoss(input(), lossOf(100n * USD - 1n), NOW_MS)).toMatchObject({ passed: true, observed: String(100n * USD - 1n) });
  });
  it('given a realised loss equal to the limit, then it fails: the budget is spent', () => {
    expect(checkDailyLoss(input(), lossOf(100n * USD), NOW_MS)).toMatchObject({ passed: false, observed: String(100n * USD) });
  });
  it('given the loss was realised on the previous UTC day, then today starts at zero', () => {
    const yesterday = Date.parse('2026-03-01T23:59:59.999Z');
    expect(checkDailyLoss(input(), lossOf(500n * USD, yesterday), NOW_MS)).toMatchObject({ passed: true, observed: '0' });
  });
  it('given gains later in the day, then the net realised P&L is what counts', () => {
    const s = given([
      event('FillConfirmed', { opportunityId: 'x', realisedPnl: '-1', amountIn: '1', inputMint: SOL, pnlUsdMicros: String(-150n * USD) }, NOW_MS - 5_000),
      event('FillConfirmed', { opportunityId: 'y', realisedPnl: '1', amountIn: '1', inputMint: SOL, pnlUsdMicros: String(60n * USD) }, NOW_MS - 4_000),
    ]);
    expect(checkDailyLoss(input(), s, NOW_MS)).toMatchObject({ passed: true, observed: String(90n * USD) });
  });
  it('given a fill that could not be priced, then the check says so', () => {
    const s = given([event('FillConfirmed', { opportunityId: 'unknown', realisedPnl: '-5', amountIn: '1', inputMint: SOL }, NOW_MS - 1_000)]);
    const c = checkDailyLoss(input(), s, NOW_MS);
    expect(c.inputs.unpricedFills).toBe(1);
    expect(c.reason).toContain('could not be priced');
  });
});

describe('order_rate', () => {
  it('given two orders in the last minute and a limit of three, then a third passes', () => {
    const s = given([approved('a', NOW_MS - 59_999), approved('b', NOW_MS - 1)]);
    expect(checkOrderRate(input(), s, NOW_MS)).toMatchObject({ passed: true, observed: '3', limit: '3' });
  });
  it('given three orders in the last minute, then a fourth fails', () => {
    const s = given([approved('a', NOW_MS - 59_999), approved('b', NOW_MS - 2), approved('c', NOW_MS - 1)]);
    expect(checkOrderRate(input(), s, NOW_MS)).toMatchObject({ passed: false, observed: '4' });
  });
  it('given an order exactly 60 s ago, then it is outside the window', () => {
    const s = given([approved('a', NOW_MS - 60_000), approved('b', NOW_MS - 2), approved('c', NOW_MS - 1)]);
    expect(checkOrderRate(input(), s, NOW_MS).passed).toBe(true);
  });
  it('given rejected assessments, then they are not orders', () => {
    const rejected = { ...approved('r', NOW_MS - 1), payload: { ...(approved('r', NOW_MS - 1).payload as object), approved: false } };
    const s = given([rejected, rejected, rejected], limits({ maxOrdersPerMinute: 1 }));
    expect(checkOrderRate(input(), s, NOW_MS).passed).toBe(true);
  });
});
