// Pure arithmetic that turns a quote and oracle prices into the inputs of the risk checks and
// the compliance screen. Integers only: amounts in base units, prices as mantissa × 10^expo.
import type { QuoteReceivedPayload } from '../market/events.js';
import type { OpportunityDetectedPayload } from '../market/events.js';
import type { RiskCheckInput, ScaledPrice } from '../risk/decisions.js';
import type { ScreenedTrade } from '../compliance/decisions.js';

export interface OraclePrice extends ScaledPrice {
  conf: bigint;
  publishTime: number;
}

const pow10 = (n: number) => 10n ** BigInt(n);

/** amount (base units, `decimals`) × price (USD, mantissa × 10^expo) in USD micro-units, rounded down. */
export function usdMicros(amount: bigint, decimals: number, price: ScaledPrice): bigint {
  const e = 6 + price.expo - decimals;
  const v = amount * price.price;
  return e >= 0 ? v * pow10(e) : v / pow10(-e);
}

/** Implied USD price of token A from one quote leg A→B and B's USD price, at `expo` (default −8). */
export function impliedPrice(
  leg: { inAmount: bigint; outAmount: bigint },
  decimalsA: number,
  decimalsB: number,
  priceB: ScaledPrice,
  expo = -8,
): ScaledPrice {
  // price_A = (out / 10^dB) × pB × 10^eB / (in / 10^dA), expressed as mantissa × 10^expo.
  let num = leg.outAmount * priceB.price * pow10(decimalsA);
  let den = leg.inAmount * pow10(decimalsB);
  const shift = priceB.expo - expo; // multiply by 10^shift
  if (shift >= 0) num *= pow10(shift);
  else den *= pow10(-shift);
  return { price: den === 0n ? 0n : num / den, expo };
}

/** Converts lamports to base units of another token through USD prices (rounded up: fees are costs). */
export function lamportsIn(lamports: bigint, solPrice: ScaledPrice, token: { decimals: number; price: ScaledPrice }): bigint {
  // value_usd = lamports/1e9 × pSOL; units = value_usd / pT × 10^dT
  let num = lamports * solPrice.price * pow10(token.decimals);
  let den = token.price.price * pow10(9);
  const shift = solPrice.expo - token.price.expo;
  if (shift >= 0) num *= pow10(shift);
  else den *= pow10(-shift);
  if (den <= 0n) throw new RangeError('token price must be positive to convert fees');
  return (num + den - 1n) / den;
}

export const BASE_FEE_LAMPORTS = 5000n;

export function priorityFeeLamports(microLamportsPerCu: bigint, computeUnits: bigint): bigint {
  return (microLamportsPerCu * computeUnits + 999_999n) / 1_000_000n;
}

export interface RiskInputArgs {
  detected: OpportunityDetectedPayload;
  quote: QuoteReceivedPayload;
  priceA: OraclePrice;
  priceB: ScaledPrice;
  solPrice: ScaledPrice;
  priorityFeeMicroLamports: bigint;
  computeUnitLimit: bigint;
  solMint: string;
  /** 'reduce' for an inventory sale (one leg back to the base token). */
  purpose?: 'arbitrage' | 'reduce';
}

export function riskInput(a: RiskInputArgs): RiskCheckInput {
  const { detected, quote } = a;
  const first = quote.legs[0]!;
  const last = quote.legs[quote.legs.length - 1]!;
  const amountIn = BigInt(detected.amountIn);
  const priorityFee = priorityFeeLamports(a.priorityFeeMicroLamports, a.computeUnitLimit);
  const fees = BASE_FEE_LAMPORTS;
  const feesInInput =
    detected.route.mintA === a.solMint
      ? undefined
      : lamportsIn(fees + priorityFee, a.solPrice, { decimals: detected.route.decimalsA, price: a.priceA });
  return {
    opportunityId: detected.opportunityId,
    inputMint: detected.route.mintA,
    outputMint: last.outputMint,
    amountIn,
    expectedOut: BigInt(last.outAmount),
    expectedProfit: BigInt(quote.expectedProfit),
    feesEstimate: fees,
    priorityFee,
    ...(feesInInput === undefined ? {} : { feesInInputBaseUnits: feesInInput }),
    slippageBps: Math.max(...quote.legs.map((l) => l.slippageBps)),
    notionalUsdMicros: usdMicros(amountIn, detected.route.decimalsA, a.priceA),
    pyth: { price: a.priceA.price, expo: a.priceA.expo, conf: a.priceA.conf, publishTime: a.priceA.publishTime },
    purpose: a.purpose ?? 'arbitrage',
    quoteImpliedPrice: impliedPrice(
      { inAmount: BigInt(first.inAmount), outAmount: BigInt(first.outAmount) },
      detected.route.decimalsA,
      detected.route.decimalsB,
      a.priceB,
    ),
  };
}

/** Every address the trade touches, for sanctions screening: signer, mints and the route's pools. */
export function counterparties(detected: OpportunityDetectedPayload, quote: QuoteReceivedPayload, signer: string): string[] {
  const out = new Set<string>([signer, detected.route.mintA, detected.route.mintB]);
  for (const leg of quote.legs) {
    out.add(leg.inputMint);
    out.add(leg.outputMint);
    if (Array.isArray(leg.routePlan)) {
      for (const step of leg.routePlan as { swapInfo?: { ammKey?: unknown; feeMint?: unknown } }[]) {
        if (typeof step?.swapInfo?.ammKey === 'string') out.add(step.swapInfo.ammKey);
      }
    }
  }
  return [...out];
}

export function screenedTrade(detected: OpportunityDetectedPayload, quote: QuoteReceivedPayload, signer: string, notionalUsdMicros: bigint, at: string): ScreenedTrade {
  return { opportunityId: detected.opportunityId, counterparties: counterparties(detected, quote, signer), notionalUsdMicros, at };
}
