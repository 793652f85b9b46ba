import { describe, expect, it } from 'vitest';
import {
  ComplianceFlagRaised,
  ComplianceScreened,
  complianceEvents,
  historyFromScreened,
  screeningPayloads,
  screeningRuleSet,
} from '../../../src/compliance/events.js';
import { newEvent } from '../../../src/ledger/event-types.js';
import { InvalidEventError } from '../../../src/ledger/errors.js';
import { screen, type ComplianceRulesConfig, type ScreenedTrade } from '../../../src/compliance/rules.js';
import { SanctionsList } from '../../../src/compliance/sanctions-list.js';
import { expectStorable, registryOf, validationError } from '../../support/registry.js';

const USD = 1_000_000n;
const registry = registryOf(...complianceEvents);
const config: ComplianceRulesConfig = {
  largeTxThresholdUsdMicros: 10_000n * USD,
  velocityWindowSeconds: 60,
  velocityMaxCount: 1,
  velocityMaxNotionalUsdMicros: 25_000n * USD,
  structuringWindowSeconds: 86_400,
  structuringBandBps: 1_000,
  structuringMinCount: 2,
};
const sanctions = SanctionsList.fromAddresses(['BadGuy111111111111111111111111111111111111']);
const trade = (over: Partial<ScreenedTrade> = {}): ScreenedTrade => ({
  opportunityId: 'opp-2',
  counterparties: ['BadGuy111111111111111111111111111111111111', 'Signer11111111111111111111111111111111111111'],
  notionalUsdMicros: 30_000n * USD,
  at: '2026-03-02T12:00:00Z',
  ...over,
});

describe('compliance events pass the registry', () => {
  it('exports the four event types, ComplianceScreened at version 2 (docs/decisions/0017)', () => {
    expect(complianceEvents.map((d) => `${d.type}@${d.version}`)).toEqual([
      'ComplianceScreened@2',
      'ComplianceFlagRaised@1',
      'ComplianceFlagReviewed@1',
      'ComplianceFlagClosed@1',
    ]);
  });

  it('given a screening where every rule fires, then ComplianceScreened and each ComplianceFlagRaised are storable', () => {
    const history = [
      { opportunityId: 'opp-1', at: '2026-03-02T11:59:30.000Z', notionalUsdMicros: 9_500n * USD },
    ];
    const t = trade({ notionalUsdMicros: 9_600n * USD });
    const r = screen(t, history, { ...config, velocityMaxNotionalUsdMicros: 19_000n * USD }, sanctions);
    expect(r.flags.map((f) => f.rule)).toEqual(['sanctioned_address', 'velocity_count', 'velocity_notional', 'structuring']);
    const { screened, flagsRaised } = screeningPayloads(t, r, config, sanctions.version);
    expect(screened).toMatchObject({ opportunityId: 'opp-2', decision: 'blocked', at: '2026-03-02T12:00:00.000Z', notionalUsdMicros: '9600000000', sanctionsListVersion: sanctions.version });
    expect(screened.flags).toEqual(r.flags.map((f) => f.flagId));
    expectStorable(registry, ComplianceScreened, screened);
    expect(flagsRaised).toHaveLength(4);
    for (const f of flagsRaised) expectStorable(registry, ComplianceFlagRaised, f);

    const large = screen(trade({ counterparties: [] }), [], config, sanctions);
    for (const f of screeningPayloads(trade(), large, config).flagsRaised) expectStorable(registry, ComplianceFlagRaised, f);
  });

  it('a clear screening is storable with no flags', () => {
    const t = trade({ counterparties: [], notionalUsdMicros: 1n });
    const { screened, flagsRaised } = screeningPayloads(t, screen(t, [], config, sanctions), config);
    expect(screened.decision).toBe('clear');
    expect(flagsRaised).toEqual([]);
    expectStorable(registry, ComplianceScreened, screened);
  });

  it('the registry refuses an unknown rule or severity', () => {
    const bad = { flagId: '3f1c2d9e-8a4b-5c6d-9e0f-112233445566', opportunityId: 'o', rule: 'vibes', severity: 'critical', evidence: {} };
    const msg = validationError(registry, ComplianceFlagRaised, bad);
    expect(msg).toMatch(/payload.rule must be one of/);
    expect(msg).toMatch(/payload.severity must be one of/);
  });

  it('rebuilds screening history from ComplianceScreened events: blocked trades excluded, retries counted once', () => {
    const e = (opportunityId: string, decision: string, notional: string, at = '2026-03-02T12:00:00.000Z') => ({
      type: 'ComplianceScreened',
      payload: { opportunityId, decision, rulesEvaluated: [], flags: [], at, notionalUsdMicros: notional },
    });
    const history = historyFromScreened([
      e('a', 'clear', '10'),
      e('b', 'blocked', '20'),
      e('c', 'advisory', '30'),
      e('a', 'clear', '11', '2026-03-02T12:00:01.000Z'),
      { type: 'SomethingElse', payload: {} },
    ]);
    expect(history).toEqual([
      { opportunityId: 'c', at: '2026-03-02T12:00:00.000Z', notionalUsdMicros: 30n },
      { opportunityId: 'a', at: '2026-03-02T12:00:01.000Z', notionalUsdMicros: 11n },
    ]);
  });
});

