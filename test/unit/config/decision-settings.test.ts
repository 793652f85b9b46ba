// The node-local settings that feed decisions (src/config/decision-settings.ts): what they cover,
// that their hash moves with any of them, how two nodes' sets are compared, and the leadership
// event that carries them (EngineLeadershipAcquired v2; v1 reads as "not recorded").
import { describe, expect, it } from 'vitest';
import { ENV_SCHEMA, loadConfig } from '../../../src/config/config.js';
import { decisionSettings, settingDifferences } from '../../../src/config/decision-settings.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { EngineLeadershipAcquired } from '../../../src/ledger/leadership/events.js';
import { expectStorable, registryOf, validationError } from '../../support/registry.js';

const settingsOf = (env: Record<string, string> = {}) => decisionSettings(loadConfig({ ARBITER_DATA_DIR: '/tmp/arbiter-settings-test', ...env }));

describe('decision settings', () => {
  it('covers risk, compliance rules, the saga, venue and market, by declared variable name', () => {
    const { values, version } = settingsOf();
    for (const name of Object.keys(values)) expect(ENV_SCHEMA[name], `${name} is a declared setting`).toBeDefined();
    expect(values).toMatchObject({
      RISK_MAX_EXPOSURE_PER_TOKEN_USD_MICROS: '5000000000',
      RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS: '3',
      COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '10000000000',
      ENGINE_MAX_SAGA_AGE_MS: expect.any(String),
      VENUE: 'paper',
      MARKET: 'simulated',
    });
    expect(Object.keys(values).some((n) => n.startsWith('COMPLIANCE_SANCTIONS'))).toBe(false); // the list is in the ledger
    expect(version).toMatch(/^[0-9a-f]{32}$/);
  });

  it('has one hash for one set of values, and another when any covered setting changes', () => {
    expect(settingsOf().version).toBe(settingsOf().version);
    expect(settingsOf({ RISK_MAX_ORDERS_PER_MINUTE: '31' }).version).not.toBe(settingsOf().version);
    expect(settingsOf({ COMPLIANCE_VELOCITY_MAX_COUNT: '7' }).version).not.toBe(settingsOf().version);
    // A setting that decides nothing (the port) leaves it alone.
    expect(settingsOf({ PORT: '4321' }).version).toBe(settingsOf().version);
  });

  it('names each setting that differs, with both values; one only a side has counts', () => {
    const here = settingsOf({ RISK_MAX_ORDERS_PER_MINUTE: '10', VENUE: 'paper' }).values;
    const there = { ...settingsOf({ RISK_MAX_ORDERS_PER_MINUTE: '20' }).values, SOME_NEWER_SETTING: 'x' };
    expect(settingDifferences(here, there)).toEqual([
      { name: 'RISK_MAX_ORDERS_PER_MINUTE', here: '10', there: '20' },
      { name: 'SOME_NEWER_SETTING', here: null, there: 'x' },
    ]);
    expect(settingDifferences(here, here)).toEqual([]);
  });
});

describe('EngineLeadershipAcquired v2', () => {
  const registry = registryOf(EngineLeadershipAcquired);

  it('stores the settings, or null', () => {
    expectStorable(registry, EngineLeadershipAcquired, { holder: 'n1', epoch: '3', settings: settingsOf() });
    expectStorable(registry, EngineLeadershipAcquired, { holder: 'n1', epoch: '3', settings: null });
    expect(validationError(registry, EngineLeadershipAcquired, { holder: 'n1', epoch: '3' })).toMatch(/settings/);
    expect(validationError(registry, EngineLeadershipAcquired, { holder: 'n1', epoch: '3', settings: { version: 'nothex', values: {} } })).toMatch(/version/);
  });

  it('reads a version-1 event as one that recorded no settings', () => {
    const v1 = {
      id: '00000000-0000-4000-8000-000000000001',
      type: 'EngineLeadershipAcquired',
      version: 1,
      payload: { holder: 'old', epoch: '1' },
      metadata: { correlationId: 'lease-1', causationId: null, actor: 'engine:old', tenant: 'default' },
      recordedAt: '2026-11-30T00:00:00.000Z',
      streamId: 'engine-leader',
      revision: 0n,
      position: 1n,
      contentHash: '0'.repeat(64),
      prevHash: '0'.repeat(64),
      hash: '0'.repeat(64),
    } satisfies RecordedEvent;
    expect(buildEventRegistry().upcast(v1)).toMatchObject({ version: 2, payload: { holder: 'old', epoch: '1', settings: null } });
  });
});
