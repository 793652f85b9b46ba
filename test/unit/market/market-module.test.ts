// MarketModule wiring: simulated mode backs every port with one market; live mode uses the
// Hermes and Jupiter adapters and the pair scanner.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import { loadConfig } from '../../../src/config/config.js';

const loadMarketConfig = (env: Record<string, string>) => loadConfig(env).market;
import { createMarketAdapters, MarketModule } from '../../../src/market/market.module.js';
import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../src/config/config.module.js';

/** The module as the app builds it: beside the global ConfigModule it takes its settings from. */
@Module({ imports: [ConfigModule, MarketModule] })
class WithConfig {}
import { OPPORTUNITY_SOURCE } from '../../../src/market/opportunity-source.port.js';
import { PRICE_FEED } from '../../../src/market/price-feed.port.js';
import { HermesPriceFeed } from '../../../src/market/pyth/hermes-price-feed.js';
import { QUOTE_SOURCE, SWAP_TRANSACTION_SOURCE } from '../../../src/market/quote-source.port.js';
import { ScanningOpportunitySource } from '../../../src/market/scanning-opportunity-source.js';
import { SimulatedMarket } from '../../../src/market/simulated/simulated-market.js';

describe('MarketModule', () => {
  it('provides one simulated market behind every port by default', async () => {
    // MARKET is unset in the test environment, so the module reads the simulated default.
    expect(process.env.MARKET ?? 'simulated').toBe('simulated');
    const mod = await NestFactory.createApplicationContext(WithConfig, { logger: false, abortOnError: false });
    const feed = mod.get(PRICE_FEED);
    expect(feed).toBeInstanceOf(SimulatedMarket);
    expect(mod.get(QUOTE_SOURCE)).toBe(feed);
    expect(mod.get(SWAP_TRANSACTION_SOURCE)).toBe(feed);
    expect(mod.get(OPPORTUNITY_SOURCE)).toBe(feed);
    await mod.close();
  });

  it('uses Hermes, Jupiter and the scanner when MARKET=live', () => {
    const a = createMarketAdapters(loadMarketConfig({ MARKET: 'live', HERMES_URL: 'http://127.0.0.1:1', JUPITER_URL: 'http://127.0.0.1:2' }));
    expect(a.priceFeed).toBeInstanceOf(HermesPriceFeed);
    expect(a.quoteSource).toBeInstanceOf(JupiterQuoteSource);
    expect(a.opportunities).toBeInstanceOf(ScanningOpportunitySource);
    expect(a.simulated).toBeNull();
  });
});

describe('ScanningOpportunitySource', () => {
  it('offers the configured pairs in turn as jupiter candidates', () => {
    const { pairs } = loadMarketConfig({});
    const s = new ScanningOpportunitySource({ pairs, scansPerMinute: 6, slippageBps: 30 });
    const got = [s.next(), s.next(), s.next(), s.next()];
    expect(got.map((o) => `${o.route.symbolA}/${o.route.symbolB}`)).toEqual(['SOL/USDC', 'USDC/SOL', 'SOL/USDT', 'SOL/USDC']);
    expect(got.every((o) => o.source === 'jupiter' && o.slippageBps === 30)).toBe(true);
    expect(new Set(got.map((o) => o.opportunityId)).size).toBe(4);
  });
});
