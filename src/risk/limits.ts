// Risk limits: the numbers every pre-trade check compares against. Defaults come from RISK_*
// environment variables; an operator changes them at run time through PUT /risk/limits, which
// records a RiskLimitsChanged event (the engine stream is the source of truth, env only seeds it).
//
// Units, chosen so no check ever needs a float or a price lookup:
// - ratios are integer basis points (1 bps = 0.01 %);
// - profit is in base units of the trade's input mint (the only unit the quote gives us exactly);
// - notional, exposure and daily loss are in USD micro-units ("usdMicros", 1 USD = 1_000_000),
//   because they add up across mints; the caller converts a trade's size to USD before the check.
import type { z } from 'zod';
import { loadConfig } from '../config/config.js';
import { CIRCUIT_BREAKER_FIELDS, RISK_LIMIT_FIELDS, type RiskLimitField } from '../config/risk-limit-fields.js';
import type { riskLimitsJsonSchema } from './events.js';

export interface CircuitBreakerLimits {
  /** Pause by itself after this many failed or expired fills in a row. */
  consecutiveFailedFills: number;
  /** Pause by itself when one assessment sees a Pyth-vs-quote deviation of at least this many bps. */
  deviationSpikeBps: number;
}

export interface RiskLimits {
  /** Oldest Pyth publish time accepted, in seconds before now (age ≤ limit passes). */
  maxPriceAgeSeconds: number;
  /** Widest Pyth confidence interval accepted, conf / price in bps. */
  maxConfidenceBps: number;
  /** Largest gap between the Pyth price and the quote's implied price, in bps of the Pyth price. */
  maxPriceDeviationBps: number;
  /** Largest slippage tolerance a swap may be sent with. */
  maxSlippageBps: number;
  /** Smallest expected profit after fees and priority fee, in base units of the input mint. */
  minProfitBaseUnits: bigint;
  /** Largest single trade, in USD micro-units. */
  maxNotionalPerTradeUsdMicros: bigint;
  /** Largest exposure to one token (held + in flight) after the trade, in USD micro-units. */
  maxExposurePerTokenUsdMicros: bigint;
  /** Trading stops for the rest of the UTC day once the day's net realised loss reaches this. */
  dailyLossLimitUsdMicros: bigint;
  /** Approved orders in any rolling 60 s window, this one included. */
  maxOrdersPerMinute: number;
  circuitBreaker: CircuitBreakerLimits;
}

/** RiskLimits as stored in events and returned by the API: bigints as decimal strings (declared once, in events.ts). */
export type RiskLimitsJson = z.output<typeof riskLimitsJsonSchema>;

type IntKey = 'maxPriceAgeSeconds' | 'maxConfidenceBps' | 'maxPriceDeviationBps' | 'maxSlippageBps' | 'maxOrdersPerMinute';
type BigKey = 'minProfitBaseUnits' | 'maxNotionalPerTradeUsdMicros' | 'maxExposurePerTokenUsdMicros' | 'dailyLossLimitUsdMicros';
type CbKey = keyof CircuitBreakerLimits;

type FieldSpec = RiskLimitField;

// One table (src/config/risk-limit-fields.ts) drives env parsing, REST validation and
// documentation, so they cannot drift apart.
const TOP: Record<IntKey | BigKey, FieldSpec> = RISK_LIMIT_FIELDS;
const CB: Record<CbKey, FieldSpec> = CIRCUIT_BREAKER_FIELDS;

/** Every RISK_* variable read by `defaultRiskLimits`, for the README configuration table. */
export const RISK_ENV_VARS: readonly string[] = [...Object.values(TOP), ...Object.values(CB)].map((s) => s.env);

/** Reads a number-or-string that must be an integer; never accepts a float. */
function parseInteger(raw: unknown, name: string, spec: FieldSpec, problems: string[]): bigint | undefined {
  let n: bigint;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || !Number.isInteger(raw)) {
      problems.push(`${name} must be an integer, not ${raw} (amounts are never fractional: use base units)`);
      return undefined;
    }
    if (!Number.isSafeInteger(raw)) {
      problems.push(`${name} is too large to send as a JSON number (${raw}): send it as a string`);
      return undefined;
    }
    n = BigInt(raw);
  } else if (typeof raw === 'string') {
    const t = raw.trim();
    if (!/^-?\d+$/.test(t)) {
      problems.push(`${name} must be an integer written with digits only (got "${raw}")`);
      return undefined;
    }
    n = BigInt(t);
  } else {
    problems.push(`${name} must be an integer or a string of digits (got ${raw === null ? 'null' : typeof raw})`);
    return undefined;
  }
  if (n < spec.min || (spec.max !== undefined && n > spec.max)) {
    problems.push(
      spec.max !== undefined
        ? `${name} must be between ${spec.min} and ${spec.max} (got ${n})`
        : `${name} must be at least ${spec.min} (got ${n})`,
    );
    return undefined;
  }
  return n;
}

function crossChecks(l: RiskLimits, problems: string[], names: { spike: string; deviation: string }): void {
  // A spike threshold below the ordinary limit would pause the engine on trades that the
  // deviation check already rejects as routine.
  if (l.circuitBreaker.deviationSpikeBps < l.maxPriceDeviationBps) {
    problems.push(
      `${names.spike} (${l.circuitBreaker.deviationSpikeBps}) must be at least ${names.deviation} ` +
        `(${l.maxPriceDeviationBps}): a spike is a deviation beyond the ordinary limit`,
    );
  }
}

