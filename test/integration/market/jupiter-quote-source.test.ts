// The Jupiter adapter through the real @jup-ag/api client against the local Jupiter stand-in.
import { Keypair, VersionedTransaction } from '@solana/web3.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storableJsonProblems } from '../../../src/ledger/schema.js';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { marketEvents, QuoteReceived, quoteReceivedPayload, toStorableJson } from '../../../src/market/events.js';
import { MarketDataError } from '../../../src/market/errors.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import { roundTripQuote } from '../../../src/market/quote-source.port.js';
import { SOL, USDC } from '../../../src/shared/tokens.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';

const fastRetry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const fixedNow = () => new Date('2026-11-25T10:00:00.000Z');
let jup: JupiterStandIn;

beforeAll(async () => {
  jup = await startJupiterStandIn({ slowMs: 2_000 });
  jup.setToken(SOL.mint, { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(USDC.mint, { decimals: 6, usd8: 100_000_000n });
});
afterAll(() => jup.close());
afterEach(() => {
  jup.fail('none');
  jup.requests.length = 0;
  jup.setEdgeBps(SOL.mint, USDC.mint, 0);
});

const source = (opts: Partial<ConstructorParameters<typeof JupiterQuoteSource>[0]> = {}) =>
  new JupiterQuoteSource({ basePath: jup.url, timeoutMs: 300, retry: fastRetry, now: fixedNow, ...opts });

const solToUsdc = { inputMint: SOL.mint, outputMint: USDC.mint, amount: 2_000_000_000n, slippageBps: 50 };

async function failure(p: Promise<unknown>): Promise<MarketDataError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MarketDataError);
  return e as MarketDataError;
}

describe('JupiterQuoteSource.quote', () => {
  it('returns every audit field as typed values and keeps the raw body whole', async () => {
    const q = await source().quote(solToUsdc);
    const out = jup.expectedOut(SOL.mint, USDC.mint, 2_000_000_000n);
    expect(out).toBe(299_880_000n); // 2 SOL × 150 USD less 4 bps
    expect(q).toMatchObject({
      inputMint: SOL.mint,
      outputMint: USDC.mint,
      inAmount: 2_000_000_000n,
      outAmount: out,
      otherAmountThreshold: (out * 9_950n) / 10_000n,
      slippageBps: 50,
      swapMode: 'ExactIn',
      priceImpactPct: '0.000123',
      timeTaken: '0.015257836',
      quotedAt: '2026-11-25T10:00:00.000Z',
    });
    expect(typeof q.contextSlot).toBe('bigint');
    // Fields the generated model drops are still in raw.
    expect(q.raw).toMatchObject({ swapUsdValue: '150.12', timeTaken: 0.015257836 });
    expect((q.raw as any).routePlan[0].swapInfo.feeAmount).toBe('800000');
    expect(jup.requests[0]).toMatchObject({ method: 'GET', path: '/quote', query: { amount: '2000000000', slippageBps: '50' } });
  });

  it('sends amounts above 2^53 exactly', async () => {
    const amount = 9_007_199_254_740_993n;
    const q = await source().quote({ ...solToUsdc, amount });
    expect(jup.requests[0]!.query.amount).toBe('9007199254740993');
    expect(q.inAmount).toBe(amount);
  });

  it('makes the raw response storable (timeTaken float becomes a string)', async () => {
    const q = await source().quote(solToUsdc);
    expect(storableJsonProblems(q.raw)).not.toEqual([]); // the raw float is really there
    const stored = toStorableJson(q.raw) as Record<string, unknown>;
    expect(storableJsonProblems(stored)).toEqual([]);
    expect(stored.timeTaken).toBe('0.015257836');
  });

  it('retries after one 500 and succeeds', async () => {
    jup.fail('http-500', 1);
    const q = await source().quote(solToUsdc);
    expect(q.outAmount).toBe(299_880_000n);
    expect(jup.requests).toHaveLength(2);
  });

  it('gives up on persistent 500 with UPSTREAM_ERROR after bounded attempts', async () => {
    jup.fail('http-500');
    const e = await failure(source().quote(solToUsdc));
    expect(e).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500, attempts: 3 });
    expect(jup.requests).toHaveLength(3);
  });

  it('maps 429 to RATE_LIMITED with the upstream message', async () => {
    jup.fail('http-429');
    const e = await failure(source({ retry: { ...fastRetry, maxAttempts: 2 } }).quote(solToUsdc));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', status: 429, attempts: 2 });
    expect(e.message).toContain('Rate limit exceeded');
  });

  it('maps a slow answer to TIMEOUT', async () => {
    jup.fail('slow');
    const e = await failure(source({ timeoutMs: 150, retry: { ...fastRetry, maxAttempts: 2 } }).quote(solToUsdc));
    expect(e).toMatchObject({ code: 'TIMEOUT', attempts: 2 });
  });

  it('maps a malformed body to MALFORMED_RESPONSE without retrying', async () => {
    jup.fail('malformed-json');
    const e = await failure(source().quote(solToUsdc));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toContain('not JSON');
    expect(jup.requests).toHaveLength(1);
  });

  it('maps a wrongly shaped body to MALFORMED_RESPONSE naming the fields', async () => {
    jup.fail('wrong-shape');
    const e = await failure(source().quote(solToUsdc));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toContain('outAmount');
    expect(e.message).toContain('routePlan');
  });

  it('maps "no route" (400 COULD_NOT_FIND_ANY_ROUTE) to NO_ROUTE without retrying', async () => {
    const unknownMint = 'DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263';
    const e = await failure(source().quote({ ...solToUsdc, outputMint: unknownMint }));
    expect(e).toMatchObject({ code: 'NO_ROUTE', status: 400 });
    expect(e.message).toContain('COULD_NOT_FIND_ANY_ROUTE');
    expect(jup.requests).toHaveLength(1);
  });

  it('refuses bad requests before sending them', async () => {
    const a = await failure(source().quote({ ...solToUsdc, amount: 0n }));
    const b = await failure(source().quote({ ...solToUsdc, inputMint: 'not-a-mint' }));
    const c = await failure(source().quote({ ...solToUsdc, slippageBps: 10_001 }));
    expect([a.code, b.code, c.code]).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(jup.requests).toHaveLength(0);
  });

  it('maps a refused connection to UNREACHABLE', async () => {
    const gone = await startJupiterStandIn();
    const url = gone.url;
    await gone.close();
    const e = await failure(source({ basePath: url, retry: { ...fastRetry, maxAttempts: 2 } }).quote(solToUsdc));
    expect(e).toMatchObject({ code: 'UNREACHABLE', attempts: 2 });
  });
});

