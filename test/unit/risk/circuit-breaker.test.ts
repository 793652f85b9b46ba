import { describe, expect, it } from 'vitest';
import { riskAssessedPayload } from '../../../src/risk/checks.js';
import { answersTrip, circuitBreaker, circuitBreakerPausePayload, missedTrip } from '../../../src/risk/circuit-breaker.js';
import { EnginePaused, RiskAssessed } from '../../../src/risk/events.js';
import { BONK, NOW, SOL, USDC, engineDecider, event, fresh, given, input, limits } from './fixtures.js';
import { expectStorable, registryOf } from '../../support/registry.js';

const failed = (id: string) => event('FillFailed', { opportunityId: id, reason: 'slippage exceeded' });

describe('circuit breaker: consecutive failed fills (threshold 3)', () => {
  it('given two failures, when a third fill fails, then it trips with the count and the last reason', () => {
    engineDecider()
      .given([failed('a'), failed('b')])
      .when(failed('c'))
      .then({
        cause: 'consecutive_failed_fills',
        detail: { consecutiveFailedFills: 3, threshold: 3, lastEventType: 'FillFailed', opportunityId: 'c', lastReason: 'slippage exceeded' },
      });
  });

  it('given one failure, when a second fails, then it does not trip', () => {
    engineDecider().given([failed('a')]).when(failed('b')).then(null);
  });

  it('counts an expired transaction as a failed fill', () => {
    expect(circuitBreaker(given([failed('a'), failed('b')]), event('TransactionExpired', { opportunityId: 'c' }))?.cause).toBe('consecutive_failed_fills');
  });

  it('given a confirmed fill between failures, then the run starts over', () => {
    const s = given([failed('a'), failed('b'), event('FillConfirmed', { opportunityId: 'x', realisedPnl: '1', amountIn: '1', inputMint: 'm' }), failed('c')]);
    expect(circuitBreaker(s, failed('d'))).toBeNull();
  });

  it('given the engine is already PAUSED, then it never trips again', () => {
    const s = given([failed('a'), failed('b'), event('EnginePaused', { actor: 'x', reason: 'y', cause: 'operator' })]);
    expect(circuitBreaker(s, failed('c'))).toBeNull();
  });

  it('given an operator resumed after the trip, then it takes N new failures to trip again', () => {
    const s = given([failed('a'), failed('b'), failed('c'), event('EnginePaused', { actor: 'x', reason: 'y', cause: 'circuit_breaker' }), event('EngineResumed', { actor: 'op', reason: 'ok' }), failed('d')]);
    expect(circuitBreaker(s, failed('e'))).toBeNull();
  });

  it('trips in REDUCING mode too', () => {
    const s = given([event('EngineReducing', { actor: 'op', reason: 'r' }), failed('a'), failed('b')]);
    expect(circuitBreaker(s, failed('c'))).not.toBeNull();
  });
});

describe('circuit breaker: price-deviation spike (spike 500 bps)', () => {
  // Pyth 1.0000; quote 1.0500 → 500 bps; 1.0501 → 501 bps.
  const assessed = (quote: bigint) => {
    const i = input({ pyth: { ...input().pyth, price: 10_000n, conf: 1n, expo: -4 }, quoteImpliedPrice: { price: quote, expo: -4 } });
    return event('RiskAssessed', riskAssessedPayload(i, fresh(), NOW) as unknown as Record<string, unknown>);
  };

  it('when an assessment sees exactly the spike threshold, then it trips (even though the trade was rejected)', () => {
    const e = assessed(10_500n);
    expect((e.payload as { approved: boolean }).approved).toBe(false);
    const trip = circuitBreaker(fresh(), e);
    expect(trip?.cause).toBe('price_deviation_spike');
    expect(trip?.detail).toMatchObject({ deviationBps: '500', spikeBps: 500, pythPrice: '10000', quotePrice: '10500' });
  });

  it('when it sees one bps less, then it does not trip', () => {
    expect(circuitBreaker(fresh(), assessed(10_499n))).toBeNull();
  });

  it('uses the limits in force', () => {
    expect(circuitBreaker(fresh(limits({ circuitBreaker: { consecutiveFailedFills: 3, deviationSpikeBps: 600 } })), assessed(10_500n))).toBeNull();
  });

  it('given a RiskAssessed without a measurable deviation, then it does not trip', () => {
    expect(circuitBreaker(fresh(), event('RiskAssessed', { opportunityId: 'x', checks: [{ name: 'price_deviation', observed: null }] }))).toBeNull();
  });

  it('builds a storable EnginePaused payload naming the cause', () => {
    const trip = circuitBreaker(fresh(), assessed(11_000n))!;
    const payload = circuitBreakerPausePayload(trip);
    expect(payload).toMatchObject({ actor: 'engine:circuit-breaker', cause: 'circuit_breaker', detail: { trigger: 'price_deviation_spike' } });
    expect(payload.reason).toContain('1000 bps');
    expectStorable(registryOf(EnginePaused, RiskAssessed), EnginePaused, payload);
    const fills = circuitBreakerPausePayload(circuitBreaker(given([failed('a'), failed('b')]), failed('c'))!);
    expect(fills.reason).toContain('3 failed fills in a row');
    expectStorable(registryOf(EnginePaused), EnginePaused, fills);
  });
});

