// Events of the market data context: an opportunity was spotted, and the quotes (with the oracle
// price they were checked against) that priced it. QuoteReceived carries everything an auditor
// needs to redo the arithmetic later, including upstream's raw response made storable.
import type { z } from 'zod';
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { array, baseUnits, decimal, int, isoTime, json, nullable, obj, optional, str, uuid } from '../ledger/schema.js';
import type { OpportunityCandidate } from './opportunity-source.port.js';
import type { PriceObservation } from './price-feed.port.js';
import type { Quote, RouteQuote } from './quote-source.port.js';

const mint = () => str({ min: 32, max: 44, pattern: /^[1-9A-HJ-NP-Za-km-z]+$/ });
const feedId = () => str({ pattern: /^[0-9a-f]{64}$/ });

/** A route's two mints with their symbols and decimals (a round trip A → B → A, or a sale A → B). */
export const routeSchema = obj({
  mintA: mint(),
  mintB: mint(),
  symbolA: str({ min: 1, max: 16 }),
  symbolB: str({ min: 1, max: 16 }),
  decimalsA: int({ min: 0, max: 18 }),
  decimalsB: int({ min: 0, max: 18 }),
});

const detectedV1 = {
  opportunityId: uuid(),
  route: routeSchema,
  /** Base units of mintA. */
  amountIn: baseUnits(),
  source: str({ oneOf: ['simulated', 'jupiter'] }),
  detectedAt: isoTime(),
};
/** Version 1 as written before inventory sales: every opportunity an arbitrage round trip. */
export const OpportunityDetectedV1Schema = obj(detectedV1);
export type OpportunityDetectedV1Payload = z.output<typeof OpportunityDetectedV1Schema>;

/**
 * Why an inventory sale was started: a flatten an operator asked for (POST /engine/flatten, its
 * request's event id) or the REDUCING mode winding the inventory down.
 */
export const reductionSchema = obj({
  trigger: str({ oneOf: ['flatten', 'reducing'] }),
  /** The FlattenRequested event that started it (null for the REDUCING mode's own sales). */
  requestId: nullable(uuid()),
  actor: str({ min: 1, max: 200 }),
  reason: str({ min: 1, max: 2000 }),
});
export type ReductionPayload = z.output<typeof reductionSchema>;

/**
 * A saga starts. Version 2 adds `reduction`: null for an arbitrage round trip A → B → A; set for
 * an inventory sale, a single leg mintA → mintB where mintA is the inventory sold and mintB the
 * base token it goes back to (source 'inventory'). v1 rows upcast to reduction: null.
 */
export const OpportunityDetected = defineEvent({
  type: 'OpportunityDetected',
  version: 2,
  payload: obj({ ...detectedV1, source: str({ oneOf: ['simulated', 'jupiter', 'inventory'] }), reduction: reductionSchema.nullable() }),
  upcasters: {
    1: (p: OpportunityDetectedV1Payload) => ({ ...p, reduction: null }),
  },
});
export type OpportunityDetectedPayload = PayloadOf<typeof OpportunityDetected>;

const quoteLegSchema = obj({
  inputMint: mint(),
  outputMint: mint(),
  inAmount: baseUnits(),
  outAmount: baseUnits(),
  otherAmountThreshold: baseUnits(),
  slippageBps: int({ min: 0, max: 10_000 }),
  /** Decimal string, a fraction ("0.0012" = 0.12 %). */
  priceImpactPct: decimal({ signed: true }),
  routePlan: json(),
  /** Slot as a string; null when upstream did not report one. */
  contextSlot: nullable(baseUnits()),
  /** Seconds upstream took, decimal string. */
  timeTaken: optional(decimal()),
  quotedAt: isoTime(),
  /** Upstream's response with floats written as strings (see toStorableJson). */
  raw: json(),
});
export type QuoteLegPayload = z.output<typeof quoteLegSchema>;

const quotePriceSchema = obj({
  feedId: feedId(),
  price: baseUnits({ signed: true }),
  conf: baseUnits(),
  expo: int({ min: -30, max: 30 }),
  /** Unix seconds. */
  publishTime: int({ min: 0 }),
});
export type QuotePricePayload = z.output<typeof quotePriceSchema>;

export const QuoteReceived = defineEvent({
  type: 'QuoteReceived',
  version: 1,
  payload: obj({
    opportunityId: uuid(),
    legs: array(quoteLegSchema, { min: 1, max: 8 }),
    /** Base units of the first leg's input mint; negative is a loss. */
    expectedProfit: baseUnits({ signed: true }),
    price: quotePriceSchema,
  }),
});
export type QuoteReceivedPayload = PayloadOf<typeof QuoteReceived>;

export const marketEvents = [OpportunityDetected, QuoteReceived];

export function opportunityDetectedPayload(c: OpportunityCandidate): OpportunityDetectedPayload {
  return {
    opportunityId: c.opportunityId,
    route: { ...c.route },
    amountIn: c.amountIn.toString(),
    source: c.source,
    detectedAt: c.detectedAt,
    reduction: null,
  };
}

export function quoteLegPayload(q: Quote): QuoteLegPayload {
  return {
    inputMint: q.inputMint,
    outputMint: q.outputMint,
    inAmount: q.inAmount.toString(),
    outAmount: q.outAmount.toString(),
    otherAmountThreshold: q.otherAmountThreshold.toString(),
    slippageBps: q.slippageBps,
    priceImpactPct: q.priceImpactPct,
    routePlan: toStorableJson(q.routePlan),
    contextSlot: q.contextSlot === null ? null : q.contextSlot.toString(),
    ...(q.timeTaken === undefined ? {} : { timeTaken: q.timeTaken }),
    quotedAt: q.quotedAt,
    raw: toStorableJson(q.raw),
  };
}

export function quotePricePayload(p: PriceObservation): QuotePricePayload {
  return { feedId: p.feedId, price: p.price.toString(), conf: p.conf.toString(), expo: p.expo, publishTime: p.publishTime };
}

export function quoteReceivedPayload(opportunityId: string, rq: RouteQuote, price: PriceObservation): QuoteReceivedPayload {
  return {
    opportunityId,
    legs: rq.legs.map(quoteLegPayload),
    expectedProfit: rq.expectedProfit.toString(),
    price: quotePricePayload(price),
  };
}

/**
 * Makes any parsed JSON storable under the ledger's rules (src/ledger/schema.ts
 * storableJsonProblems): numbers that are not safe integers (Jupiter's timeTaken is a float)
 * become their shortest decimal text (what upstream most likely wrote: an integer above 2^53 was
 * already rounded by JSON.parse, which is why amounts must arrive as strings), bigints become strings, NUL characters are escaped, undefined is
 * dropped, and anything nested deeper than the store allows is kept as its JSON text.
 */
export function toStorableJson(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value.replaceAll('\u0000', '\\u0000');
  if (value instanceof Date) return value.toISOString();
  if (depth >= 60 && typeof value === 'object') return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  if (Array.isArray(value)) return value.map((x) => (x === undefined ? null : toStorableJson(x, depth + 1)));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out[k.replaceAll('\u0000', '\\u0000')] = toStorableJson(v, depth + 1);
    }
    return out;
  }
  return undefined;
}
