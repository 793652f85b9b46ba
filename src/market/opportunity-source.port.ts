// Where arbitrage candidates come from: the simulated market (seeded), or a scanner that offers
// the configured pairs in turn for a live Jupiter round-trip quote. The trading saga starts one
// and records an OpportunityDetected for each candidate.
import type { TokenInfo } from '../shared/tokens.js';

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

/**
 * Offers `next()` to the handler every 60 000 / perMinute ms. When `maxInFlight` handlers are
 * still running a tick is skipped, not queued: memory stays bounded, and next() is only called
 * for candidates that are delivered, so a seeded source's sequence does not depend on load.
 */
export function offerEvery(
  perMinute: number,
  maxInFlight: number,
  next: () => OpportunityCandidate,
  onOpportunity: (o: OpportunityCandidate) => void | Promise<void>,
  onError?: (e: unknown, o: OpportunityCandidate) => void,
): OpportunityRun {
  if (perMinute <= 0) return { stop: () => undefined };
  const intervalMs = Math.max(1, Math.round(60_000 / perMinute));
  let inFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    if (inFlight < maxInFlight) {
      const o = next();
      inFlight++;
      Promise.resolve()
        .then(() => onOpportunity(o))
        .catch((e) => {
          try {
            onError?.(e, o);
          } catch {
            // An error handler that throws must not stop the loop.
          }
        })
        .finally(() => inFlight--);
    }
    timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
