import { describe, expect, it } from 'vitest';
import { evolve, realisedOn, tokenExposure } from '../../../src/risk/engine-state.js';
import { riskLimitsToJson } from '../../../src/risk/limits.js';
import { BONK, NOW_MS, SOL, USD, approved, event, fresh, given, limits } from './fixtures.js';

describe('evolve: trading mode', () => {
  it('given an ACTIVE engine, when EnginePaused, then it is PAUSED with actor, reason, cause and time', () => {
    const s = given([event('EnginePaused', { actor: 'operator:alice', reason: 'deploy', cause: 'operator' }, NOW_MS)]);
    expect(s).toMatchObject({ mode: 'PAUSED', actor: 'operator:alice', reason: 'deploy', pauseCause: 'operator', since: new Date(NOW_MS).toISOString() });
  });

  it('when EngineResumed after failures, then it is ACTIVE and the failure count starts over', () => {
    const s = given([
      event('FillFailed', { opportunityId: 'a', reason: 'slippage' }),
      event('TransactionExpired', { opportunityId: 'b' }),
      event('EnginePaused', { actor: 'engine:circuit-breaker', reason: 'x', cause: 'circuit_breaker' }),
      event('EngineResumed', { actor: 'operator:bob', reason: 'venue fixed' }),
    ]);
    expect(s).toMatchObject({ mode: 'ACTIVE', actor: 'operator:bob', reason: 'venue fixed', pauseCause: null, consecutiveFailedFills: 0 });
  });

  it('when EngineReducing, then it is REDUCING', () => {
    expect(given([event('EngineReducing', { actor: 'operator:bob', reason: 'wind down' })]).mode).toBe('REDUCING');
  });

  it('when RiskLimitsChanged, then the new limits are in force and the version counts up', () => {
    const changed = limits({ maxSlippageBps: 7, dailyLossLimitUsdMicros: 42n });
    const s = given([
      event('RiskLimitsChanged', { actor: 'operator:alice', reason: 'tighter', limits: riskLimitsToJson(limits()) }),
      event('RiskLimitsChanged', { actor: 'operator:alice', reason: 'tighter', limits: riskLimitsToJson(changed) }),
    ]);
    expect(s.limits).toEqual(changed);
    expect(s.limitsVersion).toBe(2);
  });

  it('when an unknown event arrives, then the state is the very same object', () => {
    const s = fresh();
    expect(evolve(s, event('QuoteReceived', { anything: 1 }))).toBe(s);
  });

  it('never mutates the state it is given', () => {
    const s = given([approved('a', NOW_MS - 1_000)]);
    const snapshot = structuredClone(s);
    evolve(s, event('FillConfirmed', { opportunityId: 'a', realisedPnl: '-10', amountIn: '1000000000', inputMint: SOL }));
    evolve(s, event('EnginePaused', { actor: 'x', reason: 'y', cause: 'operator' }));
    expect(s).toEqual(snapshot);
  });
});

