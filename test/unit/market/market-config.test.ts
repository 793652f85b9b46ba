// MarketConfig: defaults and clear messages for bad values.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

/** The market section of the one configuration. */
const loadMarketConfig = (env: Record<string, string>) => loadConfig(env).market;
import { SOL, USDC } from '../../../src/shared/tokens.js';

describe('loadMarketConfig', () => {
  it('defaults to the seeded simulated market and the public endpoints', () => {
    const c = loadMarketConfig({});
    expect(c).toMatchObject({
      mode: 'simulated',
      hermesUrl: 'https://hermes.pyth.network',
      jupiterUrl: 'https://lite-api.jup.ag/swap/v1',
      jupiterApiKey: null,
      simSeed: 42,
      simOpportunitiesPerMinute: 30,
      slippageBps: 50,
    });
    expect(c.pythFeedIds).toContain(SOL.pythFeedId);
    expect(c.pythFeedIds).toContain(USDC.pythFeedId);
  });

  it('reads live settings', () => {
    const c = loadMarketConfig({
      MARKET: 'live',
      HERMES_URL: 'http://127.0.0.1:9000/',
      JUPITER_URL: 'http://127.0.0.1:9001/swap/v1',
      PYTH_FEED_IDS: `0x${SOL.pythFeedId.toUpperCase()}, ${USDC.pythFeedId}`,
      SIM_SEED: '7',
      SIM_OPPORTUNITIES_PER_MINUTE: '2.5',
    });
    expect(c).toMatchObject({ mode: 'live', hermesUrl: 'http://127.0.0.1:9000', simSeed: 7, simOpportunitiesPerMinute: 2.5 });
    expect(c.pythFeedIds).toEqual([SOL.pythFeedId, USDC.pythFeedId]);
  });

  it('names every bad setting in one error', () => {
    let err: unknown;
    try {
      loadMarketConfig({ MARKET: 'paper', HERMES_URL: 'ftp://x', SIM_SEED: 'abc', SIM_OPPORTUNITIES_PER_MINUTE: '-1', PYTH_FEED_IDS: 'SOL/USD' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toContain('MARKET must be simulated or live (got "paper")');
    expect(problems).toContain('HERMES_URL must be an http:// or https:// URL');
    expect(problems).toContain('SIM_SEED must be an integer');
    expect(problems).toContain('SIM_OPPORTUNITIES_PER_MINUTE must be between 0 and 6000');
    expect(problems).toContain('PYTH_FEED_IDS');
  });
});
