// Configuration of the market data context: its section of the one configuration
// (src/config/config.ts; MARKET, HERMES_URL, JUPITER_*, PYTH_FEED_IDS, SIM_*, MARKET_* in README).
import type { MarketSettings } from '../config/config.js';

/** Nest token of the market settings (the saga reads the slippage it asks of Jupiter). */
export const MARKET_CONFIG = Symbol('MARKET_CONFIG');

export type MarketConfig = MarketSettings;
