// A run's log, as an operator's log shipper sees it (stdout of the real server, not a terminal):
// every line is one JSON object; every line of a request carries its correlation id; operator
// commands say who, what and why; the admin key and the keystore passphrases never appear.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../src/api/auth/api-keys.js';
import { riskLimitsToJson, defaultRiskLimits } from '../../src/risk/limits.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startServerChild, type ServerChild } from '../support/server-child.js';

const PASSPHRASE = `log-test-passphrase-${randomBytes(6).toString('hex')}`;
const SEAL_PASSPHRASE = `log-test-seal-passphrase-${randomBytes(6).toString('hex')}`;

describe('structured logs of a run', () => {
  let db: TestDatabase;
  let server: ServerChild;
  let adminKey: string;
  let issuedKey: string;
  const correlationIds = new Map<string, string>();

  beforeAll(async () => {
    db = await freshDatabase();
    server = await startServerChild({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-logging-')),
      KEYSTORE_PASSPHRASE: PASSPHRASE,
      SEAL_KEYSTORE_PASSPHRASE: SEAL_PASSPHRASE,
      LOG_LEVEL: 'info',
    });
    ({ key: adminKey } = await issueApiKey(db.sql, 'admin', 'log test admin'));
    const call = async (name: string, method: string, path: string, body?: unknown, auth: 'bearer' | 'x-api-key' = 'bearer') => {
      const correlationId = `log-test-${name}`;
      correlationIds.set(name, correlationId);
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(auth === 'bearer' ? { authorization: `Bearer ${adminKey}` } : { 'x-api-key': adminKey }),
          'x-correlation-id': correlationId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    expect((await call('pause', 'POST', '/engine/pause', { reason: 'log test: maintenance window' })).status).toBe(200);
    expect((await call('resume', 'POST', '/engine/resume', { reason: 'log test: maintenance over' }, 'x-api-key')).status).toBe(200);
    expect((await call('limits', 'PUT', '/risk/limits', { reason: 'log test: tighter slippage', limits: { ...riskLimitsToJson(defaultRiskLimits({})), maxSlippageBps: 40 } })).status).toBe(200);
    const issued = await call('issue', 'POST', '/keys', { role: 'viewer', label: 'log test viewer' });
    expect(issued.status).toBe(201);
    issuedKey = issued.body.key;
    expect((await call('revoke', 'DELETE', `/keys/${issued.body.keyId}`, { reason: 'log test: no longer needed' })).status).toBe(200);
    expect((await call('graphql', 'POST', '/graphql', { query: '{ engine { mode } }' })).status).toBe(200);
    expect((await call('bad', 'POST', '/engine/pause', { reason: 'x', extra: 1 })).status).toBe(400);
    // A wrong key is refused (and logged as a request) without the key reaching the log either.
    expect((await fetch(`${server.url}/keys`, { headers: { authorization: `Bearer arb_wrong_${PASSPHRASE}` } })).status).toBe(401);
    // Let the last onResponse lines reach stdout.
    for (let i = 0; i < 50 && lines().filter((l) => l.msg === 'request').length < 9; i++) await new Promise((r) => setTimeout(r, 100));
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  const raw = () => server.output().split('\n').filter((l) => l.trim() !== '');
  const lines = () => raw().map((l) => JSON.parse(l) as Record<string, any>);

  it('writes one JSON object per line, with time, level and message', () => {
    const bad = raw().filter((l) => {
      try {
        const o = JSON.parse(l);
        return typeof o !== 'object' || typeof o.time !== 'string' || typeof o.level !== 'string' || typeof o.msg !== 'string';
      } catch {
        return true;
      }
    });
    expect(bad).toEqual([]);
    expect(raw().length).toBeGreaterThan(10);
    expect(raw().join('\n')).not.toMatch(/\x1b\[/); // no colour codes off a terminal
  });

  it('puts the correlation id on every request line, and on every line logged while a request runs', () => {
    const requests = lines().filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(9);
    for (const r of requests) expect(r.correlationId, JSON.stringify(r)).toMatch(/\S/);
    for (const [name, id] of correlationIds) {
      const own = lines().filter((l) => l.correlationId === id);
      expect(own.some((l) => l.msg === 'request'), name).toBe(true);
    }
    const pauseLines = lines().filter((l) => l.correlationId === correlationIds.get('pause'));
    expect(pauseLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['request', expect.stringMatching(/^operator command pause/)]));
  });

  it('logs each operator command with who, what and why', () => {
    const ops = lines().filter((l) => l.context === 'Operator');
    const by = (command: string) => ops.find((l) => l.command === command);
    for (const [command, reason] of [
      ['pause', 'log test: maintenance window'],
      ['resume', 'log test: maintenance over'],
      ['change-risk-limits', 'log test: tighter slippage'],
      ['revoke-api-key', 'log test: no longer needed'],
    ] as const) {
      expect(by(command), command).toMatchObject({ actor: expect.stringMatching(/^apikey:/), reason, level: 'info' });
    }
    expect(by('issue-api-key')).toMatchObject({ actor: expect.stringMatching(/^apikey:/), role: 'viewer', keyId: expect.any(String) });
  });

  it('never writes the admin key, an issued key or a passphrase', () => {
    const all = server.output();
    expect(all).not.toContain(adminKey);
    expect(all).not.toContain(issuedKey);
    expect(all).not.toContain(PASSPHRASE);
    expect(all).not.toContain(SEAL_PASSPHRASE);
  });
});
