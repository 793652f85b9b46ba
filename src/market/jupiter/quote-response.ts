// Reads Jupiter's QuoteResponse (and swap) JSON, checking the fields an audit relies on with one
// zod declaration each. The generated model of @jup-ag/api trusts the body blindly (a missing
// routePlan crashes it) and drops unknown fields, so we validate the raw JSON ourselves and keep it whole.
import { z } from 'zod';
import { MarketDataError, type MarketDataSource } from '../errors.js';
import type { JsonValue, Quote, SwapTransaction } from '../quote-source.port.js';

const INT = /^(0|[1-9]\d*)$/;
const DEC = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

const got = (text: string) => (iss: { input?: unknown }) => `${text} (got ${JSON.stringify(iss.input)})`;
const nonEmpty = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
const amount = z.string({ error: got('must be an integer amount written as a string') }).regex(INT, { error: got('must be an integer amount written as a string') });
const count = (text = 'must be a non-negative integer') => z.int({ error: got(text) }).min(0, { error: got(text) });

/**
 * The fields of Jupiter's QuoteResponse an audit relies on, declared once. Unknown fields are
 * allowed (Jupiter adds some; the whole body is kept as `raw`). Amounts are integer strings,
 * never JS numbers; priceImpactPct, written as a number by older answers, becomes exact decimal text.
 */
const quoteResponse = z.looseObject({
  inputMint: nonEmpty,
  outputMint: nonEmpty,
  inAmount: amount,
  outAmount: amount,
  otherAmountThreshold: amount,
  slippageBps: count(),
  swapMode: z.unknown().transform((v) => (typeof v === 'string' ? v : 'ExactIn')),
  // Read by priceImpact(): older answers wrote it as a number, kept exact through its JSON text.
  priceImpactPct: z.unknown(),
  routePlan: z
    .array(z.looseObject({ swapInfo: z.looseObject({}, { error: 'must be an object' }) }, { error: 'must be an object' }).transform((step) => step as JsonValue), { error: 'must be a non-empty array' })
    .min(1, { error: 'must be a non-empty array' }),
  contextSlot: count().nullish(),
  timeTaken: z.unknown(),
});
/** priceImpactPct as exact decimal text, or null when it is not a decimal. */
function priceImpact(v: unknown): string | null {
  const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  return typeof text === 'string' && DEC.test(text) ? plainDecimal(text) : null;
}

const swapResponse = z.looseObject({
  swapTransaction: z.string({ error: 'must be a base64 string' }).min(1, { error: 'must be a base64 string' }).regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: 'must be a base64 string' }),
  lastValidBlockHeight: count(),
  prioritizationFeeLamports: count().nullish(),
});

const problemsOf = (error: z.ZodError) =>
  error.issues.map((i) => {
    const at = i.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');
    if (i.path.length === 2 && i.path[0] === 'routePlan') return `${at}.swapInfo must be an object`;
    return at ? `${at} ${i.message}` : i.message;
  });

const isObj = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseQuoteResponse(body: unknown, quotedAt: string, source: MarketDataSource = 'jupiter'): Quote {
  if (!isObj(body)) throw malformed(source, ['the body is not a JSON object']);
  const r = quoteResponse.safeParse(body);
  const problems = r.success ? [] : problemsOf(r.error);
  const priceImpactPct = priceImpact(body.priceImpactPct);
  if (priceImpactPct === null) problems.push(`priceImpactPct must be a decimal string (got ${JSON.stringify(body.priceImpactPct)})`);
  if (!r.success || priceImpactPct === null) throw malformed(source, problems);
  const q = r.data;
  const timeTaken = typeof q.timeTaken === 'number' && Number.isFinite(q.timeTaken) && q.timeTaken >= 0 ? plainDecimal(String(q.timeTaken)) : undefined;
  return {
    inputMint: q.inputMint,
    outputMint: q.outputMint,
    inAmount: BigInt(q.inAmount),
    outAmount: BigInt(q.outAmount),
    otherAmountThreshold: BigInt(q.otherAmountThreshold),
    slippageBps: q.slippageBps,
    swapMode: q.swapMode,
    priceImpactPct,
    routePlan: body.routePlan as JsonValue,
    contextSlot: q.contextSlot === undefined || q.contextSlot === null ? null : BigInt(q.contextSlot),
    ...(timeTaken === undefined ? {} : { timeTaken }),
    quotedAt,
    raw: body,
  };
}

export function parseSwapResponse(body: unknown, source: MarketDataSource = 'jupiter'): SwapTransaction {
  if (!isObj(body)) throw malformed(source, ['the body is not a JSON object'], 'swap');
  const r = swapResponse.safeParse(body);
  if (!r.success) throw malformed(source, problemsOf(r.error), 'swap');
  const fee = r.data.prioritizationFeeLamports;
  return {
    swapTransaction: r.data.swapTransaction,
    lastValidBlockHeight: BigInt(r.data.lastValidBlockHeight),
    ...(typeof fee === 'number' ? { prioritizationFeeLamports: BigInt(fee) } : {}),
    raw: body,
  };
}

function malformed(source: MarketDataSource, problems: string[], what = 'quote'): MarketDataError {
  return new MarketDataError('MALFORMED_RESPONSE', source, `${source} ${what} response has the wrong shape: ${problems.join('; ')}`);
}

/** "1.5e-7" → "0.00000015": events store decimals without exponents. */
export function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = int! + frac;
  let point = int!.length + Number(exp);
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) {
    digits = digits + '0'.repeat(point - digits.length);
  }
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(point).replace(/0+$/, '');
  const out = fraction ? `${whole}.${fraction}` : whole;
  return sign && /[1-9]/.test(out) ? `-${out}` : out;
}
