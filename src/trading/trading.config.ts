// Settings of the trading engine loop and saga (README: Configuration): its section of the one
// configuration (src/config/config.ts).
import type { TradingSettings } from '../config/config.js';

export const TRADING_CONFIG = Symbol('TRADING_CONFIG');

export type TradingConfig = TradingSettings;
