// Configuration of the market data context, read from the environment and validated at start.
//
//   MARKET                        simulated | live            (default simulated)
//   HERMES_URL                    Pyth Hermes base URL         (default https://hermes.pyth.network)
//   JUPITER_URL                   Jupiter Swap API base URL    (default https://lite-api.jup.ag/swap/v1)
//   JUPITER_API_KEY               x-api-key for api.jup.ag     (optional)
//   JUPITER_BUILD_URL             Swap API v2 base; with JUPITER_API_KEY the legs' instructions
//                                 come from GET /build, else from v1 POST /swap-instructions
//                                 (default https://api.jup.ag/swap/v2)
//   PYTH_FEED_IDS                 comma-separated feed ids     (default: the feeds of the default pairs)
//   SIM_SEED                      integer seed                 (default 42)
//   SIM_OPPORTUNITIES_PER_MINUTE  0 … 6000                     (default 30)
//   MARKET_SCANS_PER_MINUTE       live scanner pace, 0 … 600   (default 6)
//   MARKET_SLIPPAGE_BPS           0 … 10000                    (default 50)
//   MARKET_HTTP_TIMEOUT_MS        100 … 120000                 (default 5000)
//   MARKET_HTTP_RETRIES           retries after the first try, 0 … 10 (default 2)
import { ConfigError } from '../config/config.js';
import { HERMES_PUBLIC_URL } from './pyth/hermes-price-feed.js';
import { JUPITER_PUBLIC_URL } from './jupiter/jupiter-quote-source.js';
import { DEFAULT_PAIRS, FEED_ID_RE, normaliseFeedId, type TradingPair } from '../shared/tokens.js';

/** Nest token of the market settings (the saga reads the slippage it asks of Jupiter). */
export const MARKET_CONFIG = Symbol('MARKET_CONFIG');

export interface MarketConfig {
  mode: 'simulated' | 'live';
  hermesUrl: string;
  jupiterUrl: string;
  jupiterApiKey: string | null;
  /** Swap API v2 base (GET /build), used when jupiterApiKey is set. */
  jupiterBuildUrl: string;
  pythFeedIds: string[];
  pairs: readonly TradingPair[];
  simSeed: number;
  simOpportunitiesPerMinute: number;
  scansPerMinute: number;
  slippageBps: number;
  httpTimeoutMs: number;
  httpRetries: number;
}

type Env = Record<string, string | undefined>;

export function loadMarketConfig(env: Env = process.env): MarketConfig {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const number = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = text(name);
    if (raw === null) return fallback;
    const ok = integer ? /^-?\d+$/.test(raw) : /^-?\d+(\.\d+)?$/.test(raw);
    const n = Number(raw);
    if (!ok || !Number.isFinite(n)) {
      problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} (got "${raw}")`);
      return fallback;
    }
    if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max} (got ${raw})`);
    return n;
  };
  const url = (name: string, fallback: string): string => {
    const raw = text(name) ?? fallback;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    } catch {
      problems.push(`${name} must be an http:// or https:// URL (got "${raw}")`);
    }
    return raw.replace(/\/+$/, '');
  };

  const modeRaw = (text('MARKET') ?? 'simulated').toLowerCase();
  if (modeRaw !== 'simulated' && modeRaw !== 'live') {
    problems.push(`MARKET must be "simulated" or "live" (got "${modeRaw}")`);
  }
  const feedRaw = text('PYTH_FEED_IDS');
  let pythFeedIds = [...new Set(DEFAULT_PAIRS.flatMap((p) => [p.a.pythFeedId, p.b.pythFeedId]))];
  if (feedRaw !== null) {
    const ids = feedRaw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = ids.filter((id) => !FEED_ID_RE.test(id));
    if (ids.length === 0 || bad.length) {
      problems.push(`PYTH_FEED_IDS must be comma-separated Pyth feed ids of 64 hex digits (bad: ${bad.join(', ') || 'none given'})`);
    }
    pythFeedIds = [...new Set(ids.map(normaliseFeedId))];
  }

  const config: MarketConfig = {
    mode: modeRaw === 'live' ? 'live' : 'simulated',
    hermesUrl: url('HERMES_URL', HERMES_PUBLIC_URL),
    jupiterUrl: url('JUPITER_URL', JUPITER_PUBLIC_URL),
    jupiterApiKey: text('JUPITER_API_KEY'),
    jupiterBuildUrl: url('JUPITER_BUILD_URL', 'https://api.jup.ag/swap/v2'),
    pythFeedIds,
    pairs: DEFAULT_PAIRS,
    simSeed: number('SIM_SEED', 42, 0, 2 ** 32 - 1),
    simOpportunitiesPerMinute: number('SIM_OPPORTUNITIES_PER_MINUTE', 30, 0, 6_000, false),
    scansPerMinute: number('MARKET_SCANS_PER_MINUTE', 6, 0, 600, false),
    slippageBps: number('MARKET_SLIPPAGE_BPS', 50, 0, 10_000),
    httpTimeoutMs: number('MARKET_HTTP_TIMEOUT_MS', 5_000, 100, 120_000),
    httpRetries: number('MARKET_HTTP_RETRIES', 2, 0, 10),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
