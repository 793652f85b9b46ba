// Market events: payload validation and making upstream JSON storable.
import { describe, expect, it } from 'vitest';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { storableJsonProblems } from '../../../src/ledger/schema.js';
import { marketEvents, OpportunityDetected, QuoteReceived, toStorableJson } from '../../../src/market/events.js';
import { plainDecimal } from '../../../src/market/jupiter/quote-response.js';
import { SOL, USDC } from '../../../src/shared/tokens.js';

const meta = { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' };
const registry = new EventTypeRegistry(false).register(...marketEvents);

describe('toStorableJson', () => {
  it('turns floats, bigints and NUL characters into storable values and drops undefined', () => {
    const raw = { timeTaken: 0.0152, slot: 312_000_000, big: 2n ** 70n, unsafe: 2 ** 60, nested: [{ x: 1.5, u: undefined }, undefined], s: 'a\u0000b', nan: NaN };
    expect(storableJsonProblems(raw)).not.toEqual([]);
    const out = toStorableJson(raw);
    expect(storableJsonProblems(out)).toEqual([]);
    expect(out).toEqual({
      timeTaken: '0.0152',
      slot: 312_000_000,
      big: '1180591620717411303424',
      // JSON.parse already rounded it; its shortest text is what upstream most likely wrote.
      unsafe: '1152921504606847000',
      nested: [{ x: '1.5' }, null],
      s: 'a\\u0000b',
      nan: 'NaN',
    });
  });

  it('keeps very deep values as JSON text instead of failing the depth rule', () => {
    let deep: unknown = { leaf: 1 };
    for (let i = 0; i < 80; i++) deep = { d: deep };
    expect(storableJsonProblems(toStorableJson(deep))).toEqual([]);
  });
});

describe('market event schemas', () => {
  const detected = {
    opportunityId: '0b6f4c1e-7d0a-4d5e-9a51-3f1c2b7e8d90',
    route: { mintA: SOL.mint, mintB: USDC.mint, symbolA: 'SOL', symbolB: 'USDC', decimalsA: 9, decimalsB: 6 },
    amountIn: '1000000000',
    source: 'simulated' as const,
    detectedAt: '2026-11-25T10:00:00.000Z',
    reduction: null,
  };

  it('accepts a valid OpportunityDetected and rejects a float amount or unknown source', () => {
    expect(() => registry.validate(newEvent(OpportunityDetected, detected, meta))).not.toThrow();
    expect(() => registry.validate(newEvent(OpportunityDetected, { ...detected, amountIn: '1.5' }, meta))).toThrow(/amountIn/);
    expect(() => registry.validate(newEvent(OpportunityDetected, { ...detected, source: 'orca' as never }, meta))).toThrow(/source/);
  });

  it('rejects a QuoteReceived whose raw still holds a float', () => {
    const leg = {
      inputMint: SOL.mint,
      outputMint: USDC.mint,
      inAmount: '1',
      outAmount: '1',
      otherAmountThreshold: '1',
      slippageBps: 50,
      priceImpactPct: '0',
      routePlan: [],
      contextSlot: null,
      quotedAt: '2026-11-25T10:00:00.000Z',
      raw: { timeTaken: 0.01 },
    };
    const payload = {
      opportunityId: detected.opportunityId,
      legs: [leg],
      expectedProfit: '-12',
      price: { feedId: SOL.pythFeedId, price: '15000000000', conf: '1', expo: -8, publishTime: 1 },
    };
    expect(() => registry.validate(newEvent(QuoteReceived, payload, meta))).toThrow(/timeTaken/);
    const fixed = { ...payload, legs: [{ ...leg, raw: toStorableJson(leg.raw) }] };
    expect(() => registry.validate(newEvent(QuoteReceived, fixed, meta))).not.toThrow();
  });
});

describe('plainDecimal', () => {
  it('writes exponent notation as a plain decimal', () => {
    expect(plainDecimal('1.5e-7')).toBe('0.00000015');
    expect(plainDecimal('2E3')).toBe('2000');
    expect(plainDecimal('0.0120')).toBe('0.012');
    expect(plainDecimal('-0.00')).toBe('0');
    expect(plainDecimal('-3.25e1')).toBe('-32.5');
  });
});
