// Shared givens for the risk unit tests: explicit limits, a trade input that passes every check,
// and event builders shaped like what the store returns.
import { WRAPPED_SOL_MINT, type RiskCheckInput } from '../../../src/risk/checks.js';
import { evolve, initialEngineState, type EngineEventLike, type EngineState } from '../../../src/risk/engine-state.js';
import { circuitBreaker } from '../../../src/risk/circuit-breaker.js';
import { spec } from '../../support/decider.js';
import type { RiskLimits } from '../../../src/risk/limits.js';

export const SOL = WRAPPED_SOL_MINT;
export const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
export const BONK = 'DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263';

export const NOW = new Date('2026-03-02T12:00:00.000Z');
export const NOW_MS = NOW.getTime();
export const USD = 1_000_000n;

export function limits(over: Partial<RiskLimits> = {}): RiskLimits {
  return {
    maxPriceAgeSeconds: 5,
    maxConfidenceBps: 50,
    maxPriceDeviationBps: 100,
    maxSlippageBps: 50,
    minProfitBaseUnits: 1_000_000n,
    maxNotionalPerTradeUsdMicros: 1_000n * USD,
    maxExposurePerTokenUsdMicros: 2_000n * USD,
    dailyLossLimitUsdMicros: 100n * USD,
    maxOrdersPerMinute: 3,
    circuitBreaker: { consecutiveFailedFills: 3, deviationSpikeBps: 500 },
    ...over,
  };
}

/** A SOL round trip of 1 SOL (150 USD) that passes every check under `limits()`. */
export function input(over: Partial<RiskCheckInput> = {}): RiskCheckInput {
  return {
    opportunityId: 'opp-1',
    inputMint: SOL,
    outputMint: SOL,
    amountIn: 1_000_000_000n,
    expectedOut: 1_010_000_000n,
    expectedProfit: 10_000_000n,
    feesEstimate: 5_000n,
    priorityFee: 100_000n,
    slippageBps: 30,
    notionalUsdMicros: 150n * USD,
    pyth: { price: 15_000_000_000n, conf: 1_500_000n, expo: -8, publishTime: NOW_MS / 1000 - 1 },
    quoteImpliedPrice: { price: 15_010_000_000n, expo: -8 },
    ...over,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function event(type: string, payload: Record<string, unknown>, atMs = NOW_MS): EngineEventLike {
  return { type, payload, recordedAt: iso(atMs) };
}

/** An approved RiskAssessed as the fold reads it. */
export function approved(
  opportunityId: string,
  atMs: number,
  over: { inputMint?: string; outputMint?: string; amountIn?: bigint; notionalUsdMicros?: bigint } = {},
): EngineEventLike {
  return event(
    'RiskAssessed',
    {
      opportunityId,
      approved: true,
      failedChecks: [],
      checks: [],
      inputMint: over.inputMint ?? SOL,
      outputMint: over.outputMint ?? SOL,
      amountIn: (over.amountIn ?? 1_000_000_000n).toString(),
      notionalUsdMicros: (over.notionalUsdMicros ?? 150n * USD).toString(),
      engineMode: 'ACTIVE',
      assessedAt: iso(atMs),
    },
    atMs,
  );
}

/** The engine state and its circuit breaker as a decider: given events, when an event is folded live, then a trip or none. */
export const engineDecider = (l: RiskLimits = limits()) => spec({ initial: () => initialEngineState(l), evolve, decide: (e: EngineEventLike, s: EngineState) => circuitBreaker(s, e) });

export function given(events: EngineEventLike[], l: RiskLimits = limits()): EngineState {
  return engineDecider(l).given(events).state();
}

export const fresh = (l: RiskLimits = limits()): EngineState => initialEngineState(l);
