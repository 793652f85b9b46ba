// Kill -9 mid-delivery: the whole application runs as a child process delivering to a loopback
// receiver, and is killed with SIGKILL while a request is in flight (the receiver holds it), a
// few times over. Afterwards every event the subscription asked for has been received, in order
// of position, and any duplicate is a re-send of the same event (same X-Arbiter-Event-Id) — at
// least once, nothing lost, nothing out of order.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../src/event-catalog.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { CreateWebhookSubscription, CreateWebhookSubscriptionHandler } from '../../src/notifications/commands/subscription-commands.js';
import { deliveryStreamId, type WebhookDeliveryAttemptedPayload } from '../../src/notifications/events.js';
import { EnginePaused, EngineResumed, ENGINE_STREAM_ID } from '../../src/risk/events.js';
import { engineChildren } from '../support/engine-children.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startWebhookReceiver, type WebhookReceiver } from '../stand-ins/webhook-receiver.js';

const EVENTS = 24;
const ROUNDS = 3;

describe('app killed with SIGKILL mid-delivery', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await freshDatabase();
    receiver = await startWebhookReceiver();
    env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-webhook-kill-')),
      ENGINE_AUTOSTART: 'false',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_BASE_MS: '10',
      WEBHOOK_RETRY_MAX_MS: '50',
      LOG_LEVEL: 'error',
    };
  });
  afterAll(async () => {
    killAll();
    await receiver?.close();
    await db?.drop();
  });

  const { start, kill, killAll } = engineChildren(() => env, 'app child');

  it('loses no delivery and duplicates only the request in flight', async () => {
    const store = new PostgresEventStore(db.sql, buildEventRegistry());
    const created = await new CreateWebhookSubscriptionHandler(store, db.sql).execute(
      new CreateWebhookSubscription({ actor: 'test', correlationId: 'kill-test' }, { url: receiver.url, eventTypes: ['EnginePaused', 'EngineResumed'], minSeverity: null, description: 'kill test' }),
    );
    const sub = created.subscriptionId;
    receiver.secrets.set(sub, created.secret);
    const meta = { correlationId: 'kill-test', causationId: null, actor: 'test', tenant: 'default' };
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const e = i % 2 === 0 ? newEvent(EnginePaused, { actor: 'test', reason: `pause ${i}`, cause: 'operator' }, meta) : newEvent(EngineResumed, { actor: 'test', reason: `resume ${i}` }, meta);
      await store.append(ENGINE_STREAM_ID, [e], 'any');
      ids.push(e.id);
    }

    // Each round: start the app, let it deliver a few, and kill it while the receiver holds a request.
    receiver.delayMs = 200;
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = await start();
      const before = receiver.received.length;
      const inFlight = new Promise<void>((resolve) => {
        receiver.onRequest = () => receiver.received.length >= before + 3 + round && resolve();
      });
      await Promise.race([inFlight, new Promise((r) => setTimeout(r, 20_000))]);
      receiver.onRequest = null;
      await kill(child);
      kills++;
    }
    expect(kills).toBe(ROUNDS);
    // The request in flight at each kill got no recorded outcome: the next run sends it again.
    receiver.delayMs = 0;
    const last = await start();
    const deadline = Date.now() + 60_000;
    const recordedDeliveries = async () =>
      new Set((await store.readStream(deliveryStreamId(sub))).map((e) => e.payload as WebhookDeliveryAttemptedPayload).filter((a) => a.outcome === 'delivered').map((a) => a.eventId)).size;
    while ((receiver.accepted(sub).length < EVENTS || (await recordedDeliveries()) < EVENTS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await kill(last);

    // Every event, in order of position (first receipt of each).
    expect(receiver.accepted(sub).map((d) => d.eventId)).toEqual(ids);
    // Every request was signed; a duplicate is the same event again (the receiver drops it by id).
    expect(receiver.received.every((d) => d.signatureValid && d.body.id === d.eventId)).toBe(true);
    const duplicates = receiver.received.length - new Set(receiver.received.map((d) => d.eventId)).size;
    expect(duplicates).toBeGreaterThan(0); // the kills did interrupt deliveries
    expect(duplicates).toBeLessThanOrEqual(kills * 2);
    // Arrival order never goes back past an event already accepted, except to re-send the one in flight.
    const firstSeen = new Map<string, number>();
    receiver.received.forEach((d, i) => firstSeen.has(d.eventId) || firstSeen.set(d.eventId, i));
    for (let i = 1; i < ids.length; i++) expect(firstSeen.get(ids[i])!).toBeGreaterThan(firstSeen.get(ids[i - 1])!);
    // The log recorded each event delivered (at least once), in order.
    const attempts = (await store.readStream(deliveryStreamId(sub))).map((e) => e.payload as WebhookDeliveryAttemptedPayload);
    const delivered = attempts.filter((a) => a.outcome === 'delivered').map((a) => a.eventId);
    expect([...new Set(delivered)]).toEqual(ids);
  }, 420_000);
});
