// The node-local settings that still feed the engine's decisions (README: High availability;
// docs/decisions/0020). With several nodes, whichever leads decides, so these must be alike on
// every node; they cannot all move into the ledger (a configured default is how a first run
// starts). Each leader records them, with their hash, in its EngineLeadershipAcquired; a node
// that starts or sees a leadership with other values logs a warning naming them, and /ready and
// GraphQL `engine.leadership` show it. What is not here decides nothing, or comes from the
// ledger: risk limits once a RiskLimitsChanged exists (the RISK_* values below only seed them
// before that), the sanctions list (SanctionsListActivated), the engine's mode.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json.js';
import type { ArbiterConfig } from './config.js';
import { CIRCUIT_BREAKER_FIELDS, RISK_LIMIT_FIELDS } from './risk-limit-fields.js';

export interface DecisionSettings {
  /** First 32 hex digits of SHA-256 over the canonical JSON of `values`. */
  version: string;
  /** Variable name → value as a string (money in base units or micro-USD, as configured). */
  values: Record<string, string>;
}

/** The covered settings of `config`, by variable name. */
export function decisionSettings(config: ArbiterConfig): DecisionSettings {
  const l = config.risk.defaultLimits;
  const r = config.compliance.rules;
  const limits: Record<keyof typeof RISK_LIMIT_FIELDS, number | bigint> = l;
  const values: Record<string, string> = {};
  for (const [key, f] of Object.entries(RISK_LIMIT_FIELDS)) values[f.env] = String(limits[key as keyof typeof RISK_LIMIT_FIELDS]);
  for (const [key, f] of Object.entries(CIRCUIT_BREAKER_FIELDS)) values[f.env] = String(l.circuitBreaker[key as keyof typeof CIRCUIT_BREAKER_FIELDS]);
  Object.assign(values, {
    // Compliance's screening rules (not the sanctions list: that is in the ledger).
    COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: String(r.largeTxThresholdUsdMicros),
    COMPLIANCE_VELOCITY_WINDOW_SECONDS: String(r.velocityWindowSeconds),
    COMPLIANCE_VELOCITY_MAX_COUNT: String(r.velocityMaxCount),
    COMPLIANCE_VELOCITY_MAX_NOTIONAL_USD_MICROS: String(r.velocityMaxNotionalUsdMicros),
    COMPLIANCE_STRUCTURING_WINDOW_SECONDS: String(r.structuringWindowSeconds),
    COMPLIANCE_STRUCTURING_BAND_BPS: String(r.structuringBandBps),
    COMPLIANCE_STRUCTURING_MIN_COUNT: String(r.structuringMinCount),
    // The saga: when an unsigned saga is stale; what risk prices fees at; the slippage it asks of Jupiter.
    ENGINE_MAX_SAGA_AGE_MS: String(config.trading.maxSagaAgeMs),
    SOLANA_PRIORITY_FEE_MICROLAMPORTS: String(config.trading.priorityFeeMicroLamports),
    SOLANA_COMPUTE_UNIT_LIMIT: String(config.trading.computeUnitLimit),
    MARKET_SLIPPAGE_BPS: String(config.market.slippageBps),
    // Where it trades and what it trades on.
    VENUE: config.execution.venue,
    MARKET: config.market.mode,
  });
  return { version: decisionSettingsVersion(values), values };
}

export function decisionSettingsVersion(values: Record<string, string>): string {
  return createHash('sha256').update(canonicalJson(values)).digest('hex').slice(0, 32);
}

export interface SettingDifference {
  name: string;
  /** This node's value; null when this build does not have the setting. */
  here: string | null;
  /** The value recorded by the other node; null when it did not record the setting. */
  there: string | null;
}

/** The settings whose values differ, by name (a setting only one side knows counts as different). */
export function settingDifferences(here: Record<string, string>, there: Record<string, string>): SettingDifference[] {
  const names = [...new Set([...Object.keys(here), ...Object.keys(there)])].sort();
  return names.filter((n) => here[n] !== there[n]).map((n) => ({ name: n, here: here[n] ?? null, there: there[n] ?? null }));
}
