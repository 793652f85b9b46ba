// The risk limits' fields, declared once: their RISK_* variable (which seeds the limits in force
// before any RiskLimitsChanged event), kind, range and default. The configuration declaration
// builds its RISK_* settings from this table, and risk's PUT /risk/limits validation checks the
// same ranges (src/risk/limits.ts), so a limit cannot mean one thing at start and another later.
export interface RiskLimitField {
  env: string;
  kind: 'int' | 'big';
  min: bigint;
  max?: bigint;
  default: bigint;
}

export const RISK_LIMIT_FIELDS = {
  maxPriceAgeSeconds: { env: 'RISK_MAX_PRICE_AGE_SECONDS', kind: 'int', min: 1n, max: 3600n, default: 5n },
  maxConfidenceBps: { env: 'RISK_MAX_CONFIDENCE_BPS', kind: 'int', min: 0n, max: 10_000n, default: 50n },
  maxPriceDeviationBps: { env: 'RISK_MAX_PRICE_DEVIATION_BPS', kind: 'int', min: 0n, max: 10_000n, default: 100n },
  maxSlippageBps: { env: 'RISK_MAX_SLIPPAGE_BPS', kind: 'int', min: 0n, max: 10_000n, default: 50n },
  minProfitBaseUnits: { env: 'RISK_MIN_PROFIT_BASE_UNITS', kind: 'big', min: 0n, default: 1n },
  maxNotionalPerTradeUsdMicros: { env: 'RISK_MAX_NOTIONAL_PER_TRADE_USD_MICROS', kind: 'big', min: 1n, default: 1_000_000_000n },
  maxExposurePerTokenUsdMicros: { env: 'RISK_MAX_EXPOSURE_PER_TOKEN_USD_MICROS', kind: 'big', min: 1n, default: 5_000_000_000n },
  dailyLossLimitUsdMicros: { env: 'RISK_DAILY_LOSS_LIMIT_USD_MICROS', kind: 'big', min: 1n, default: 100_000_000n },
  maxOrdersPerMinute: { env: 'RISK_MAX_ORDERS_PER_MINUTE', kind: 'int', min: 1n, max: 100_000n, default: 30n },
} as const satisfies Record<string, RiskLimitField>;

export const CIRCUIT_BREAKER_FIELDS = {
  consecutiveFailedFills: { env: 'RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS', kind: 'int', min: 1n, max: 1000n, default: 3n },
  deviationSpikeBps: { env: 'RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS', kind: 'int', min: 1n, max: 1_000_000n, default: 500n },
} as const satisfies Record<string, RiskLimitField>;
