// Two nodes on one database with different decision settings (src/config/decision-settings.ts):
// the leader records its settings in EngineLeadershipAcquired; the standby, which would decide
// otherwise if it took over, names the settings that differ in /ready and GraphQL; a node with
// the same settings shows none. When the standby takes over, it records its own and compares
// them with its predecessor's.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LeadershipService } from '../../src/ledger/leadership/leadership.service.js';
import { gql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

type App = Awaited<ReturnType<typeof startApp>>;

describe('decision settings across nodes', () => {
  let db: TestDatabase;
  const apps: App[] = [];
  const node = (id: string, env: Record<string, string | undefined> = {}) => ({
    DATABASE_URL: db.url,
    ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), `arbiter-settings-${id}-`)),
    ENGINE_HA: 'on',
    ENGINE_NODE_ID: id,
    ENGINE_LEASE_ACQUIRE_MS: '200',
    SEALING: 'off',
    ...env,
  });
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close().catch(() => undefined);
    await db?.drop();
  });

  it('a standby names the settings that differ from the leader’s; a new leader compares with the one before', async () => {
    const leader = await startApp(node('leader'));
    apps.push(leader);
    expect(leader.app.get(LeadershipService).status().role).toBe('leader');
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const other = await startApp(node('other', { RISK_MAX_ORDERS_PER_MINUTE: '7', COMPLIANCE_VELOCITY_MAX_COUNT: '9' }));
    apps.push(other);
    const warned = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('decision settings differ'));
    warn.mockRestore();
    expect(warned).toEqual([
      'node other: decision settings differ from those leader leader recorded at epoch 1: COMPLIANCE_VELOCITY_MAX_COUNT (here 9, leader 120), RISK_MAX_ORDERS_PER_MINUTE (here 7, leader 30). Every node must decide alike: set them the same on every node (README: High availability)',
    ]);
    // startApp lays its variables over the process's until close(): unset the other node's.
    const alike = await startApp(node('alike', { RISK_MAX_ORDERS_PER_MINUTE: undefined, COMPLIANCE_VELOCITY_MAX_COUNT: undefined }));
    apps.push(alike);

    const recorded = (await db.sql.query<{ payload: { settings: { version: string; values: Record<string, string> } } }>(
      `SELECT payload FROM events WHERE event_type = 'EngineLeadershipAcquired' ORDER BY global_position`,
    )).rows;
    expect(recorded).toHaveLength(1);
    expect(recorded[0].payload.settings.values.RISK_MAX_ORDERS_PER_MINUTE).toBe('30');

    const s = other.app.get(LeadershipService).status();
    expect(s.role).toBe('standby');
    expect(s.settings).toMatchObject({
      leader: 'leader',
      leaderVersion: recorded[0].payload.settings.version,
      differences: [
        { name: 'COMPLIANCE_VELOCITY_MAX_COUNT', here: '9', there: '120' },
        { name: 'RISK_MAX_ORDERS_PER_MINUTE', here: '7', there: '30' },
      ],
    });
    expect(s.settings!.version).not.toBe(recorded[0].payload.settings.version);
    expect(alike.app.get(LeadershipService).status().settings).toMatchObject({ leader: 'leader', version: recorded[0].payload.settings.version, differences: [] });

    // /ready (with a key) and GraphQL say the same.
    const ready = await fetch(`${other.url}/ready`, { headers: await authHeaders(other.app, 'viewer') });
    const body = (await ready.json()) as { engine: { settings: { comparedWith: string; differ: string[] } } };
    expect(body.engine.settings).toMatchObject({ comparedWith: 'leader', differ: ['COMPLIANCE_VELOCITY_MAX_COUNT', 'RISK_MAX_ORDERS_PER_MINUTE'] });
    const q = await gql(other.url, '{ engine { leadership { role settingsComparedWith settingsDiffer settingsVersion } } }', undefined, await authHeaders(other.app, 'viewer'));
    expect(q.body.errors).toBeUndefined();
    expect(q.body.data.engine.leadership).toMatchObject({ role: 'standby', settingsComparedWith: 'leader', settingsDiffer: ['COMPLIANCE_VELOCITY_MAX_COUNT', 'RISK_MAX_ORDERS_PER_MINUTE'] });

    // The leader goes; whichever standby takes over records its own settings and compares with its predecessor's.
    await leader.close();
    apps.shift();
    const next = await (async () => {
      for (let i = 0; i < 200; i++) {
        const n = [other, alike].find((a) => a.app.get(LeadershipService).status().role === 'leader');
        if (n) return n;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no standby took over');
    })();
    const after = (await db.sql.query<{ payload: { holder: string; settings: { values: Record<string, string> } } }>(
      `SELECT payload FROM events WHERE event_type = 'EngineLeadershipAcquired' ORDER BY global_position`,
    )).rows;
    expect(after).toHaveLength(2);
    const nextId = next === other ? 'other' : 'alike';
    expect(after[1].payload.holder).toBe(nextId);
    expect(after[1].payload.settings.values.RISK_MAX_ORDERS_PER_MINUTE).toBe(nextId === 'other' ? '7' : '30');
    expect(next.app.get(LeadershipService).status().settings).toMatchObject({ leader: 'leader', differences: nextId === 'other' ? [{ name: 'COMPLIANCE_VELOCITY_MAX_COUNT' }, { name: 'RISK_MAX_ORDERS_PER_MINUTE' }] : [] });
  }, 90_000);
});
