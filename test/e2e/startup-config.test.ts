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
});
