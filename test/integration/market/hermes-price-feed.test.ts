// The Hermes adapter through the real @pythnetwork/hermes-client against the local Hermes stand-in.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MarketDataError } from '../../../src/market/errors.js';
import type { PriceObservation } from '../../../src/market/price-feed.port.js';
import { HermesPriceFeed } from '../../../src/market/pyth/hermes-price-feed.js';
import { SOL, USDC } from '../../../src/shared/tokens.js';
import { startHermesStandIn, type HermesStandIn } from '../../stand-ins/hermes-server.js';

const fastRetry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
let hermes: HermesStandIn;

beforeAll(async () => {
  hermes = await startHermesStandIn({ slowMs: 2_000 });
});
afterAll(() => hermes.close());
afterEach(() => {
  hermes.fail('none');
  hermes.requests.length = 0;
});

function setPrices() {
  hermes.setPrice(SOL.pythFeedId, { price: '15012345678', conf: '7430817', expo: -8, publishTime: 1_764_000_000, slot: 380_000_123 });
  hermes.setPrice(USDC.pythFeedId, { price: '99987654', conf: '81234', expo: -8, publishTime: 1_764_000_001 });
}

const feed = (opts: Partial<ConstructorParameters<typeof HermesPriceFeed>[0]> = {}) =>
  new HermesPriceFeed({ endpoint: hermes.url, timeoutMs: 300, retry: fastRetry, ...opts });

async function failure(p: Promise<unknown>): Promise<MarketDataError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MarketDataError);
  return e as MarketDataError;
}

describe('HermesPriceFeed.latest', () => {
  it('parses prices and confidence as bigint, with expo, publish time and slot', async () => {
    setPrices();
    const got = await feed().latest([`0x${SOL.pythFeedId}`, USDC.pythFeedId.toUpperCase()]);
    expect(got).toEqual([
      { feedId: SOL.pythFeedId, price: 15_012_345_678n, conf: 7_430_817n, expo: -8, publishTime: 1_764_000_000, slot: 380_000_123n },
      { feedId: USDC.pythFeedId, price: 99_987_654n, conf: 81_234n, expo: -8, publishTime: 1_764_000_001, slot: 310_000_000n },
    ]);
    expect(hermes.requests).toEqual([{ path: '/v2/updates/price/latest', ids: [SOL.pythFeedId, USDC.pythFeedId] }]);
  });

  it('retries after one 500 and succeeds', async () => {
    setPrices();
    hermes.fail('http-500', 1);
    const got = await feed().latest([SOL.pythFeedId]);
    expect(got[0]!.price).toBe(15_012_345_678n);
    expect(hermes.requests).toHaveLength(2);
  });

  it('gives up on persistent 500 after the bounded number of attempts', async () => {
    setPrices();
    hermes.fail('http-500');
    const e = await failure(feed().latest([SOL.pythFeedId]));
    expect(e.code).toBe('UPSTREAM_ERROR');
    expect(e.status).toBe(500);
    expect(e.attempts).toBe(3);
    expect(e.message).toContain('HTTP 500');
    expect(hermes.requests).toHaveLength(3);
  });

  it('maps 429 to RATE_LIMITED (retried, then reported)', async () => {
    setPrices();
    hermes.fail('http-429');
    const e = await failure(feed({ retry: { ...fastRetry, maxAttempts: 2 } }).latest([SOL.pythFeedId]));
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.retryable).toBe(true);
    expect(hermes.requests).toHaveLength(2);
  });

  it('maps a slow answer to TIMEOUT', async () => {
    setPrices();
    hermes.fail('slow');
    const e = await failure(feed({ timeoutMs: 150, retry: { ...fastRetry, maxAttempts: 2 } }).latest([SOL.pythFeedId]));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('150 ms');
    expect(e.attempts).toBe(2);
  });

  it('maps a malformed body to MALFORMED_RESPONSE without retrying', async () => {
    setPrices();
    hermes.fail('malformed-json');
    const e = await failure(feed().latest([SOL.pythFeedId]));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toContain('not JSON');
    expect(hermes.requests).toHaveLength(1);
  });

  it('maps a wrongly shaped body to MALFORMED_RESPONSE naming the field', async () => {
    setPrices();
    hermes.fail('wrong-shape');
    const e = await failure(feed().latest([SOL.pythFeedId]));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toMatch(/parsed\.0\.price/);
  });

  it('maps an unknown feed (404) to REJECTED without retrying', async () => {
    setPrices();
    const unknown = 'ab'.repeat(32);
    const e = await failure(feed().latest([unknown]));
    expect(e.code).toBe('REJECTED');
    expect(e.status).toBe(404);
    expect(e.message).toContain(unknown);
    expect(hermes.requests).toHaveLength(1);
  });

  it('refuses ids that are not feed ids before any request', async () => {
    const e = await failure(feed().latest(['SOL/USD']));
    expect(e.code).toBe('INVALID_REQUEST');
    expect(hermes.requests).toHaveLength(0);
  });

  it('maps a refused connection to UNREACHABLE', async () => {
    const gone = await startHermesStandIn();
    const url = gone.url;
    await gone.close();
    const e = await failure(new HermesPriceFeed({ endpoint: url, timeoutMs: 300, retry: { ...fastRetry, maxAttempts: 2 } }).latest([SOL.pythFeedId]));
    expect(e.code).toBe('UNREACHABLE');
    expect(e.attempts).toBe(2);
  });
});