describe('circuit breaker: balance discrepancy (execution’s reconciliation)', () => {
  const row = (mint: string, ledger: string, chain: string, tolerance: string, beyond: boolean) => ({
    mint,
    ledgerBaseUnits: ledger,
    chainBaseUnits: chain,
    differenceBaseUnits: String(BigInt(chain) - BigInt(ledger)),
    toleranceBaseUnits: tolerance,
    beyondTolerance: beyond,
  });
  const discrepancy = (beyondTolerance: boolean, balances: ReturnType<typeof row>[]) =>
    event('BalanceDiscrepancyDetected', { owner: 'Owner1111', slot: '321', beyondTolerance, balances });

  it('when a discrepancy is beyond tolerance, then it trips with the first such row’s figures, and the reason names them', () => {
    const e = discrepancy(true, [row(SOL, '1000000', '995000', '10000', false), row(USDC, '500', '400', '0', true), row(BONK, '7', '9', '0', true)]);
    const trip = circuitBreaker(fresh(), e)!;
    expect(trip).toEqual({
      cause: 'balance_discrepancy',
      detail: { owner: 'Owner1111', slot: '321', mint: USDC, ledgerBaseUnits: '500', chainBaseUnits: '400', differenceBaseUnits: '-100', toleranceBaseUnits: '0', mintsBeyondTolerance: 2 },
    });
    const payload = circuitBreakerPausePayload(trip);
    expect(payload).toMatchObject({ cause: 'circuit_breaker', detail: { trigger: 'balance_discrepancy', mint: USDC } });
    expect(payload.reason).toBe(`circuit breaker: balance discrepancy of wallet Owner1111 at slot 321: ${USDC} is 400 base units on chain, 500 in the ledger (difference -100, tolerance 0); 2 mints beyond tolerance`);
    expectStorable(registryOf(EnginePaused), EnginePaused, payload);
  });

  it('when a discrepancy is within tolerance, then it does not trip', () => {
    expect(circuitBreaker(fresh(), discrepancy(false, [row(SOL, '1000000', '995000', '10000', false)]))).toBeNull();
  });

  it('given the engine is already PAUSED, then a discrepancy does not pause it again', () => {
    const s = given([event('EnginePaused', { actor: 'x', reason: 'y', cause: 'operator' })]);
    expect(circuitBreaker(s, discrepancy(true, [row(USDC, '500', '400', '0', true)]))).toBeNull();
  });
});

describe('circuit breaker: a trip met in the log but never recorded (a new leader, or a restart, judges it)', () => {
  const spike = circuitBreaker(fresh(), event('RiskAssessed', { opportunityId: 's', checks: [{ name: 'price_deviation', observed: '900', inputs: {} }] }))!;

  it('given an unanswered price spike on an ACTIVE engine, then it is still due', () => {
    expect(spike.cause).toBe('price_deviation_spike');
    expect(missedTrip(fresh(), spike, null)).toEqual(spike);
  });

  it('given failed fills at the threshold and no unanswered trip (an older snapshot), then the run of failures is due', () => {
    const last = failed('c');
    expect(missedTrip(given([failed('a'), failed('b'), last]), null, last)).toMatchObject({
      cause: 'consecutive_failed_fills',
      detail: { consecutiveFailedFills: 3, threshold: 3, opportunityId: 'c' },
    });
  });

  it('given the engine is PAUSED, then nothing is due', () => {
    const s = given([event('EnginePaused', { actor: 'op', reason: 'r', cause: 'operator' })]);
    expect(missedTrip(s, spike, null)).toBeNull();
  });

  it('given failures below the threshold and no unanswered trip, then nothing is due', () => {
    const last = failed('b');
    expect(missedTrip(given([failed('a'), last]), null, last)).toBeNull();
  });

  it('any engine-stream decision answers a trip; a saga event does not', () => {
    for (const t of ['EnginePaused', 'EngineResumed', 'EngineReducing', 'RiskLimitsChanged']) expect(answersTrip(event(t, {})), t).toBe(true);
    for (const t of ['FillFailed', 'RiskAssessed', 'FillConfirmed']) expect(answersTrip(event(t, {})), t).toBe(false);
  });
});
