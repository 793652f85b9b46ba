// With several nodes on one database (HA), what leaves the ledger happens once: only the engine's
// leader delivers webhooks and seals the log. Two app instances on one PostgreSQL database, each
// with its own lease identity and its own development seal key; the first leads. Every event is
// POSTed to the receiver once (not once per node) and every seal is signed by the leader's key;
// when the leader goes, the standby takes both over from the log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEAL_SIGNER } from '../../src/audit/audit.module.js';
import { LeadershipService } from '../../src/ledger/leadership/leadership.service.js';
import type { Signer } from '../../src/signing/signer.port.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startWebhookReceiver, type WebhookReceiver } from '../stand-ins/webhook-receiver.js';

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type App = Awaited<ReturnType<typeof startApp>>;

describe('side effects with two nodes', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let a: App | null = null;
  let b: App | null = null;
  const node = (id: string) => ({
    DATABASE_URL: db.url,
    ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), `arbiter-ha-${id}-`)),
    LOG_LEVEL: 'error',
    ENGINE_HA: 'on',
    ENGINE_NODE_ID: id,
    // The default TTL: a loaded machine must not stall the leader past it by accident.
    ENGINE_LEASE_TTL_MS: '5000',
    ENGINE_LEASE_RENEW_MS: '500',
    ENGINE_LEASE_ACQUIRE_MS: '300',
    ENGINE_LEASE_MARGIN_MS: '1000',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    SEAL_EVERY_EVENTS: '1',
    SEAL_CHECK_MS: '100',
  });

  beforeAll(async () => {
    db = await freshDatabase();
    receiver = await startWebhookReceiver();
    a = await startApp(node('node-a'));
    b = await startApp(node('node-b'));
  }, 90_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
    await db?.drop();
  });

  const call = async (app: App, method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const seals = async () =>
    (await db.sql.query<{ position: string; key_id: string }>(`SELECT payload->>'position' AS position, payload->>'keyId' AS key_id FROM events WHERE event_type = 'LedgerSealed' ORDER BY global_position`)).rows;
  const leaderships = async () =>
    (await db.sql.query<{ holder: string }>(`SELECT payload->>'holder' AS holder FROM events WHERE event_type = 'EngineLeadershipAcquired' ORDER BY global_position`)).rows.map((r) => r.holder);
  const sealKeyOf = (app: App) => app.app.get<Signer>(SEAL_SIGNER).keyId;
  /** The key of the first seal that covers `position` (waits for one). */
  const sealCovering = async (position: string) =>
    (await until(`a seal covering position ${position}`, async () => (await seals()).find((x) => BigInt(x.position) >= BigInt(position))?.key_id)) as string;

  it('delivers each event once and seals with the leader only, then hands both over', async () => {
    expect(a!.app.get(LeadershipService).status().role).toBe('leader');
    expect(b!.app.get(LeadershipService).status().role).toBe('standby');
    const admin = await authHeaders(b!.app, 'admin');
    const operator = await authHeaders(b!.app, 'operator');
    // Commands go to the standby: every node accepts them; the leader's workers deliver.
    const sub = await call(b!, 'POST', '/webhooks/subscriptions', admin, { url: receiver.url, eventTypes: ['EnginePaused', 'EngineResumed'] });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    receiver.secrets.set(sub.body.subscriptionId as string, sub.body.secret as string);
    const written: string[] = [];
    let lastPosition = '0';
    for (let i = 0; i < 6; i++) {
      const r = await call(i % 2 ? a! : b!, 'POST', i % 2 ? '/engine/resume' : '/engine/pause', operator, { reason: `ha side effects ${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      written.push(r.body.eventId as string);
      lastPosition = r.body.position as string;
    }
    await until('every event delivered', () => written.every((id) => receiver.received.some((d) => d.eventId === id)));
    // Time for a second node's worker to have sent its own copy, had it been sending.
    await new Promise((r) => setTimeout(r, 1500));
    const posts = (id: string) => receiver.received.filter((d) => d.eventId === id).length;
    expect(written.map(posts)).toEqual(written.map(() => 1));
    expect(receiver.received.every((d) => d.signatureValid)).toBe(true);
    const leaderKey = await sealCovering(lastPosition);
    expect(leaderKey).toBe(sealKeyOf(a!));
    expect(new Set((await seals()).map((s) => s.key_id))).toEqual(new Set([leaderKey]));
    expect(await leaderships()).toEqual(['node-a']);

    // The leader goes; the standby takes the lease and, with it, delivery and sealing.
    await a!.close();
    a = null;
    await until('node-b leads', () => b!.app.get(LeadershipService).status().role === 'leader');
    const r = await call(b!, 'POST', '/engine/pause', operator, { reason: 'after the takeover' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await until('the event after the takeover delivered', () => receiver.received.some((d) => d.eventId === r.body.eventId));
    await new Promise((res) => setTimeout(res, 500));
    expect(posts(r.body.eventId as string)).toBe(1);
    const standbyKey = await sealCovering(r.body.position as string);
    expect(standbyKey).toBe(sealKeyOf(b!));
    expect(await leaderships()).toEqual(['node-a', 'node-b']);
    // Every seal is signed by the key of the node that held the leadership at its position.
    const byGlobal = (await db.sql.query<{ global_position: string; event_type: string; holder: string | null; key_id: string | null }>(
      `SELECT global_position, event_type, payload->>'holder' AS holder, payload->>'keyId' AS key_id FROM events
        WHERE event_type IN ('EngineLeadershipAcquired', 'LedgerSealed') ORDER BY global_position`,
    )).rows;
    let holder: string | null = null;
    for (const e of byGlobal) {
      if (e.event_type === 'EngineLeadershipAcquired') holder = e.holder;
      else expect(e.key_id, `seal at ${e.global_position}`).toBe(holder === 'node-a' ? leaderKey : standbyKey);
    }
    // No position sealed twice.
    const positions = (await seals()).map((s) => s.position);
    expect(new Set(positions).size).toBe(positions.length);
  }, 120_000);
});