/** Collects stream callbacks and lets a test wait for the nth one. */
function collector() {
  const prices: PriceObservation[] = [];
  const errors: MarketDataError[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const until = (ok: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (ok() ? resolve() : waiters.push(check));
      check();
    });
  return {
    prices,
    errors,
    onPrice: (p: PriceObservation) => {
      prices.push(p);
      wake();
    },
    onError: (e: MarketDataError) => {
      errors.push(e);
      wake();
    },
    prices_: (n: number) => until(() => prices.length >= n),
    errors_: (n: number) => until(() => errors.length >= n),
  };
}

describe('HermesPriceFeed.stream', () => {
  it('delivers the first update and pushed updates; close() ends the connection and the updates', async () => {
    setPrices();
    const c = collector();
    const s = feed().stream([SOL.pythFeedId], c.onPrice, c.onError);
    await c.prices_(1);
    expect(c.prices[0]).toMatchObject({ feedId: SOL.pythFeedId, price: 15_012_345_678n, expo: -8 });

    hermes.setPrice(SOL.pythFeedId, { price: '15100000000', conf: '5000000', expo: -8, publishTime: 1_764_000_002 });
    hermes.push();
    await c.prices_(2);
    expect(c.prices[1]).toMatchObject({ price: 15_100_000_000n, conf: 5_000_000n, publishTime: 1_764_000_002 });

    s.close();
    await hermes.waitForNoStreams();
    hermes.push();
    expect(hermes.streamCount()).toBe(0);
    expect(c.prices).toHaveLength(2);
    expect(c.errors).toEqual([]);
    expect(hermes.requests[0]!.path).toBe('/v2/updates/price/stream');
  });

  it('reports a malformed update as an error and keeps streaming', async () => {
    setPrices();
    const c = collector();
    const s = feed().stream([SOL.pythFeedId, USDC.pythFeedId], c.onPrice, c.onError);
    await c.prices_(2);
    hermes.pushRaw('{"parsed": [ {"id": ');
    await c.errors_(1);
    expect(c.errors[0]!.code).toBe('MALFORMED_RESPONSE');
    hermes.pushRaw(JSON.stringify({ parsed: [{ id: SOL.pythFeedId, price: { price: 'x' } }] }));
    await c.errors_(2);
    expect(c.errors[1]!.code).toBe('MALFORMED_RESPONSE');
    hermes.push([USDC.pythFeedId]);
    await c.prices_(3);
    expect(c.prices[2]!.feedId).toBe(USDC.pythFeedId);
    s.close();
    await hermes.waitForNoStreams();
  });

  it('reconnects after a 500 and then delivers prices', async () => {
    setPrices();
    hermes.fail('http-500', 1);
    const c = collector();
    const s = feed({ streamRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }).stream([SOL.pythFeedId], c.onPrice, c.onError);
    await c.prices_(1);
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500 });
    expect(c.prices[0]!.price).toBe(15_012_345_678n);
    s.close();
    await hermes.waitForNoStreams();
  });

  it('stops with STREAM_FAILED when the failures persist', async () => {
    setPrices();
    hermes.fail('http-500');
    const c = collector();
    feed({ streamRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }).stream([SOL.pythFeedId], c.onPrice, c.onError);
    await c.errors_(3);
    expect(c.errors.map((e) => e.code)).toEqual(['UPSTREAM_ERROR', 'UPSTREAM_ERROR', 'STREAM_FAILED']);
    expect(c.errors[2]!.attempts).toBe(3);
    expect(c.prices).toEqual([]);
    expect(hermes.requests.filter((r) => r.path === '/v2/updates/price/stream')).toHaveLength(3);
  });

  it('stops at once with STREAM_FAILED when Hermes refuses the feeds (404)', async () => {
    setPrices();
    const c = collector();
    feed().stream(['cd'.repeat(32)], c.onPrice, c.onError);
    await c.errors_(1);
    expect(c.errors[0]).toMatchObject({ code: 'STREAM_FAILED', status: 404 });
    expect(hermes.requests).toHaveLength(1);
  });

  it('reports a price handler that throws and keeps going', async () => {
    setPrices();
    const c = collector();
    let calls = 0;
    const s = feed().stream(
      [SOL.pythFeedId],
      (p) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        c.onPrice(p);
      },
      c.onError,
    );
    await c.errors_(1);
    expect(c.errors[0]!.code).toBe('HANDLER_FAILED');
    expect(c.errors[0]!.message).toContain('boom');
    hermes.push();
    await c.prices_(1);
    s.close();
    await hermes.waitForNoStreams();
  });
});
