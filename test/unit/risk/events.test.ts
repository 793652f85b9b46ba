import { describe, expect, it } from 'vitest';
import { assessRisk, riskAssessedPayload } from '../../../src/risk/checks.js';
import { evolve } from '../../../src/risk/engine-state.js';
import { EnginePaused, RiskAssessed, RiskLimitsChanged, riskEvents } from '../../../src/risk/events.js';
import { riskLimitsToJson } from '../../../src/risk/limits.js';
import { NOW, NOW_MS, USDC, event, fresh, given, input } from './fixtures.js';
import { expectStorable, registryOf, validationError } from '../../support/registry.js';

const registry = registryOf(...riskEvents);

describe('risk events pass the registry', () => {
  it('exports all five event types at version 1', () => {
    expect(riskEvents.map((d) => `${d.type}@${d.version}`)).toEqual([
      'RiskAssessed@1',
      'EnginePaused@1',
      'EngineResumed@1',
      'EngineReducing@1',
      'RiskLimitsChanged@1',
    ]);
  });

  it('an approved RiskAssessed is storable and the fold reads it back as an order in flight', () => {
    const p = riskAssessedPayload(input(), fresh(), NOW);
    expect(p.approved).toBe(true);
    expectStorable(registry, RiskAssessed, p);
    const after = evolve(fresh(), { type: 'RiskAssessed', payload: JSON.parse(JSON.stringify(p)), recordedAt: NOW.toISOString() });
    expect(after.recentOrders).toEqual([NOW_MS]);
    expect(after.inFlight['opp-1']?.notionalUsdMicros).toBe(input().notionalUsdMicros);
  });

  it('a rejected RiskAssessed with every check failing or unmeasurable is storable', () => {
    const state = given([event('EnginePaused', { actor: 'a', reason: 'b', cause: 'operator' })]);
    const bad = input({
      inputMint: USDC,
      slippageBps: 9_999,
      pyth: { price: 0n, conf: 1n, expo: -8, publishTime: 0 },
      notionalUsdMicros: 10n ** 30n,
    });
    const a = assessRisk(bad, state, NOW);
    expect(a.failedChecks.length).toBeGreaterThanOrEqual(7);
    expectStorable(registry, RiskAssessed, riskAssessedPayload(bad, state, NOW, a));
  });

  it('the registry refuses a RiskAssessed carrying a bigint or a float', () => {
    const p = riskAssessedPayload(input(), fresh(), NOW);
    expect(validationError(registry, RiskAssessed, { ...p, amountIn: 5n })).toMatch(/amountIn/);
    expect(validationError(registry, RiskLimitsChanged, { actor: 'a', reason: 'b', limits: { ...riskLimitsToJson(fresh().limits), maxSlippageBps: 1.5 } })).toMatch(
      /maxSlippageBps/,
    );
  });

  it('the registry refuses an EnginePaused with an unknown cause', () => {
    expect(validationError(registry, EnginePaused, { actor: 'a', reason: 'b', cause: 'cosmic_rays' })).toMatch(/cause must be one of/);
  });
});
