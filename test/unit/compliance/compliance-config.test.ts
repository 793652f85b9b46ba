import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_SECTIONS, loadConfig } from '../../../src/config/config.js';

/** The compliance section of the one configuration. */
const loadComplianceConfig = (env: Record<string, string>) => loadConfig(env).compliance;

function problems(env: Record<string, string>): string[] {
  try {
    loadComplianceConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  return [];
}

describe('loadComplianceConfig', () => {
  it('given nothing set, then defaults apply and there is no sanctions file', () => {
    const c = loadComplianceConfig({});
    expect(c.sanctionsFile).toBeNull();
    expect(c.watchSanctionsFile).toBe(false);
    expect(c.rules).toEqual({
      largeTxThresholdUsdMicros: 10_000_000_000n,
      velocityWindowSeconds: 60,
      velocityMaxCount: 120,
      velocityMaxNotionalUsdMicros: 100_000_000_000n,
      structuringWindowSeconds: 86_400,
      structuringBandBps: 1_000,
      structuringMinCount: 3,
    });
  });

  it('given variables, then they are used and the file path is made absolute', () => {
    const c = loadComplianceConfig({
      COMPLIANCE_SANCTIONS_FILE: 'config/sanctions.txt',
      COMPLIANCE_SANCTIONS_WATCH: 'true',
      COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '50000000000000000000000',
      COMPLIANCE_STRUCTURING_MIN_COUNT: '5',
    });
    expect(isAbsolute(c.sanctionsFile!)).toBe(true);
    expect(c.sanctionsFile!.endsWith('config/sanctions.txt')).toBe(true);
    expect(c.watchSanctionsFile).toBe(true);
    expect(c.rules.largeTxThresholdUsdMicros).toBe(50_000_000_000_000_000_000_000n);
    expect(c.rules.structuringMinCount).toBe(5);
  });

  it('given bad values, then one ConfigError lists every problem', () => {
    const p = problems({
      COMPLIANCE_VELOCITY_WINDOW_SECONDS: '1.5',
      COMPLIANCE_STRUCTURING_BAND_BPS: '10001',
      COMPLIANCE_STRUCTURING_MIN_COUNT: '1',
      COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '0',
      COMPLIANCE_SANCTIONS_WATCH: 'yes',
    });
    expect(p).toEqual([
      'COMPLIANCE_SANCTIONS_WATCH must be true or false (got "yes")',
      'COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS must be at least 1 (got 0)',
      'COMPLIANCE_VELOCITY_WINDOW_SECONDS must be an integer written with digits only (got "1.5")',
      'COMPLIANCE_STRUCTURING_BAND_BPS must be between 1 and 10000 (got 10001)',
      'COMPLIANCE_STRUCTURING_MIN_COUNT must be between 2 and 1000000 (got 1)',
    ]);
  });

  it('refuses watching when there is no file to watch', () => {
    expect(problems({ COMPLIANCE_SANCTIONS_WATCH: 'true' })).toEqual([
      'COMPLIANCE_SANCTIONS_WATCH is true but COMPLIANCE_SANCTIONS_FILE is not set: set the file to watch',
    ]);
  });

  it('lists every variable it reads', () => {
    expect(Object.keys(ENV_SECTIONS.compliance)).toHaveLength(9);
  });
});
