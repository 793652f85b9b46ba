// Input the database cannot store or the API does not know, over HTTP: NUL characters and lone
// surrogates get 400 naming the field on every write command (nothing written), fields named
// like Object.prototype members are refused as unknown, and an API key never exists without its
// ApiKeyIssued event.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Role } from '../../src/api/auth/api-keys.js';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { defaultRiskLimits, riskLimitsToJson } from '../../src/risk/limits.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';

describe('REST input PostgreSQL cannot store, and unknown fields', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  const keys = {} as Record<Role, Record<string, string>>;

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-input-')) });
    for (const role of ['operator', 'risk', 'compliance', 'admin'] as Role[]) keys[role] = await authHeaders(app.app, role);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const count = async (table: string) => Number((await db.sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  async function send(method: string, path: string, headers: Record<string, string>, raw: string) {
    const res = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: raw });
    return { status: res.status, body: (await res.json()) as { message: string; problems?: string[] } };
  }

  const limits = JSON.stringify(riskLimitsToJson(defaultRiskLimits()));
  const flagPath = '/compliance/flags/00000000-0000-4000-8000-000000000001/review';
  // Written as JSON escapes, exactly as a client would send them.
  const cases: [string, string, Role, (s: string) => string, string][] = [
    ['POST', '/engine/pause', 'operator', (s) => `{"reason":"${s}"}`, 'reason'],
    ['POST', '/engine/resume', 'operator', (s) => `{"reason":"${s}"}`, 'reason'],
    ['POST', '/engine/reduce', 'operator', (s) => `{"reason":"${s}"}`, 'reason'],
    ['PUT', '/risk/limits', 'risk', (s) => `{"reason":"${s}","limits":${limits}}`, 'reason'],
    ['POST', flagPath, 'compliance', (s) => `{"note":"${s}"}`, 'note'],
    ['POST', '/projections/audit_index/rebuild', 'admin', (s) => `{"reason":"${s}"}`, 'reason'],
    ['POST', '/keys', 'admin', (s) => `{"role":"viewer","label":"${s}"}`, 'label'],
    ['DELETE', '/keys/aaaaaaaaaaaa', 'admin', (s) => `{"reason":"${s}"}`, 'reason'],
  ];

  it.each(cases)('%s %s: 400 naming the field for a NUL or a lone surrogate, nothing written', async (method, path, role, body, field) => {
    const events = await count('events');
    const apiKeys = await count('api_keys');
    const nul = await send(method, path, keys[role], body('before\\u0000after'));
    expect(nul.status).toBe(400);
    expect(nul.body.problems).toContain(`${field} must not contain the NUL character (U+0000)`);
    const lone = await send(method, path, keys[role], body('x\\ud800y'));
    expect(lone.status).toBe(400);
    expect(lone.body.problems).toContain(`${field} must not contain an unpaired UTF-16 surrogate (not valid Unicode)`);
    expect(await count('events')).toBe(events);
    expect(await count('api_keys')).toBe(apiKeys);
  });

  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__'])('refuses a body field named %s as unknown', async (name) => {
    const r = await send('POST', '/engine/pause', keys.operator, `{"reason":"x","${name}":"y"}`);
    expect(r.status).toBe(400);
    expect(r.body.problems).toContain(`${name} is not a known field (known: reason)`);
  });

  it('refuses __proto__ and constructor.prototype fields, saying so', async () => {
    for (const raw of ['{"reason":"x","__proto__":{"admin":true}}', '{"reason":"x","constructor":{"prototype":{"admin":true}}}']) {
      const r = await send('POST', '/engine/pause', keys.operator, raw);
      expect(r.status, raw).toBe(400);
      expect(r.body.message, raw).toMatch(/__proto__|constructor/);
    }
  });

  it('writes no key when its ApiKeyIssued event cannot be recorded', async () => {
    const store = app.app.get<EventStore>(EVENT_STORE);
    const before = await count('api_keys');
    const spy = vi.spyOn(store, 'append').mockRejectedValueOnce(new Error('event store went away'));
    try {
      const r = await send('POST', '/keys', keys.admin, '{"role":"viewer","label":"half-written"}');
      expect(r.status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    expect(await count('api_keys')).toBe(before);
    // And when it can, the key and its event are both there.
    const ok = await send('POST', '/keys', keys.admin, '{"role":"viewer","label":"whole"}');
    expect(ok.status).toBe(201);
    const keyId = (ok.body as unknown as { keyId: string }).keyId;
    const ev = await db.sql.query<{ event_type: string }>('SELECT event_type FROM events WHERE stream_id = $1', [`apikey-${keyId}`]);
    expect(ev.rows.map((r) => r.event_type)).toEqual(['ApiKeyIssued']);
    expect(await count('api_keys')).toBe(before + 1);
  });
});
