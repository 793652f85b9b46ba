// Live opportunity source: offers the configured pairs in turn, at a fixed rate, for the saga to
// price with a Jupiter round trip. Whether a candidate is worth anything is for the quotes (and
// risk) to say; this only paces the scanning so Jupiter's rate limit is respected.
import { randomUUID } from 'node:crypto';
import { offerEvery, routeOf, type OpportunityCandidate, type OpportunityRun, type OpportunitySource } from './opportunity-source.port.js';
import { normaliseFeedId, type TradingPair } from '../shared/tokens.js';

export interface ScanningOpportunitySourceOptions {
  pairs: readonly TradingPair[];
  scansPerMinute: number;
  slippageBps: number;
  now?: () => Date;
  newId?: () => string;
  maxInFlight?: number;
}

export class ScanningOpportunitySource implements OpportunitySource {
  private index = 0;

  constructor(private readonly opts: ScanningOpportunitySourceOptions) {
    if (opts.pairs.length === 0) throw new Error('the opportunity scanner needs at least one trading pair');
  }

  /** The next pair in turn, sized at its minimum amount (a small probe). */
  next(): OpportunityCandidate {
    const pair = this.opts.pairs[this.index++ % this.opts.pairs.length]!;
    return {
      opportunityId: (this.opts.newId ?? randomUUID)(),
      route: routeOf(pair.a, pair.b),
      amountIn: pair.minAmountIn,
      source: 'jupiter',
      detectedAt: (this.opts.now ?? (() => new Date()))().toISOString(),
      slippageBps: this.opts.slippageBps,
      priceFeedId: normaliseFeedId(pair.a.pythFeedId),
    };
  }

  start(
    onOpportunity: (o: OpportunityCandidate) => void | Promise<void>,
    onError?: (e: unknown, o: OpportunityCandidate) => void,
  ): OpportunityRun {
    return offerEvery(this.opts.scansPerMinute, this.opts.maxInFlight ?? 2, () => this.next(), onOpportunity, onError);
  }
}
