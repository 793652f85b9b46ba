// Events of the risk context. RiskAssessed belongs to an opportunity's flow (one per
// assessment); the trading state events (EnginePaused, EngineResumed, EngineReducing,
// RiskLimitsChanged) live in the single `engine` stream so their order is total.
// Payloads hold no bigint and no float: amounts are base-unit strings, ratios integer bps.
import { defineEvent } from '../ledger/event-types.js';
import { array, baseUnits, bool, int, isoTime, obj, optional, str } from '../ledger/schema.js';
import type { RiskLimitsJson } from './limits.js';

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

export interface CheckReport {
  name: CheckName;
  passed: boolean;
  /** What the check looked at, big numbers as strings. */
  inputs: CheckInputs;
  /** The limit compared against, as an integer string (null when the check has no numeric limit). */
  limit: string | null;
  /** The value measured, as an integer string (null when it could not be measured). */
  observed: string | null;
  /** Unit of limit and observed: ms, bps, base_units, usd_micros, orders, mode. */
  unit: string;
  /** Why it passed or failed, for a human. */
  reason: string;
}

export interface RiskAssessedPayload {
  opportunityId: string;
  approved: boolean;
  /** Names of the checks that failed (empty when approved). */
  failedChecks: CheckName[];
  /** Every check, passed or not. */
  checks: CheckReport[];
  inputMint: string;
  outputMint: string;
  amountIn: string;
  notionalUsdMicros: string;
  engineMode: EngineMode;
  /** How many RiskLimitsChanged events preceded this assessment (0 = limits from config). */
  limitsVersion?: number;
  /** The `now` the checks were evaluated at. */
  assessedAt: string;
}

export interface EnginePausedPayload {
  actor: string;
  reason: string;
  cause: 'operator' | 'circuit_breaker';
  /** For the circuit breaker: what tripped it and the figures (storable JSON). */
  detail?: Record<string, unknown>;
}

export interface EngineResumedPayload {
  actor: string;
  reason: string;
}

export interface EngineReducingPayload {
  actor: string;
  reason: string;
}

export interface RiskLimitsChangedPayload {
  actor: string;
  reason: string;
  limits: RiskLimitsJson;
}

const actorReason = { actor: str({ min: 1, max: 200 }), reason: str({ min: 1, max: 2000 }) };
const mint = str({ min: 1, max: 64 });

const checkReport = obj({
  name: str({ oneOf: CHECK_NAMES }),
  passed: bool(),
  inputs: obj({}, { allowUnknown: true }),
  limit: optional(str({ pattern: /^-?\d+$/ })),
  observed: optional(str({ pattern: /^-?\d+$/ })),
  unit: str({ min: 1, max: 32 }),
  reason: str({ min: 1, max: 2000 }),
});

export const RiskAssessed = defineEvent<RiskAssessedPayload>({
  type: 'RiskAssessed',
  version: 1,
  payload: obj({
    opportunityId: str({ min: 1, max: 200 }),
    approved: bool(),
    failedChecks: array(str({ oneOf: CHECK_NAMES })),
    checks: array(checkReport, { min: 1 }),
    inputMint: mint,
    outputMint: mint,
    amountIn: baseUnits(),
    notionalUsdMicros: baseUnits(),
    engineMode: str({ oneOf: ENGINE_MODES }),
    limitsVersion: optional(int({ min: 0 })),
    assessedAt: isoTime(),
  }),
});

export const EnginePaused = defineEvent<EnginePausedPayload>({
  type: 'EnginePaused',
  version: 1,
  payload: obj({
    ...actorReason,
    cause: str({ oneOf: ['operator', 'circuit_breaker'] }),
    detail: optional(obj({}, { allowUnknown: true })),
  }),
});

export const EngineResumed = defineEvent<EngineResumedPayload>({
  type: 'EngineResumed',
  version: 1,
  payload: obj(actorReason),
});

export const EngineReducing = defineEvent<EngineReducingPayload>({
  type: 'EngineReducing',
  version: 1,
  payload: obj(actorReason),
});

export const riskLimitsJsonCheck = obj({
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

export const RiskLimitsChanged = defineEvent<RiskLimitsChangedPayload>({
  type: 'RiskLimitsChanged',
  version: 1,
  payload: obj({ ...actorReason, limits: riskLimitsJsonCheck }),
});

export const riskEvents = [RiskAssessed, EnginePaused, EngineResumed, EngineReducing, RiskLimitsChanged];
