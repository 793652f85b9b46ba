// Wires the market data ports from MarketConfig: the seeded simulated market (default), or Pyth
// Hermes + Jupiter + the pair scanner when MARKET=live. One SimulatedMarket instance backs every
// port in simulated mode, so quotes agree with the prices and the opportunities.
import { Module, type Provider } from '@nestjs/common';
import { Metrics } from '../shared/metrics/metrics.js';
import type { MarketDataError } from './errors.js';
import { JupiterBuildSource } from './jupiter/jupiter-build-source.js';
import { JupiterQuoteSource } from './jupiter/jupiter-quote-source.js';
import { ROUTE_INSTRUCTIONS, type RouteInstructionsSource } from './route-instructions.port.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { MARKET_CONFIG, type MarketConfig } from './market.config.js';
import { OPPORTUNITY_SOURCE, type OpportunitySource } from './opportunity-source.port.js';
import { PRICE_FEED, type PriceFeed } from './price-feed.port.js';
import { HermesPriceFeed } from './pyth/hermes-price-feed.js';
import { QUOTE_SOURCE, SWAP_TRANSACTION_SOURCE, type QuoteSource, type SwapTransactionSource } from './quote-source.port.js';
import { ScanningOpportunitySource } from './scanning-opportunity-source.js';
import { SimulatedMarket } from './simulated/simulated-market.js';

export { MARKET_CONFIG };
const MARKET_ADAPTERS = Symbol('MARKET_ADAPTERS');

export interface MarketAdapters {
  priceFeed: PriceFeed;
  quoteSource: QuoteSource;
  swapTransactions: SwapTransactionSource;
  /** The legs' instructions; "none" in simulated mode (nothing to build a route from). */
  routeInstructions: RouteInstructionsSource;
  opportunities: OpportunitySource;
  /** Set in simulated mode (tests and tools can step it by hand). */
  simulated: SimulatedMarket | null;
}

export function createMarketAdapters(config: MarketConfig, metrics?: Metrics): MarketAdapters {
  if (config.mode === 'simulated') {
    const sim = new SimulatedMarket({
      seed: config.simSeed,
      opportunitiesPerMinute: config.simOpportunitiesPerMinute,
      pairs: config.pairs,
      slippageBps: config.slippageBps,
    });
    return { priceFeed: sim, quoteSource: sim, swapTransactions: sim, routeInstructions: NO_ROUTE_INSTRUCTIONS, opportunities: sim, simulated: sim };
  }
  const retry = { maxAttempts: config.httpRetries + 1, baseDelayMs: 250, maxDelayMs: 4_000 };
  const onRetry = (e: MarketDataError) => metrics?.marketDataRetriesTotal.inc({ source: e.source, code: e.code });
  const common = { basePath: config.jupiterUrl, timeoutMs: config.httpTimeoutMs, retry, onRetry };
  const jupiter = config.jupiterApiKey
    ? new JupiterBuildSource({ ...common, apiKey: config.jupiterApiKey, buildBasePath: config.jupiterBuildUrl })
    : new JupiterQuoteSource(common);
  return {
    priceFeed: new HermesPriceFeed({ endpoint: config.hermesUrl, timeoutMs: config.httpTimeoutMs, retry, onRetry }),
    quoteSource: jupiter,
    swapTransactions: jupiter,
    routeInstructions: jupiter,
    opportunities: new ScanningOpportunitySource({ pairs: config.pairs, scansPerMinute: config.scansPerMinute, slippageBps: config.slippageBps }),
    simulated: null,
  };
}

/** The offline default: a simulated market has no routes, so the venue builds its own transaction. */
export const NO_ROUTE_INSTRUCTIONS: RouteInstructionsSource = {
  api: 'none',
  legInstructions: () => Promise.reject(new Error('the simulated market builds no route instructions')),
};

export const marketProviders: Provider[] = [
  { provide: MARKET_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.market },
  { provide: MARKET_ADAPTERS, inject: [MARKET_CONFIG, { token: Metrics, optional: true }], useFactory: (c: MarketConfig, m?: Metrics) => createMarketAdapters(c, m) },
  { provide: PRICE_FEED, inject: [MARKET_ADAPTERS], useFactory: (a: MarketAdapters) => a.priceFeed },
  { provide: QUOTE_SOURCE, inject: [MARKET_ADAPTERS], useFactory: (a: MarketAdapters) => a.quoteSource },
  { provide: SWAP_TRANSACTION_SOURCE, inject: [MARKET_ADAPTERS], useFactory: (a: MarketAdapters) => a.swapTransactions },
  { provide: ROUTE_INSTRUCTIONS, inject: [MARKET_ADAPTERS], useFactory: (a: MarketAdapters) => a.routeInstructions },
  { provide: OPPORTUNITY_SOURCE, inject: [MARKET_ADAPTERS], useFactory: (a: MarketAdapters) => a.opportunities },
];

@Module({
  providers: marketProviders,
  exports: [MARKET_CONFIG, PRICE_FEED, QUOTE_SOURCE, SWAP_TRANSACTION_SOURCE, ROUTE_INSTRUCTIONS, OPPORTUNITY_SOURCE],
})
export class MarketModule {}
