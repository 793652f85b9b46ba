// routeQuote / roundTripQuote against a scripted quote source, and the retry policy.
import { describe, expect, it } from 'vitest';
import { MarketDataError } from '../../../src/market/errors.js';
import { roundTripQuote, routeQuote, type Quote, type QuoteRequest, type QuoteSource } from '../../../src/market/quote-source.port.js';
import { withRetries } from '../../../src/market/retry.js';

/** Each leg multiplies the amount by a fixed rate (num/den) per direction. */
function scripted(rates: Record<string, [bigint, bigint]>): QuoteSource & { calls: QuoteRequest[] } {
  const calls: QuoteRequest[] = [];
  return {
    calls,
    async quote(req) {
      calls.push(req);
      const [num, den] = rates[`${req.inputMint}>${req.outputMint}`]!;
      const out = (req.amount * num) / den;
      return {
        inputMint: req.inputMint,
        outputMint: req.outputMint,
        inAmount: req.amount,
        outAmount: out,
        otherAmountThreshold: out,
        slippageBps: req.slippageBps,
        swapMode: 'ExactIn',
        priceImpactPct: '0',
        routePlan: [],
        contextSlot: 1n,
        quotedAt: '2026-11-25T10:00:00.000Z',
        raw: {},
      } satisfies Quote;
    },
  };
}

const A = 'So11111111111111111111111111111111111111112';
const B = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const C = 'Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB';

describe('roundTripQuote', () => {
  it('spends the first leg output on the second leg and returns profit in base units of A', async () => {
    const src = scripted({ [`${A}>${B}`]: [150n, 1000n], [`${B}>${A}`]: [1010n, 150n] });
    const rt = await roundTripQuote(src, { mintA: A, mintB: B, amount: 1_000_000n, slippageBps: 25 });
    expect(src.calls).toEqual([
      { inputMint: A, outputMint: B, amount: 1_000_000n, slippageBps: 25 },
      { inputMint: B, outputMint: A, amount: 150_000n, slippageBps: 25 },
    ]);
    expect(rt.expectedProfit).toBe(10_000n);
  });

  it('quotes a configured three-leg route', async () => {
    const src = scripted({ [`${A}>${B}`]: [2n, 1n], [`${B}>${C}`]: [1n, 1n], [`${C}>${A}`]: [49n, 100n] });
    const rt = await routeQuote(src, { mints: [A, B, C, A], amount: 1_000n, slippageBps: 10 });
    expect(rt.legs).toHaveLength(3);
    expect(rt.expectedProfit).toBe(-20n);
  });

  it('refuses a route that does not come back to its first mint', async () => {
    await expect(routeQuote(scripted({}), { mints: [A, B, C], amount: 1n, slippageBps: 10 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe('withRetries', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

  it('retries retryable errors up to the bound and reports the attempts', async () => {
    let n = 0;
    const e = await withRetries(async () => {
      n++;
      throw new MarketDataError('UPSTREAM_ERROR', 'jupiter', 'HTTP 502', { status: 502 });
    }, policy).catch((x: MarketDataError) => x);
    expect(n).toBe(3);
    expect(e).toMatchObject({ code: 'UPSTREAM_ERROR', attempts: 3 });
  });

  it('does not retry errors that would not change', async () => {
    let n = 0;
    const e = await withRetries(async () => {
      n++;
      throw new MarketDataError('MALFORMED_RESPONSE', 'pyth', 'bad');
    }, policy).catch((x: MarketDataError) => x);
    expect(n).toBe(1);
    expect(e.attempts).toBe(1);
  });
});