describe('round trip through Jupiter', () => {
  it('quotes A → B → A with the first leg output and computes the expected profit', async () => {
    jup.setEdgeBps(SOL.mint, USDC.mint, 30); // SOL sells 0.3 % rich on the way out
    const rt = await roundTripQuote(source(), { mintA: SOL.mint, mintB: USDC.mint, amount: 1_000_000_000n, slippageBps: 30 });
    const leg1Out = jup.expectedOut(SOL.mint, USDC.mint, 1_000_000_000n);
    const leg2Out = jup.expectedOut(USDC.mint, SOL.mint, leg1Out);
    expect(rt.legs.map((l) => [l.inputMint, l.outputMint, l.inAmount, l.outAmount])).toEqual([
      [SOL.mint, USDC.mint, 1_000_000_000n, leg1Out],
      [USDC.mint, SOL.mint, leg1Out, leg2Out],
    ]);
    expect(rt.expectedProfit).toBe(leg2Out - 1_000_000_000n);
    expect(rt.expectedProfit > 0n).toBe(true);
  });

  it('reports a loss as a negative expected profit', async () => {
    const rt = await roundTripQuote(source(), { mintA: SOL.mint, mintB: USDC.mint, amount: 1_000_000_000n, slippageBps: 30 });
    expect(rt.expectedProfit < 0n).toBe(true); // two 4 bps fees, no edge
  });

  it('builds a QuoteReceived the event registry accepts', async () => {
    const rt = await roundTripQuote(source(), { mintA: SOL.mint, mintB: USDC.mint, amount: 1_000_000_000n, slippageBps: 30 });
    const payload = quoteReceivedPayload('0b6f4c1e-7d0a-4d5e-9a51-3f1c2b7e8d90', rt, {
      feedId: SOL.pythFeedId,
      price: 15_000_000_000n,
      conf: 7_000_000n,
      expo: -8,
      publishTime: 1_764_064_800,
    });
    expect(storableJsonProblems(payload)).toEqual([]);
    const registry = new EventTypeRegistry(false).register(...marketEvents);
    const ev = newEvent(QuoteReceived, payload, { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' });
    expect(() => registry.validate(ev)).not.toThrow();
    expect(payload.legs[0]!.raw).toMatchObject({ swapUsdValue: '150.12', timeTaken: '0.015257836' });
    expect(payload.legs[1]!.contextSlot).toMatch(/^\d+$/);
  });
});

describe('JupiterQuoteSource.swapTransaction', () => {
  it('returns a real VersionedTransaction for the user and forwards the raw quote untouched', async () => {
    const user = Keypair.generate().publicKey.toBase58();
    const q = await source().quote(solToUsdc);
    const stored = toStorableJson(q.raw) as any; // as it comes back from the event store
    const swap = await source().swapTransaction(stored, user);
    const tx = VersionedTransaction.deserialize(Buffer.from(swap.swapTransaction, 'base64'));
    expect(tx.message.staticAccountKeys[0]!.toBase58()).toBe(user);
    expect(typeof swap.lastValidBlockHeight).toBe('bigint');
    expect(swap.prioritizationFeeLamports).toBe(9_999n);
    const sent = jup.requests.find((r) => r.path === '/swap')!.body as any;
    expect(sent.userPublicKey).toBe(user);
    // Fields the generated serializer would drop reach Jupiter, and the float is a number again.
    expect(sent.quoteResponse.swapUsdValue).toBe('150.12');
    expect(sent.quoteResponse.timeTaken).toBe(0.015257836);
    expect(sent.quoteResponse.routePlan[0].swapInfo.feeAmount).toBe('800000');
  });

  it('maps swap failures like quote failures', async () => {
    const q = await source().quote(solToUsdc);
    jup.fail('wrong-shape');
    const e = await failure(source().swapTransaction(q.raw, Keypair.generate().publicKey.toBase58()));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toContain('swapTransaction');
  });

  it('refuses a quote that is not a quote before sending it', async () => {
    const e = await failure(source().swapTransaction({ hello: 'world' }, Keypair.generate().publicKey.toBase58()));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(jup.requests).toHaveLength(0);
  });
});
