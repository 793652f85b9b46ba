// Where arbitrage candidates come from: the simulated market (seeded), or a scanner that offers
// the configured pairs in turn for a live Jupiter round-trip quote. The trading saga starts one
// and records an OpportunityDetected for each candidate.
import type { TokenInfo } from './tokens.js';

export const OPPORTUNITY_SOURCE = Symbol('OPPORTUNITY_SOURCE');

export interface OpportunityRoute {
  mintA: string;
  mintB: string;
  symbolA: string;
  symbolB: string;
  decimalsA: number;
  decimalsB: number;
}

export interface OpportunityCandidate {
  opportunityId: string;
  route: OpportunityRoute;
  /** Base units of mintA. */
  amountIn: bigint;
  source: 'simulated' | 'jupiter';
  /** ISO-8601 UTC. */
  detectedAt: string;
  slippageBps: number;
  /** Pyth feed pricing mintA in USD: the price a quote is checked against. */
  priceFeedId: string;
}

export interface OpportunityRun {
  stop(): void;
}

export interface OpportunitySource {
  /**
   * Offers candidates until stop(). A handler that throws or rejects is reported to onError and
   * the run goes on: one bad candidate never stops the loop.
   */
  start(
    onOpportunity: (o: OpportunityCandidate) => void | Promise<void>,
    onError?: (e: unknown, o: OpportunityCandidate) => void,
  ): OpportunityRun;
}

export function routeOf(a: TokenInfo, b: TokenInfo): OpportunityRoute {
  return { mintA: a.mint, mintB: b.mint, symbolA: a.symbol, symbolB: b.symbol, decimalsA: a.decimals, decimalsB: b.decimals };
}
