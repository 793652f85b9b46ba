// The circuit breaker: decides, from the trading state and one new event, whether the engine
// must pause by itself. The handler that sees the event appends EnginePaused (cause
// circuit_breaker) built by `circuitBreakerPausePayload` to the engine stream. Causes: a run of
// failed fills, a price-deviation spike, and a reconciliation that found the chain's balances
// beyond tolerance from the ledger's (execution's BalanceDiscrepancyDetected).
import type { EngineEventLike, EngineState } from './engine-state.js';
import type { CheckReport, EnginePausedPayload } from './events.js';

export type CircuitBreakerCause = 'consecutive_failed_fills' | 'price_deviation_spike' | 'balance_discrepancy';

export interface CircuitBreakerTrip {
  cause: CircuitBreakerCause;
  /** The figures that tripped it (storable JSON: no bigint, no float). */
  detail: Record<string, string | number | null>;
}

/** Actor recorded on pauses the engine decides by itself. */
export const CIRCUIT_BREAKER_ACTOR = 'engine:circuit-breaker';

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * `state` is the trading state before `event` is folded in. Returns null when nothing trips, and
 * always null while already PAUSED (one pause per incident; an operator resumes).
 *
 * - N consecutive failed fills: a FillFailed or TransactionExpired (a transaction that expired
 *   never filled) that brings the run of failures to `consecutiveFailedFills` or more.
 * - Price-deviation spike: a RiskAssessed whose price_deviation check observed at least
 *   `deviationSpikeBps`, approved or not: the spike says the oracle or the venue is off, which
 *   matters for the next trade too.
 * - Balance discrepancy: a BalanceDiscrepancyDetected with beyondTolerance (the wallet holds what
 *   the ledger cannot explain: trading on would trade on figures nobody can vouch for). Its detail
 *   names the first row beyond tolerance with both figures.
 */
export function circuitBreaker(state: EngineState, event: EngineEventLike): CircuitBreakerTrip | null {
  if (state.mode === 'PAUSED') return null;
  const p = rec(event.payload);
  const limits = state.limits.circuitBreaker;

  if (event.type === 'FillFailed' || event.type === 'TransactionExpired') {
    const failures = state.consecutiveFailedFills + 1;
    if (failures < limits.consecutiveFailedFills) return null;
    return {
      cause: 'consecutive_failed_fills',
      detail: {
        consecutiveFailedFills: failures,
        threshold: limits.consecutiveFailedFills,
        lastEventType: event.type,
        opportunityId: textOrNull(p.opportunityId),
        lastReason: textOrNull(p.reason),
      },
    };
  }

  if (event.type === 'RiskAssessed') {
    const checks = Array.isArray(p.checks) ? (p.checks as Partial<CheckReport>[]) : [];
    const deviation = checks.find((c) => c?.name === 'price_deviation');
    const observed = typeof deviation?.observed === 'string' && /^\d+$/.test(deviation.observed) ? BigInt(deviation.observed) : null;
    if (observed === null || observed < BigInt(limits.deviationSpikeBps)) return null;
    const inputs = rec(deviation?.inputs);
    return {
      cause: 'price_deviation_spike',
      detail: {
        opportunityId: textOrNull(p.opportunityId),
        deviationBps: observed.toString(),
        spikeBps: limits.deviationSpikeBps,
        pythPrice: textOrNull(inputs.pythPrice),
        quotePrice: textOrNull(inputs.quotePrice),
      },
    };
  }
  if (event.type === 'BalanceDiscrepancyDetected') {
    if (p.beyondTolerance !== true) return null;
    const rows = (Array.isArray(p.balances) ? p.balances : []).map(rec).filter((b) => b.beyondTolerance === true);
    const first = rows[0] ?? {};
    return {
      cause: 'balance_discrepancy',
      detail: {
        owner: textOrNull(p.owner),
        slot: textOrNull(p.slot),
        mint: textOrNull(first.mint),
        ledgerBaseUnits: textOrNull(first.ledgerBaseUnits),
        chainBaseUnits: textOrNull(first.chainBaseUnits),
        differenceBaseUnits: textOrNull(first.differenceBaseUnits),
        toleranceBaseUnits: textOrNull(first.toleranceBaseUnits),
        mintsBeyondTolerance: rows.length,
      },
    };
  }
  return null;
}

export function circuitBreakerPausePayload(trip: CircuitBreakerTrip): EnginePausedPayload {
  const d = trip.detail;
  const reason =
    trip.cause === 'consecutive_failed_fills'
      ? `circuit breaker: ${d.consecutiveFailedFills} failed fills in a row (threshold ${d.threshold})`
      : trip.cause === 'price_deviation_spike'
        ? `circuit breaker: quote deviated ${d.deviationBps} bps from Pyth (spike threshold ${d.spikeBps} bps)`
        : `circuit breaker: balance discrepancy of wallet ${d.owner} at slot ${d.slot}: ${d.mint} is ${d.chainBaseUnits} base units on chain, ${d.ledgerBaseUnits} in the ledger (difference ${d.differenceBaseUnits}, tolerance ${d.toleranceBaseUnits})${Number(d.mintsBeyondTolerance) > 1 ? `; ${d.mintsBeyondTolerance} mints beyond tolerance` : ''}`;
  return { actor: CIRCUIT_BREAKER_ACTOR, reason, cause: 'circuit_breaker', detail: { trigger: trip.cause, ...trip.detail } };
}

/** Event types of the engine stream: any of them after a trip is a decision about the engine (the breaker's own pause, or one that made it stand down). */
const ENGINE_DECISION_TYPES = new Set(['EnginePaused', 'EngineResumed', 'EngineReducing', 'RiskLimitsChanged']);

/**
 * Whether `event` answers a trip met earlier in the log. Live, the breaker appends its pause on
 * the engine stream at the expected revision right after the tripping event; if anything else
 * reached the engine stream first, that decision stands. So a trip stays unanswered exactly
 * until the next engine-stream event, and one still unanswered at the head means the node that
 * met it stopped (or lost the leadership) before it recorded the pause.
 */
export function answersTrip(event: EngineEventLike): boolean {
  return ENGINE_DECISION_TYPES.has(event.type);
}

/**
 * What a node about to run the engine (at start, or on taking over the leadership) must still
 * trip on its caught-up state: the log's unanswered trip, or else a run of failed fills that
 * reached the threshold (a snapshot from before the unanswered trip was kept, or a threshold
 * lowered since). Null while PAUSED: one pause per incident.
 */
export function missedTrip(state: EngineState, unanswered: CircuitBreakerTrip | null, lastFailure: EngineEventLike | null): CircuitBreakerTrip | null {
  if (state.mode === 'PAUSED') return null;
  if (unanswered) return unanswered;
  const threshold = state.limits.circuitBreaker.consecutiveFailedFills;
  if (state.consecutiveFailedFills < threshold || !lastFailure) return null;
  const p = rec(lastFailure.payload);
  return {
    cause: 'consecutive_failed_fills',
    detail: {
      consecutiveFailedFills: state.consecutiveFailedFills,
      threshold,
      lastEventType: lastFailure.type,
      opportunityId: textOrNull(p.opportunityId),
      lastReason: textOrNull(p.reason),
    },
  };
}