describe('evolve: orders, fills and P&L', () => {
  it('given an approved assessment, then it is an order and in flight; a rejected one is neither', () => {
    const rejected = approved('r', NOW_MS);
    (rejected.payload as Record<string, unknown>).approved = false;
    const s = given([approved('a', NOW_MS), rejected]);
    expect(s.recentOrders).toEqual([NOW_MS]);
    expect(Object.keys(s.inFlight)).toEqual(['a']);
  });

  it('keeps only orders of the last minute', () => {
    const s = given([approved('a', NOW_MS - 120_000), approved('b', NOW_MS - 30_000), approved('c', NOW_MS)]);
    expect(s.recentOrders).toEqual([NOW_MS - 30_000, NOW_MS]);
  });

  it('given failures, when a fill is confirmed, then the run of failures resets', () => {
    const s = given([
      event('FillFailed', { opportunityId: 'a', reason: 'x' }),
      event('FillFailed', { opportunityId: 'b', reason: 'x' }),
    ]);
    expect(s.consecutiveFailedFills).toBe(2);
    expect(evolve(s, event('FillConfirmed', { opportunityId: 'c', realisedPnl: '1', amountIn: '1', inputMint: SOL })).consecutiveFailedFills).toBe(0);
  });

  it('given a fill without pnlUsdMicros, then P&L is priced from the assessment (notional / amountIn), losses rounded away from zero', () => {
    // 3 base units were worth 10 usd_micros: a loss of 1 base unit is 3.33… → 4 usd_micros.
    const s = given([
      approved('a', NOW_MS - 1_000, { amountIn: 3n, notionalUsdMicros: 10n }),
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '-1', amountIn: '3', inputMint: SOL }),
    ]);
    expect(s.realisedToday.pnlUsdMicros).toBe(-4n);
    expect(s.inFlight).toEqual({});
    const gain = given([
      approved('a', NOW_MS - 1_000, { amountIn: 3n, notionalUsdMicros: 10n }),
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '1', amountIn: '3', inputMint: SOL }),
    ]);
    expect(gain.realisedToday.pnlUsdMicros).toBe(3n);
  });

  it('given a fill with pnlUsdMicros, then that figure wins over the derived one', () => {
    const s = given([
      approved('a', NOW_MS - 1_000),
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '-1000', amountIn: '1000000000', inputMint: SOL, pnlUsdMicros: '-7' }),
    ]);
    expect(s.realisedToday.pnlUsdMicros).toBe(-7n);
  });

  it('given a fill that cannot be priced, then it is counted as unpriced, not as zero silently', () => {
    const s = given([event('FillConfirmed', { opportunityId: 'nobody', realisedPnl: '-1000', amountIn: '1', inputMint: SOL })]);
    expect(s.realisedToday).toMatchObject({ pnlUsdMicros: 0n, unpricedFills: 1 });
  });

  it('given fills on two UTC days, then the day figures start over at midnight', () => {
    const s = given([
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '-1', amountIn: '1', inputMint: SOL, pnlUsdMicros: '-50' }, Date.parse('2026-03-01T23:00:00Z')),
      event('FillConfirmed', { opportunityId: 'b', realisedPnl: '-1', amountIn: '1', inputMint: SOL, pnlUsdMicros: '-20' }, Date.parse('2026-03-02T00:00:00Z')),
    ]);
    expect(s.realisedToday).toEqual({ day: '2026-03-02', pnlUsdMicros: -20n, unpricedFills: 0 });
    expect(realisedOn(s, Date.parse('2026-03-03T00:00:00Z')).pnlUsdMicros).toBe(0n);
  });

  it('given a SOL→BONK fill, then BONK exposure grows and SOL exposure is floored at zero', () => {
    const s = given([
      approved('a', NOW_MS - 1_000, { inputMint: SOL, outputMint: BONK, notionalUsdMicros: 300n * USD }),
      event('FillConfirmed', { opportunityId: 'a', realisedPnl: '0', amountIn: '1', inputMint: SOL }),
    ]);
    expect(s.exposureByToken).toEqual({ [BONK]: 300n * USD });
    const back = evolve(s, event('FillConfirmed', { opportunityId: 'b', realisedPnl: '0', amountIn: '1', inputMint: BONK, outputMint: SOL, notionalUsdMicros: String(100n * USD) }));
    expect(back.exposureByToken).toEqual({ [BONK]: 200n * USD, [SOL]: 100n * USD });
  });

  it('given a trade in flight, when it fails, expires, compliance blocks it or the saga is abandoned, then it leaves the in-flight set', () => {
    for (const outcome of [
      event('FillFailed', { opportunityId: 'a', reason: 'x' }),
      event('TransactionExpired', { opportunityId: 'a' }),
      event('ComplianceScreened', { opportunityId: 'a', decision: 'blocked' }),
      event('OpportunityAbandoned', { opportunityId: 'a', step: 'submit', reason: 'stale' }),
    ]) {
      const s = given([approved('a', NOW_MS - 1_000, { notionalUsdMicros: 500n })]);
      expect(tokenExposure(s, SOL, NOW_MS)).toBe(500n);
      const after = evolve(s, outcome);
      expect(after.inFlight).toEqual({});
      expect(tokenExposure(after, SOL, NOW_MS)).toBe(0n);
    }
    const advisory = evolve(given([approved('a', NOW_MS - 1_000)]), event('ComplianceScreened', { opportunityId: 'a', decision: 'advisory' }));
    expect(Object.keys(advisory.inFlight)).toEqual(['a']);
  });

  it('given an abandoned saga, then the breaker does not count it as a failed fill', () => {
    const s = given([approved('a', NOW_MS - 1_000), event('OpportunityAbandoned', { opportunityId: 'a', step: 'submit', reason: 'stale' })]);
    expect(s.consecutiveFailedFills).toBe(0);
  });
});
