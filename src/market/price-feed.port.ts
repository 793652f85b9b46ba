// The price feed port: oracle prices (Pyth) that quotes are checked against. Adapters: Hermes
// (./pyth), simulated (./simulated). Prices stay integers with their exponent, as Pyth gives them.
import type { MarketDataError } from './errors.js';

export const PRICE_FEED = Symbol('PRICE_FEED');

export interface PriceObservation {
  /** 64 hex digits, lower case, no 0x. */
  feedId: string;
  /** price × 10^expo is the price in USD. */
  price: bigint;
  /** Confidence interval, same exponent as price. */
  conf: bigint;
  expo: number;
  /** Unix seconds. */
  publishTime: number;
  /** Solana slot of the update, when the source reports it. */
  slot?: bigint;
}

export interface PriceStream {
  close(): void;
}

export interface PriceFeed {
  /** Rejects with MarketDataError. Returns one observation per requested feed that upstream knows. */
  latest(feedIds: string[]): Promise<PriceObservation[]>;
  /**
   * Follows updates until close(). Never throws after it returns: problems arrive in onError
   * (error.code 'STREAM_FAILED' means the stream has stopped for good; anything else is a
   * notice and the stream goes on).
   */
  stream(feedIds: string[], onPrice: (p: PriceObservation) => void, onError: (e: MarketDataError) => void): PriceStream;
}
