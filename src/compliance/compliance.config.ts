// Compliance configuration from COMPLIANCE_* environment variables, validated at start: the
// sanctions list file and the thresholds of the screening rules (see rules.ts for semantics).
// Money is in USD micro-units (1 USD = 1_000_000), written as integers.
import { resolve } from 'node:path';
import { ConfigError } from '../config/config.js';
import type { ComplianceRulesConfig } from './rules.js';

export interface ComplianceConfig {
  /** Absolute path of the sanctions list; null = no list configured (nothing is sanctioned). */
  sanctionsFile: string | null;
  /** Reload the list when the file changes (COMPLIANCE_SANCTIONS_WATCH=true). */
  watchSanctionsFile: boolean;
  rules: ComplianceRulesConfig;
}

type Env = Record<string, string | undefined>;

interface Spec {
  env: string;
  min: bigint;
  max?: bigint;
  default: bigint;
}

const DAY = 86_400n;
const SPECS = {
  largeTxThresholdUsdMicros: { env: 'COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS', min: 1n, default: 10_000_000_000n },
  velocityWindowSeconds: { env: 'COMPLIANCE_VELOCITY_WINDOW_SECONDS', min: 1n, max: 30n * DAY, default: 60n },
  velocityMaxCount: { env: 'COMPLIANCE_VELOCITY_MAX_COUNT', min: 1n, max: 1_000_000n, default: 120n },
  velocityMaxNotionalUsdMicros: { env: 'COMPLIANCE_VELOCITY_MAX_NOTIONAL_USD_MICROS', min: 1n, default: 100_000_000_000n },
  structuringWindowSeconds: { env: 'COMPLIANCE_STRUCTURING_WINDOW_SECONDS', min: 1n, max: 30n * DAY, default: DAY },
  structuringBandBps: { env: 'COMPLIANCE_STRUCTURING_BAND_BPS', min: 1n, max: 10_000n, default: 1_000n },
  // One trade is not a pattern.
  structuringMinCount: { env: 'COMPLIANCE_STRUCTURING_MIN_COUNT', min: 2n, max: 1_000_000n, default: 3n },
} satisfies Record<keyof ComplianceRulesConfig, Spec>;

/** Every COMPLIANCE_* variable read here, for the README configuration table. */
export const COMPLIANCE_ENV_VARS: readonly string[] = [
  'COMPLIANCE_SANCTIONS_FILE',
  'COMPLIANCE_SANCTIONS_WATCH',
  ...Object.values(SPECS).map((s) => s.env),
];

function readInteger(env: Env, spec: Spec, problems: string[]): bigint {
  const raw = env[spec.env]?.trim();
  if (raw === undefined || raw === '') return spec.default;
  if (!/^-?\d+$/.test(raw)) {
    problems.push(`${spec.env} must be an integer written with digits only (got "${raw}")`);
    return spec.default;
  }
  const v = BigInt(raw);
  if (v < spec.min || (spec.max !== undefined && v > spec.max)) {
    problems.push(
      spec.max !== undefined
        ? `${spec.env} must be between ${spec.min} and ${spec.max} (got ${v})`
        : `${spec.env} must be at least ${spec.min} (got ${v})`,
    );
    return spec.default;
  }
  return v;
}

/** Throws ConfigError listing every bad COMPLIANCE_* variable. */
export function loadComplianceConfig(env: Env = process.env): ComplianceConfig {
  const problems: string[] = [];
  const file = env.COMPLIANCE_SANCTIONS_FILE?.trim() || null;
  const watchRaw = env.COMPLIANCE_SANCTIONS_WATCH?.trim().toLowerCase() || 'false';
  if (!['true', 'false', '1', '0'].includes(watchRaw)) {
    problems.push(`COMPLIANCE_SANCTIONS_WATCH must be true or false (got "${env.COMPLIANCE_SANCTIONS_WATCH}")`);
  }
  const watch = watchRaw === 'true' || watchRaw === '1';
  if (watch && !file) problems.push('COMPLIANCE_SANCTIONS_WATCH is true but COMPLIANCE_SANCTIONS_FILE is not set: set the file to watch');

  const v = Object.fromEntries(
    Object.entries(SPECS).map(([k, spec]) => [k, readInteger(env, spec, problems)]),
  ) as Record<keyof ComplianceRulesConfig, bigint>;
  if (problems.length) throw new ConfigError(problems);
  return {
    sanctionsFile: file ? resolve(file) : null,
    watchSanctionsFile: watch,
    rules: {
      largeTxThresholdUsdMicros: v.largeTxThresholdUsdMicros,
      velocityWindowSeconds: Number(v.velocityWindowSeconds),
      velocityMaxCount: Number(v.velocityMaxCount),
      velocityMaxNotionalUsdMicros: v.velocityMaxNotionalUsdMicros,
      structuringWindowSeconds: Number(v.structuringWindowSeconds),
      structuringBandBps: Number(v.structuringBandBps),
      structuringMinCount: Number(v.structuringMinCount),
    },
  };
}