describe('ComplianceScreened version 2 (docs/decisions/0017)', () => {
  const meta = { correlationId: 'c', causationId: null, actor: 'test', tenant: 'default' };
  const stored = (version: number, payload: unknown) => ({
    ...newEvent(ComplianceScreened, payload as never, meta),
    version,
    streamId: 's',
    revision: 0n,
    position: 1n,
    contentHash: '',
    prevHash: '',
    hash: '',
  });

  it('records the thresholds in force and their hash; the same thresholds give the same hash', () => {
    const t = trade({ counterparties: [], notionalUsdMicros: 1n });
    const { screened } = screeningPayloads(t, screen(t, [], config, sanctions), config);
    expect(screened.ruleSet).toEqual(screeningRuleSet(config));
    expect(screened.ruleSet!.thresholds).toMatchObject({ largeTxThresholdUsdMicros: '10000000000', velocityMaxCount: 1, structuringMinCount: 2 });
    expect(screeningRuleSet({ ...config }).version).toBe(screened.ruleSet!.version);
    expect(screeningRuleSet({ ...config, velocityMaxCount: 2 }).version).not.toBe(screened.ruleSet!.version);
  });

  it('upcasts a stored version-1 payload to version 2 with ruleSet null, leaving the stored one alone', () => {
    const v1 = { opportunityId: 'o', decision: 'clear', rulesEvaluated: [{ rule: 'large_transaction', fired: false }], flags: [], at: '2026-03-02T12:00:00.000Z', notionalUsdMicros: '5' };
    const e = stored(1, v1);
    const up = registry.upcast<{ ruleSet: unknown }>(e);
    expect(up.version).toBe(2);
    expect(up.payload).toEqual({ ...v1, ruleSet: null });
    expect(e.payload).toEqual(v1);
    expect(e.version).toBe(1);
  });

  it('refuses on read a stored version-1 payload that does not fit, every problem at once', () => {
    const e = stored(1, { opportunityId: 'o', decision: 'maybe', rulesEvaluated: [], flags: [], at: 'noon', notionalUsdMicros: 5, extra: 1 });
    expect(() => registry.upcast(e)).toThrow(InvalidEventError);
    const message = (() => {
      try {
        registry.upcast(e);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    for (const part of ['payload.decision must be one of', 'payload.rulesEvaluated must have at least 1 items', 'payload.at must be an ISO-8601', 'payload.notionalUsdMicros must be an integer amount', 'payload.extra is not a known field']) {
      expect(message).toContain(part);
    }
  });

  it('requires ruleSet when writing version 2 (null is allowed, absent is not)', () => {
    const t = trade({ counterparties: [], notionalUsdMicros: 1n });
    const { screened } = screeningPayloads(t, screen(t, [], config, sanctions), config);
    const { ruleSet: _drop, ...withoutRuleSet } = screened;
    expect(validationError(registry, ComplianceScreened, withoutRuleSet)).toMatch(/payload\.ruleSet is required/);
    expect(validationError(registry, ComplianceScreened, { ...screened, ruleSet: null })).toBe('');
  });
});
