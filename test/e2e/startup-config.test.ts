// `npm start` with bad settings: one run names every problem of every context, exits 2, and
// prints no stack trace.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('start-up configuration check', () => {
  it('lists every bad setting at once and exits 2', () => {
    const r = spawnSync(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: 'x', MARKET: 'foo', RISK_MAX_SLIPPAGE_BPS: 'abc', VENUE: 'moon', COMPLIANCE_VELOCITY_MAX_COUNT: '-1', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    for (const name of ['PORT', 'MARKET', 'RISK_MAX_SLIPPAGE_BPS', 'VENUE', 'COMPLIANCE_VELOCITY_MAX_COUNT']) expect(r.stderr).toContain(name);
    expect(r.stderr.match(/VENUE must be/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('refuses SIGNER=aws-kms without KMS_KEY_ID and AWS_REGION before anything starts, exit 2 and no stack', () => {
    const r = start({ SIGNER: 'aws-kms', KMS_KEY_ID: '', AWS_REGION: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SIGNER=aws-kms needs KMS_KEY_ID');
    expect(r.stderr).toContain('AWS_REGION');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses SIGNER=hsm naming the choices, exit 2', () => {
    const r = start({ SIGNER: 'hsm' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SIGNER must be keystore or aws-kms (got "hsm")');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
