// Hermes answers parsed with zod (src/market/pyth/hermes-price-feed.ts): prices as bigint, never
// floats; extra upstream fields allowed; a wrong answer names every wrong field at once.
import { describe, expect, it } from 'vitest';
import { parsePriceUpdate } from '../../../src/market/pyth/hermes-price-feed.js';
import { MarketDataError } from '../../../src/market/errors.js';

const ID = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const good = {
  binary: { encoding: 'hex', data: [] },
  parsed: [{ id: ID, price: { price: '15012345678', conf: '1234567', expo: -8, publish_time: 1_764_000_000 }, ema_price: {}, metadata: { slot: 123, proof_available_time: 1 } }],
};

describe('parsePriceUpdate', () => {
  it('reads prices as bigint and keeps the slot, ignoring fields it does not use', () => {
    expect(parsePriceUpdate(good, 'latest')).toEqual([{ feedId: ID, price: 15_012_345_678n, conf: 1_234_567n, expo: -8, publishTime: 1_764_000_000, slot: 123n }]);
  });

  it('leaves out a slot that is not a count', () => {
    const [p] = parsePriceUpdate({ parsed: [{ ...good.parsed[0], metadata: { slot: 1.5 } }] }, 'latest');
    expect(p).not.toHaveProperty('slot');
  });

  it('names every wrong field at once', () => {
    const bad = { parsed: [{ id: 'nope', price: { price: 150.12, conf: '-1', expo: 0.5, publish_time: -1 } }] };
    let err: unknown;
    try {
      parsePriceUpdate(bad, 'latest');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MarketDataError);
    expect((err as MarketDataError).code).toBe('MALFORMED_RESPONSE');
    const message = (err as Error).message;
    for (const part of ['parsed[0].id must be a 64-hex-digit feed id', 'parsed[0].price.price must be an integer string', 'parsed[0].price.conf must be a non-negative integer string', 'parsed[0].price.expo must be an integer', 'parsed[0].price.publish_time must be unix seconds']) {
      expect(message).toContain(part);
    }
    expect(() => parsePriceUpdate({ parsed: {} }, 'stream')).toThrow(/parsed must be an array \(ask with parsed=true\)/);
  });
});
