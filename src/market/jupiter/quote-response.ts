// Reads Jupiter's QuoteResponse JSON into a Quote, checking the fields an audit relies on. The
// generated model of @jup-ag/api trusts the body blindly (a missing routePlan crashes it) and drops
// unknown fields, so we validate the raw JSON ourselves and keep it whole.
import { MarketDataError, type MarketDataSource } from '../errors.js';
import type { JsonValue, Quote, SwapTransaction } from '../quote-source.port.js';

const INT = /^(0|[1-9]\d*)$/;
const DEC = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

const isObj = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseQuoteResponse(body: unknown, quotedAt: string, source: MarketDataSource = 'jupiter'): Quote {
  const problems: string[] = [];
  if (!isObj(body)) throw malformed(source, ['the body is not a JSON object']);
  const s = (k: string) => {
    const v = body[k];
    if (typeof v !== 'string' || v.length === 0) problems.push(`${k} must be a non-empty string`);
    return String(v);
  };
  const amount = (k: string) => {
    const v = body[k];
    if (typeof v !== 'string' || !INT.test(v)) {
      problems.push(`${k} must be an integer amount written as a string (got ${JSON.stringify(v)})`);
      return 0n;
    }
    return BigInt(v);
  };
  const inputMint = s('inputMint');
  const outputMint = s('outputMint');
  const inAmount = amount('inAmount');
  const outAmount = amount('outAmount');
  const otherAmountThreshold = amount('otherAmountThreshold');
  const slippageBps = body.slippageBps;
  if (typeof slippageBps !== 'number' || !Number.isSafeInteger(slippageBps) || slippageBps < 0) {
    problems.push(`slippageBps must be a non-negative integer (got ${JSON.stringify(slippageBps)})`);
  }
  const swapMode = typeof body.swapMode === 'string' ? body.swapMode : 'ExactIn';
  let priceImpactPct = body.priceImpactPct;
  // Older responses wrote it as a number; keep it exact by going through its JSON text.
  if (typeof priceImpactPct === 'number' && Number.isFinite(priceImpactPct)) priceImpactPct = String(priceImpactPct);
  if (typeof priceImpactPct !== 'string' || !DEC.test(priceImpactPct)) {
    problems.push(`priceImpactPct must be a decimal string (got ${JSON.stringify(body.priceImpactPct)})`);
  } else {
    priceImpactPct = plainDecimal(priceImpactPct);
  }
  const routePlan = body.routePlan;
  if (!Array.isArray(routePlan) || routePlan.length === 0) {
    problems.push('routePlan must be a non-empty array');
  } else {
    routePlan.forEach((step, i) => {
      if (!isObj(step) || !isObj(step.swapInfo)) problems.push(`routePlan[${i}].swapInfo must be an object`);
    });
  }
  let contextSlot: bigint | null = null;
  if (body.contextSlot !== undefined && body.contextSlot !== null) {
    if (typeof body.contextSlot === 'number' && Number.isSafeInteger(body.contextSlot) && body.contextSlot >= 0) {
      contextSlot = BigInt(body.contextSlot);
    } else {
      problems.push(`contextSlot must be a non-negative integer (got ${JSON.stringify(body.contextSlot)})`);
    }
  }
  const timeTaken = typeof body.timeTaken === 'number' && Number.isFinite(body.timeTaken) && body.timeTaken >= 0 ? plainDecimal(String(body.timeTaken)) : undefined;
  if (problems.length) throw malformed(source, problems);
  return {
    inputMint,
    outputMint,
    inAmount,
    outAmount,
    otherAmountThreshold,
    slippageBps: slippageBps as number,
    swapMode,
    priceImpactPct: priceImpactPct as string,
    routePlan: routePlan as JsonValue,
    contextSlot,
    ...(timeTaken === undefined ? {} : { timeTaken }),
    quotedAt,
    raw: body,
  };
}

export function parseSwapResponse(body: unknown, source: MarketDataSource = 'jupiter'): SwapTransaction {
  if (!isObj(body)) throw malformed(source, ['the body is not a JSON object'], 'swap');
  const problems: string[] = [];
  const tx = body.swapTransaction;
  if (typeof tx !== 'string' || tx.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(tx)) {
    problems.push('swapTransaction must be a base64 string');
  }
  const lvbh = body.lastValidBlockHeight;
  if (typeof lvbh !== 'number' || !Number.isSafeInteger(lvbh) || lvbh < 0) {
    problems.push(`lastValidBlockHeight must be a non-negative integer (got ${JSON.stringify(lvbh)})`);
  }
  const fee = body.prioritizationFeeLamports;
  if (fee !== undefined && fee !== null && (typeof fee !== 'number' || !Number.isSafeInteger(fee) || fee < 0)) {
    problems.push(`prioritizationFeeLamports must be a non-negative integer (got ${JSON.stringify(fee)})`);
  }
  if (problems.length) throw malformed(source, problems, 'swap');
  return {
    swapTransaction: tx as string,
    lastValidBlockHeight: BigInt(lvbh as number),
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
