// Configuration is validated at start: every problem is named at once, secrets never echoed.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database under ./data on port 3000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ databaseUrl: null, eventStoreUrl: null, port: 3000, logLevel: 'info' });
    expect(c.dataDir).toMatch(/data$/);
  });

  it('lists every problem in one error and hides passwords', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x', EVENTSTORE_URL: 'http://es', PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must be a postgres/);
    expect(problems.join('\n')).toMatch(/EVENTSTORE_URL must be an esdb/);
    expect(problems.join('\n')).toMatch(/PORT must be between 0 and 65535/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('needs PostgreSQL for read models when events go to EventStoreDB', () => {
    expect(() => loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false' })).toThrow(/read models need PostgreSQL/);
    expect(loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false', DATABASE_URL: 'postgres://x@y/z' }).eventStoreUrl).toMatch(/^esdb:/);
  });
});

describe('loadConfig: one object for every context', () => {
  it('holds every section, with the documented defaults', () => {
    const c = loadConfig({});
    expect(c.signer).toMatchObject({ kind: 'keystore', keystorePath: null, passphrase: null });
    expect(c.seal).toMatchObject({ enabled: true, everyEvents: 1000, anchor: 'none' });
    expect(c.seal.signer).toMatchObject({ kind: 'keystore' });
    expect(c.seal.signer.kind === 'keystore' && c.seal.signer.dataDir).toBe(`${c.dataDir}/seal`);
    expect(c.execution.venue).toBe('paper');
    expect(c.market.mode).toBe('simulated');
    expect(c.risk.defaultLimits.maxSlippageBps).toBe(50);
    expect(c.compliance.rules.structuringMinCount).toBe(3);
    expect(c.adminKeyFile).toBe(`${c.dataDir}/admin-api-key`);
    expect(c.logFormat).toBe('auto');
  });

  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
  };

  it('reports SIGNER=aws-kms without KMS_KEY_ID or AWS_REGION at start, and an unknown SIGNER', () => {
    expect(problemsOf({ SIGNER: 'aws-kms' })).toEqual([
      'SIGNER=aws-kms needs KMS_KEY_ID (key id, key ARN or alias/name of an ECC_NIST_EDWARDS25519 key) and AWS_REGION (e.g. us-east-1)',
    ]);
    expect(problemsOf({ SIGNER: 'aws-kms', KMS_KEY_ID: 'alias/arbiter' })).toEqual(['SIGNER=aws-kms needs AWS_REGION (e.g. us-east-1)']);
    expect(problemsOf({ SIGNER: 'hsm' })).toEqual(['SIGNER must be keystore or aws-kms (got "hsm")']);
    expect(loadConfig({ SIGNER: 'KMS', KMS_KEY_ID: 'k', AWS_REGION: 'eu-west-1' }).signer).toMatchObject({ kind: 'aws-kms', keyId: 'k', region: 'eu-west-1', credentials: null });
  });

  it('checks the seal key only when sealing is on', () => {
    expect(problemsOf({ SEAL_SIGNER: 'aws-kms' })).toEqual([
      'SEAL_SIGNER=aws-kms needs SEAL_KMS_KEY_ID (key id, key ARN or alias/name of an ECC_NIST_EDWARDS25519 key) and AWS_REGION (e.g. us-east-1)',
    ]);
    expect(problemsOf({ SEAL_SIGNER: 'aws-kms', SEALING: 'off' })).toEqual([]);
  });

  it('names every problem of every section in one error, never a secret', () => {
    const p = problemsOf({ PORT: 'x', MARKET: 'foo', RISK_MAX_SLIPPAGE_BPS: 'abc', VENUE: 'moon', COMPLIANCE_VELOCITY_MAX_COUNT: '-1', METRICS_TOKEN: 'short secret', SIGNER: 'hsm', WEBHOOK_TIMEOUT_MS: '1' });
    expect(p.map((x) => x.split(' ')[0])).toEqual(['PORT', 'MARKET', 'RISK_MAX_SLIPPAGE_BPS', 'COMPLIANCE_VELOCITY_MAX_COUNT', 'SIGNER', 'VENUE', 'WEBHOOK_TIMEOUT_MS', 'METRICS_TOKEN']);
    expect(p.join('\n')).not.toContain('short secret');
  });

  it('refuses a spike threshold below the ordinary deviation limit, naming both settings', () => {
    expect(problemsOf({ RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS: '50', RISK_MAX_PRICE_DEVIATION_BPS: '100' })).toEqual([
      'RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS (50) must be at least RISK_MAX_PRICE_DEVIATION_BPS (100): a spike is a deviation beyond the ordinary limit',
    ]);
  });

  it('reads the reconciliation settings: interval, tolerances, per-mint overrides; names a bad entry', () => {
    const usdc = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
    expect(loadConfig({}).execution.reconciliation).toEqual({ intervalSeconds: 300, toleranceLamports: 10_000_000n, toleranceBaseUnits: 0n, toleranceByMint: new Map() });
    const c = loadConfig({ RECONCILE_INTERVAL_SECONDS: '0', RECONCILE_TOLERANCES: `${usdc}:1000000` }).execution.reconciliation;
    expect(c.intervalSeconds).toBe(0);
    expect(c.toleranceByMint.get(usdc)).toBe(1_000_000n);
    expect(problemsOf({ RECONCILE_TOLERANCES: `${usdc}:1.5,nope:3` })).toEqual([
      `RECONCILE_TOLERANCES must be comma-separated mint:base_units pairs (e.g. EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v:1000000); bad entry "${usdc}:1.5"`,
      'RECONCILE_TOLERANCES must be comma-separated mint:base_units pairs (e.g. EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v:1000000); bad entry "nope:3"',
    ]);
    expect(problemsOf({ RECONCILE_TOLERANCES: `${usdc}:1,${usdc}:2` })).toEqual([`RECONCILE_TOLERANCES names mint ${usdc} twice`]);
    expect(problemsOf({ RECONCILE_INTERVAL_SECONDS: '-1' })[0]).toMatch(/^RECONCILE_INTERVAL_SECONDS must be between 0 and 86400/);
  });
});