function assemble(values: Record<string, bigint>): RiskLimits {
  const num = (k: string) => Number(values[k]);
  return {
    maxPriceAgeSeconds: num('maxPriceAgeSeconds'),
    maxConfidenceBps: num('maxConfidenceBps'),
    maxPriceDeviationBps: num('maxPriceDeviationBps'),
    maxSlippageBps: num('maxSlippageBps'),
    minProfitBaseUnits: values.minProfitBaseUnits,
    maxNotionalPerTradeUsdMicros: values.maxNotionalPerTradeUsdMicros,
    maxExposurePerTokenUsdMicros: values.maxExposurePerTokenUsdMicros,
    dailyLossLimitUsdMicros: values.dailyLossLimitUsdMicros,
    maxOrdersPerMinute: num('maxOrdersPerMinute'),
    circuitBreaker: {
      consecutiveFailedFills: num('cb.consecutiveFailedFills'),
      deviationSpikeBps: num('cb.deviationSpikeBps'),
    },
  };
}

/**
 * The limits in force before any RiskLimitsChanged event, from RISK_* variables (unset or blank =
 * the built-in default), as the one configuration reads them (the app injects
 * `config.risk.defaultLimits`; this is for tools and tests). Throws ConfigError listing every bad
 * variable.
 */
export function defaultRiskLimits(env: Record<string, string | undefined> = {}): RiskLimits {
  return loadConfig(env).risk.defaultLimits;
}

export type RiskLimitsValidation = { ok: true; limits: RiskLimits; problems: [] } | { ok: false; problems: string[] };

/**
 * Validates a body for PUT /risk/limits. Every field is required (PUT replaces the whole set)
 * unless `current` is given, in which case missing fields keep their current value (PATCH).
 * Values may be integers or strings of digits, never floats; unknown fields are refused.
 */
export function validateRiskLimits(input: unknown, current?: RiskLimits): RiskLimitsValidation {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: ['risk limits must be a JSON object'] };
  }
  const body = input as Record<string, unknown>;
  for (const k of Object.keys(body)) {
    if (!(k in TOP) && k !== 'circuitBreaker') problems.push(`${k} is not a known risk limit`);
  }
  const values: Record<string, bigint> = {};
  const currentValue = (key: string): bigint | undefined => {
    if (!current) return undefined;
    if (key.startsWith('cb.')) return BigInt(current.circuitBreaker[key.slice(3) as CbKey]);
    return BigInt(current[key as IntKey | BigKey]);
  };
  const read = (key: string, name: string, raw: unknown, spec: FieldSpec) => {
    if (raw === undefined) {
      const c = currentValue(key);
      if (c === undefined) problems.push(`${name} is required`);
      else values[key] = c;
      return;
    }
    const v = parseInteger(raw, name, spec, problems);
    if (v !== undefined) values[key] = v;
  };
  for (const [k, spec] of Object.entries(TOP)) read(k, k, body[k], spec);

  const cb = body.circuitBreaker;
  if (cb !== undefined && (typeof cb !== 'object' || cb === null || Array.isArray(cb))) {
    problems.push('circuitBreaker must be an object with consecutiveFailedFills and deviationSpikeBps');
  } else {
    const cbBody = (cb ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(cbBody)) if (!(k in CB)) problems.push(`circuitBreaker.${k} is not a known risk limit`);
    for (const [k, spec] of Object.entries(CB)) read(`cb.${k}`, `circuitBreaker.${k}`, cbBody[k], spec);
  }
  if (problems.length) return { ok: false, problems };
  const limits = assemble(values);
  crossChecks(limits, problems, { spike: 'circuitBreaker.deviationSpikeBps', deviation: 'maxPriceDeviationBps' });
  if (problems.length) return { ok: false, problems };
  return { ok: true, limits, problems: [] };
}

export function riskLimitsToJson(l: RiskLimits): RiskLimitsJson {
  return {
    maxPriceAgeSeconds: l.maxPriceAgeSeconds,
    maxConfidenceBps: l.maxConfidenceBps,
    maxPriceDeviationBps: l.maxPriceDeviationBps,
    maxSlippageBps: l.maxSlippageBps,
    minProfitBaseUnits: l.minProfitBaseUnits.toString(),
    maxNotionalPerTradeUsdMicros: l.maxNotionalPerTradeUsdMicros.toString(),
    maxExposurePerTokenUsdMicros: l.maxExposurePerTokenUsdMicros.toString(),
    dailyLossLimitUsdMicros: l.dailyLossLimitUsdMicros.toString(),
    maxOrdersPerMinute: l.maxOrdersPerMinute,
    circuitBreaker: { ...l.circuitBreaker },
  };
}

/**
 * Reads limits back from a RiskLimitsChanged payload. The registry validated its shape when it
 * was written; ranges are deliberately not re-checked so that tightening a range later never
 * breaks replaying old events.
 */
export function riskLimitsFromJson(j: RiskLimitsJson): RiskLimits {
  return {
    maxPriceAgeSeconds: j.maxPriceAgeSeconds,
    maxConfidenceBps: j.maxConfidenceBps,
    maxPriceDeviationBps: j.maxPriceDeviationBps,
    maxSlippageBps: j.maxSlippageBps,
    minProfitBaseUnits: BigInt(j.minProfitBaseUnits),
    maxNotionalPerTradeUsdMicros: BigInt(j.maxNotionalPerTradeUsdMicros),
    maxExposurePerTokenUsdMicros: BigInt(j.maxExposurePerTokenUsdMicros),
    dailyLossLimitUsdMicros: BigInt(j.dailyLossLimitUsdMicros),
    maxOrdersPerMinute: j.maxOrdersPerMinute,
    circuitBreaker: { ...j.circuitBreaker },
  };
}
