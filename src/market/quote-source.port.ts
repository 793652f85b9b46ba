// The quote source port: swap quotes (Jupiter's /quote) with every field an audit needs, plus the
// round-trip helper the trading saga uses (A → B → A, or a configured route through more mints).
// Adapters: Jupiter (./jupiter), simulated (./simulated).
import { MarketDataError } from './errors.js';

export const QUOTE_SOURCE = Symbol('QUOTE_SOURCE');
/** Builds the unsigned swap transaction for a quote (Jupiter's POST /swap). */
export const SWAP_TRANSACTION_SOURCE = Symbol('SWAP_TRANSACTION_SOURCE');

export interface QuoteRequest {
  inputMint: string;
  outputMint: string;
  /** Base units of inputMint; must be > 0. */
  amount: bigint;
  slippageBps: number;
}

/** JSON as parsed from an upstream body (numbers may be floats: see toStorableJson before storing). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface Quote {
  inputMint: string;
  outputMint: string;
  inAmount: bigint;
  outAmount: bigint;
  /** Least output accepted after slippage (ExactIn). */
  otherAmountThreshold: bigint;
  slippageBps: number;
  swapMode: string;
  /** Decimal string as upstream wrote it (a fraction: "0.0012" is 0.12 %). */
  priceImpactPct: string;
  routePlan: JsonValue;
  /** Slot the quote was computed at; null when upstream did not say. */
  contextSlot: bigint | null;
  /** Seconds upstream spent, as a decimal string (it is a float in the response). */
  timeTaken?: string;
  /** When we received it, ISO-8601 UTC. */
  quotedAt: string;
  /** The response body exactly as parsed: the generated model drops fields an audit may need. */
  raw: JsonValue;
}

export interface QuoteSource {
  /** Rejects with MarketDataError. */
  quote(req: QuoteRequest): Promise<Quote>;
}

export interface SwapTransaction {
  /** Base64 of the serialized (unsigned) VersionedTransaction. */
  swapTransaction: string;
  lastValidBlockHeight: bigint;
  prioritizationFeeLamports?: bigint;
  raw: JsonValue;
}

export interface SwapTransactionSource {
  /** quoteRaw is Quote.raw (or its stored, sanitised form). Rejects with MarketDataError. */
  swapTransaction(quoteRaw: JsonValue, userPublicKey: string): Promise<SwapTransaction>;
}

export interface RouteQuote {
  legs: Quote[];
  /** Base units of the first mint: last leg's outAmount − amount. Negative = a loss. */
  expectedProfit: bigint;
}

/**
 * Quotes a cycle leg by leg, each leg spending the previous leg's outAmount. `mints` starts and
 * ends with the same mint, e.g. [A, B, A] or [A, B, C, A].
 */
export async function routeQuote(
  source: QuoteSource,
  req: { mints: string[]; amount: bigint; slippageBps: number; nextLegSpends?: 'outAmount' | 'minimumOut' },
): Promise<RouteQuote> {
  const { mints, amount, slippageBps } = req;
  if (mints.length < 3 || mints[0] !== mints[mints.length - 1]) {
    throw new MarketDataError('INVALID_REQUEST', 'jupiter', `a route must start and end with the same mint and have at least two legs (got ${mints.join(' → ')})`);
  }
  if (amount <= 0n) throw new MarketDataError('INVALID_REQUEST', 'jupiter', `amount must be > 0 base units (got ${amount})`);
  const legs: Quote[] = [];
  let spend = amount;
  for (let i = 0; i + 1 < mints.length; i++) {
    const q = await source.quote({ inputMint: mints[i]!, outputMint: mints[i + 1]!, amount: spend, slippageBps });
    legs.push(q);
    // minimumOut: the next leg is quoted for this leg's otherAmountThreshold, so it is always
    // funded in one atomic transaction (whatever this leg delivers above it stays as inventory).
    spend = req.nextLegSpends === 'minimumOut' ? q.otherAmountThreshold : q.outAmount;
    if (spend <= 0n) {
      throw new MarketDataError('NO_ROUTE', 'jupiter', `leg ${i + 1} (${mints[i]} → ${mints[i + 1]}) returns nothing for ${q.inAmount} base units`);
    }
  }
  return { legs, expectedProfit: legs[legs.length - 1]!.outAmount - amount };
}

/** A → B → A with the first leg's outAmount (or, with nextLegSpends 'minimumOut', its otherAmountThreshold) as the second leg's input. */
export async function roundTripQuote(
  source: QuoteSource,
  req: { mintA: string; mintB: string; amount: bigint; slippageBps: number; nextLegSpends?: 'outAmount' | 'minimumOut' },
): Promise<RouteQuote> {
  return routeQuote(source, { mints: [req.mintA, req.mintB, req.mintA], amount: req.amount, slippageBps: req.slippageBps, nextLegSpends: req.nextLegSpends });
}
