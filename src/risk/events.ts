// Events of the risk context. RiskAssessed belongs to an opportunity's flow (one per
// assessment); the trading state events (EnginePaused, EngineResumed, EngineReducing,
// RiskLimitsChanged) live in the single `engine` stream so their order is total.
// Payloads hold no bigint and no float: amounts are base-unit strings, ratios integer bps.
import type { z } from 'zod';
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { array, baseUnits, bool, int, isoTime, nullable, obj, optional, record, str } from '../ledger/schema.js';

/** The stream holding the trading state and the limits. */
export const ENGINE_STREAM_ID = 'engine';

export const ENGINE_MODES = ['ACTIVE', 'PAUSED', 'REDUCING'] as const;
export type EngineMode = (typeof ENGINE_MODES)[number];

export const CHECK_NAMES = [
  'engine_state',
  'price_staleness',
  'price_confidence',
  'price_deviation',
  'slippage',
  'min_profit',
  'token_exposure',
  'trade_notional',
  'daily_loss',
  'order_rate',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Plain JSON scalars only, so a check's inputs are always storable (big numbers as strings). */
export type CheckInputs = Record<string, string | number | boolean | null>;

const actorReason = { actor: str({ min: 1, max: 200 }), reason: str({ min: 1, max: 2000 }) };
const mint = str({ min: 1, max: 64 });

export const checkReportSchema = obj({
  name: str({ oneOf: CHECK_NAMES }),
  passed: bool(),
  /** What the check looked at, big numbers as strings. */
  inputs: record<CheckInputs>(),
  /** The limit compared against, as an integer string (null when the check has no numeric limit). */
  limit: nullable(str({ pattern: /^-?\d+$/ })),
  /** The value measured, as an integer string (null when it could not be measured). */
  observed: nullable(str({ pattern: /^-?\d+$/ })),
  /** Unit of limit and observed: ms, bps, base_units, usd_micros, orders, mode. */
  unit: str({ min: 1, max: 32 }),
  /** Why it passed or failed, for a human. */
  reason: str({ min: 1, max: 2000 }),
});
export type CheckReport = z.output<typeof checkReportSchema>;

export const RiskAssessed = defineEvent({
  type: 'RiskAssessed',
  version: 1,
  payload: obj({
    opportunityId: str({ min: 1, max: 200 }),
    approved: bool(),
    /** Names of the checks that failed (empty when approved). */
    failedChecks: array(str({ oneOf: CHECK_NAMES })),
    /** Every check, passed or not. */
    checks: array(checkReportSchema, { min: 1 }),
    inputMint: mint,
    outputMint: mint,
    amountIn: baseUnits(),
    notionalUsdMicros: baseUnits(),
    engineMode: str({ oneOf: ENGINE_MODES }),
    /** How many RiskLimitsChanged events preceded this assessment (0 = limits from config). */
    limitsVersion: optional(int({ min: 0 })),
    /** The `now` the checks were evaluated at. */
    assessedAt: isoTime(),
  }),
});
export type RiskAssessedPayload = PayloadOf<typeof RiskAssessed>;

export const EnginePaused = defineEvent({
  type: 'EnginePaused',
  version: 1,
  payload: obj({
    ...actorReason,
    cause: str({ oneOf: ['operator', 'circuit_breaker'] }),
    /** For the circuit breaker: what tripped it and the figures (storable JSON). */
    detail: optional(record()),
  }),
});
export type EnginePausedPayload = PayloadOf<typeof EnginePaused>;

export const EngineResumed = defineEvent({
  type: 'EngineResumed',
  version: 1,
  payload: obj(actorReason),
});
export type EngineResumedPayload = PayloadOf<typeof EngineResumed>;

export const EngineReducing = defineEvent({
  type: 'EngineReducing',
  version: 1,
  payload: obj(actorReason),
});
export type EngineReducingPayload = PayloadOf<typeof EngineReducing>;

/** The limits as stored in RiskLimitsChanged: counts and bps as integers, amounts as integer strings. */
export const riskLimitsJsonSchema = obj({
  maxPriceAgeSeconds: int({ min: 1 }),
  maxConfidenceBps: int({ min: 0 }),
  maxPriceDeviationBps: int({ min: 0 }),
  maxSlippageBps: int({ min: 0 }),
  minProfitBaseUnits: baseUnits(),
  maxNotionalPerTradeUsdMicros: baseUnits(),
  maxExposurePerTokenUsdMicros: baseUnits(),
  dailyLossLimitUsdMicros: baseUnits(),
  maxOrdersPerMinute: int({ min: 1 }),
  circuitBreaker: obj({ consecutiveFailedFills: int({ min: 1 }), deviationSpikeBps: int({ min: 1 }) }),
});

export const RiskLimitsChanged = defineEvent({
  type: 'RiskLimitsChanged',
  version: 1,
  payload: obj({ ...actorReason, limits: riskLimitsJsonSchema }),
});
export type RiskLimitsChangedPayload = PayloadOf<typeof RiskLimitsChanged>;

export const riskEvents = [RiskAssessed, EnginePaused, EngineResumed, EngineReducing, RiskLimitsChanged];
