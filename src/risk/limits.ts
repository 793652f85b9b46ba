// Risk limits: the numbers every pre-trade check compares against. Defaults come from RISK_*
// environment variables; an operator changes them at run time through PUT /risk/limits, which
// records a RiskLimitsChanged event (the engine stream is the source of truth, env only seeds it).
//
// Units, chosen so no check ever needs a float or a price lookup:
// - ratios are integer basis points (1 bps = 0.01 %);
// - profit is in base units of the trade's input mint (the only unit the quote gives us exactly);
// - notional, exposure and daily loss are in USD micro-units ("usdMicros", 1 USD = 1_000_000),
//   because they add up across mints; the caller converts a trade's size to USD before the check.
import { z } from 'zod';
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

const typeName = (v: unknown) => (v === null ? 'null' : typeof v);
const rangeText = (spec: FieldSpec) => (spec.max !== undefined ? `must be between ${spec.min} and ${spec.max}` : `must be at least ${spec.min}`);

const inRange = (spec: FieldSpec) => {
  const error = (iss: { input?: unknown }) => `${rangeText(spec)} (got ${String(iss.input)})`;
  const atLeast = z.bigint().min(spec.min, { error });
  return spec.max === undefined ? atLeast : atLeast.max(spec.max, { error });
};

/**
 * One limit's value, from the table: a JSON integer or a string of digits (for values beyond
 * 2^53) becomes a bigint in the field's range. Never a float, not even one written as a string.
 * Given the value in force, a missing field keeps it (PATCH); otherwise it is required (PUT).
 */
function limitValue(spec: FieldSpec, inForce: bigint | undefined) {
  const whole = z
    .number()
    .refine(Number.isInteger, { error: (iss) => `must be an integer, not ${String(iss.input)} (amounts are never fractional: use base units)` })
    // Not aborting: zod's union keeps the one branch whose issues did not abort (a fraction is
    // reported as such, not as "wrong type"); a fraction is not also called too large.
    .refine((n) => !Number.isInteger(n) || Number.isSafeInteger(n), { error: (iss) => `is too large to send as a JSON number (${String(iss.input)}): send it as a string` });
  const digits = z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: (iss) => `must be an integer written with digits only (got "${String(iss.input)}")` });
  const value = z
    .union([whole, digits], {
      error: (iss) => (iss.input === undefined ? 'is required' : `must be an integer or a string of digits (got ${typeName(iss.input)})`),
    })
    .transform((v) => BigInt(v))
    .pipe(inRange(spec));
  return inForce === undefined ? value : value.default(inForce);
}

/** A strict object of limits from a field table, every field read by `limitValue`. */
function limitsObject<K extends string>(fields: Record<K, FieldSpec>, inForce: ((k: K) => bigint) | undefined, notObject: string) {
  const shape = Object.fromEntries(
    (Object.entries(fields) as [K, FieldSpec][]).map(([k, spec]) => [k, limitValue(spec, inForce?.(k))]),
  ) as Record<K, ReturnType<typeof limitValue>>;
  return z.strictObject(shape, { error: notObject });
}

/**
 * The declaration of a RiskLimits body, built from the field tables (src/config/risk-limit-fields.ts):
 * ranges come from the table, unknown fields are named, and every problem is reported at once.
 * With `current`, missing fields keep their current value.
 */
export function riskLimitsSchema(current?: RiskLimits) {
  const cb = limitsObject(
    CB,
    current && ((k: CbKey) => BigInt(current.circuitBreaker[k])),
    'must be an object with consecutiveFailedFills and deviationSpikeBps',
  );
  return z
    .strictObject({ ...limitsObject(TOP, current && ((k: IntKey | BigKey) => BigInt(current[k])), '').shape, circuitBreaker: cb.prefault({} as z.input<typeof cb>) }, {
      error: 'risk limits must be a JSON object',
    })
    .transform((v): RiskLimits => ({
      maxPriceAgeSeconds: Number(v.maxPriceAgeSeconds),
      maxConfidenceBps: Number(v.maxConfidenceBps),
      maxPriceDeviationBps: Number(v.maxPriceDeviationBps),
      maxSlippageBps: Number(v.maxSlippageBps),
      minProfitBaseUnits: v.minProfitBaseUnits,
      maxNotionalPerTradeUsdMicros: v.maxNotionalPerTradeUsdMicros,
      maxExposurePerTokenUsdMicros: v.maxExposurePerTokenUsdMicros,
      dailyLossLimitUsdMicros: v.dailyLossLimitUsdMicros,
      maxOrdersPerMinute: Number(v.maxOrdersPerMinute),
      circuitBreaker: {
        consecutiveFailedFills: Number(v.circuitBreaker.consecutiveFailedFills),
        deviationSpikeBps: Number(v.circuitBreaker.deviationSpikeBps),
      },
    }))
    .check((ctx) => {
      // A spike threshold below the ordinary limit would pause the engine on trades that the
      // deviation check already rejects as routine.
      const l = ctx.value;
      if (l.circuitBreaker.deviationSpikeBps < l.maxPriceDeviationBps) {
        ctx.issues.push({
          code: 'custom',
          input: l,
          path: ['circuitBreaker', 'deviationSpikeBps'],
          message:
            `(${l.circuitBreaker.deviationSpikeBps}) must be at least maxPriceDeviationBps ` +
            `(${l.maxPriceDeviationBps}): a spike is a deviation beyond the ordinary limit`,
        });
      }
    });
}

/**
 * zod's issues as the sentences the API has always sent: "<field> <what is wrong>", an unknown
 * field as "<field> is not a known risk limit", and within each object its unknown fields first.
 */
function problemsOf(error: z.ZodError): string[] {
  const dotted = (path: PropertyKey[]) => path.map(String).join('.');
  const lines = error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ at: i.path, unknown: true, text: `${dotted([...i.path, k])} is not a known risk limit` }));
    }
    const field = dotted(i.path);
    return [{ at: i.path.slice(0, -1), unknown: false, text: field ? `${field} ${i.message}` : i.message }];
  });
  // Stable: the outer object before the inner one, and in each its unknown fields before its values.
  const rank = (l: (typeof lines)[number]) => l.at.length * 2 + (l.unknown ? 0 : 1);
  return lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i)
    .map(({ l }) => l.text);
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
  const r = riskLimitsSchema(current).safeParse(input);
  return r.success ? { ok: true, limits: r.data, problems: [] } : { ok: false, problems: problemsOf(r.error) };
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
