// Settings of the trading engine loop and saga (README: Configuration).
import { ConfigError, integer } from '../config/config.js';
import { loadExecutionConfig } from '../execution/execution.config.js';

export const TRADING_CONFIG = Symbol('TRADING_CONFIG');

export interface TradingConfig {
  /** Run the engine loop at start (ENGINE_AUTOSTART, default true). */
  autostart: boolean;
  /** Sagas not yet signed are closed when older than this (ENGINE_MAX_SAGA_AGE_MS). */
  maxSagaAgeMs: number;
  /** How long confirm() waits before the saga is left for a later attempt (ENGINE_CONFIRM_TIMEOUT_MS). */
  confirmTimeoutMs: number;
  /** On SIGTERM, how long sagas in flight may go on towards their end before they stop at the next safe point (ENGINE_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: number;
  /** Sagas run at once (ENGINE_CONCURRENCY). */
  concurrency: number;
  /** From the execution settings (SOLANA_PRIORITY_FEE_MICROLAMPORTS, SOLANA_COMPUTE_UNIT_LIMIT): what risk prices fees at. */
  priorityFeeMicroLamports: bigint;
  computeUnitLimit: bigint;
}

export function loadTradingConfig(env: Record<string, string | undefined> = process.env): TradingConfig {
  const problems: string[] = [];
  const execution = loadExecutionConfig(env);
  const auto = (env.ENGINE_AUTOSTART ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(auto)) problems.push(`ENGINE_AUTOSTART must be true or false (got "${env.ENGINE_AUTOSTART}")`);
  const config: TradingConfig = {
    autostart: auto === 'true' || auto === '1',
    maxSagaAgeMs: integer(env.ENGINE_MAX_SAGA_AGE_MS ?? '30000', 'ENGINE_MAX_SAGA_AGE_MS', 100, 3_600_000, problems),
    confirmTimeoutMs: integer(env.ENGINE_CONFIRM_TIMEOUT_MS ?? '90000', 'ENGINE_CONFIRM_TIMEOUT_MS', 100, 3_600_000, problems),
    drainTimeoutMs: integer(env.ENGINE_DRAIN_TIMEOUT_MS ?? '10000', 'ENGINE_DRAIN_TIMEOUT_MS', 0, 3_600_000, problems),
    concurrency: integer(env.ENGINE_CONCURRENCY ?? '4', 'ENGINE_CONCURRENCY', 1, 64, problems),
    priorityFeeMicroLamports: execution.solana.priorityFeeMicroLamports,
    computeUnitLimit: BigInt(execution.solana.computeUnitLimit),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
