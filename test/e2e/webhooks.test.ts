// Webhook subscriptions end to end over HTTP on real PostgreSQL, delivering to receivers on
// loopback: an admin subscribes, the engine is paused and resumed, and each receiver gets each
// event it asked for once, in order, signed with its secret; a receiver that fails is retried,
// dead-lettered, marked failing, and gets everything once it recovers; bad input gets a 400
// naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliveryService } from '../../src/notifications/delivery.service.js';
import { ProjectionsService } from '../../src/projections/projections.module.js';
import { gql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startWebhookReceiver, type WebhookReceiver } from '../stand-ins/webhook-receiver.js';

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhook notifications', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let admin: Record<string, string>;
  let operator: Record<string, string>;
  let steady: WebhookReceiver;
  let flaky: WebhookReceiver;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const subscribe = async (r: WebhookReceiver, eventTypes: string[], extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/webhooks/subscriptions', { url: r.url, eventTypes, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    r.secrets.set(res.body.subscriptionId, res.body.secret);
    return res.body as { subscriptionId: string; secret: string; event: { position: string } };
  };
  let toggles = 0;
  /** Pauses or resumes the engine (alternating) through the REST API. */
  const toggleEngine = async () => {
    const path = toggles++ % 2 === 0 ? '/engine/pause' : '/engine/resume';
    const res = await call('POST', path, { reason: `webhook test ${toggles}` }, operator);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { eventId: string; type: string; position: string };
  };
  const caughtUp = () => app.app.get(ProjectionsService).runner.waitUntilCaughtUp();

  beforeAll(async () => {
    db = await freshDatabase();
    steady = await startWebhookReceiver();
    flaky = await startWebhookReceiver();
    app = await startApp({
      DATABASE_URL: db.url,
      LOG_LEVEL: 'error',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_RETRY_MAX_MS: '100',
      WEBHOOK_TIMEOUT_MS: '2000',
    });
    admin = await authHeaders(app.app, 'admin');
    operator = await authHeaders(app.app, 'operator');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await steady?.close();
    await flaky?.close();
    await db?.drop();
  });

  it('refuses bad subscriptions with a 400 naming each problem, and non-admins with 403', async () => {
    const bad = await call('POST', '/webhooks/subscriptions', { url: 'ftp://127.0.0.1/x', eventTypes: ['EnginePaused', 'Nope'], colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^eventTypes\[1\] must be one of EnginePaused/), expect.stringMatching(/^colour is not a known field/)]),
    );
    const scheme = await call('POST', '/webhooks/subscriptions', { url: 'ftp://127.0.0.1/x', eventTypes: ['EnginePaused'] });
    expect(scheme.status).toBe(400);
    expect(scheme.body.problems).toEqual(['url must use http or https (got ftp)']);
    const host = await call('POST', '/webhooks/subscriptions', { url: 'https://hooks.example.com/x', eventTypes: ['EnginePaused'] });
    expect(host.status).toBe(400);
    expect(host.body.problems).toEqual(['url host "hooks.example.com" is not in WEBHOOK_ALLOWED_HOSTS (127.0.0.1)']);
    const missing = await call('POST', '/webhooks/subscriptions', { eventTypes: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.problems).toEqual(expect.arrayContaining(['url is required', 'eventTypes must have at least 1 item']));
    const creds = await call('POST', '/webhooks/subscriptions', { url: 'http://u:p@127.0.0.1/x', eventTypes: ['EnginePaused'] });
    expect(creds.body.problems[0]).toMatch(/must not carry credentials/);
    const notAdmin = await call('POST', '/webhooks/subscriptions', { url: steady.url, eventTypes: ['EnginePaused'] }, operator);
    expect(notAdmin.status).toBe(403);
    expect((await call('PATCH', '/webhooks/subscriptions/not-a-uuid', { reason: 'x' })).status).toBe(404);
    expect((await call('PATCH', '/webhooks/subscriptions/3f0c2a4e-0000-4000-8000-000000000001', { reason: 'x' })).status).toBe(404);
    const g = await gql(app.url, `mutation { createWebhookSubscription(url: "gopher://127.0.0.1/", eventTypes: ["EnginePaused"]) { subscriptionId } }`, undefined, admin);
    expect(g.body.errors?.[0].message).toBe('url must use http or https (got gopher)');
  });

  it('delivers each subscribed event once per subscription, in order, signed, with the event id', async () => {
    const pausesAndResumes = await subscribe(steady, ['EnginePaused', 'EngineResumed'], { description: 'on-call' });
    const pausesOnly = await subscribe(steady, ['EnginePaused']);
    expect(pausesAndResumes.secret).toMatch(/^whsec_/);
    const written = [];
    for (let i = 0; i < 6; i++) written.push(await toggleEngine());
    const all = await until('six deliveries', () => steady.accepted(pausesAndResumes.subscriptionId).length >= 6 && steady.accepted(pausesAndResumes.subscriptionId));
    const pauses = await until('three pause deliveries', () => steady.accepted(pausesOnly.subscriptionId).length >= 3 && steady.accepted(pausesOnly.subscriptionId));
    expect(all.map((d) => d.eventId)).toEqual(written.map((w) => w.eventId));
    expect(pauses.map((d) => d.eventId)).toEqual(written.filter((w) => w.type === 'EnginePaused').map((w) => w.eventId));
    for (const d of [...all, ...pauses]) {
      expect(d.signatureValid).toBe(true);
      expect(d.body.id).toBe(d.eventId);
      expect(d.attempt).toBe(1);
    }
    expect(all.map((d) => d.body.type)).toEqual(['EnginePaused', 'EngineResumed', 'EnginePaused', 'EngineResumed', 'EnginePaused', 'EngineResumed']);
    // Exactly once each while the receiver is healthy.
    expect(steady.received.filter((d) => d.subscriptionId === pausesAndResumes.subscriptionId)).toHaveLength(6);

    await until('delivery records folded', async () => {
      await caughtUp();
      const r = await call('GET', `/webhooks/subscriptions/${pausesAndResumes.subscriptionId}`);
      return r.status === 200 && r.body.delivered === '6' && r.body;
    });
    const log = await call('GET', `/webhooks/subscriptions/${pausesAndResumes.subscriptionId}/deliveries?limit=4`);
    expect(log.status).toBe(200);
    expect(log.body.deliveries).toHaveLength(4);
    expect(log.body.deliveries[0]).toMatchObject({ eventId: written[0].eventId, attempt: 1, outcome: 'delivered', httpStatus: 204, error: null });
    const next = await call('GET', `/webhooks/subscriptions/${pausesAndResumes.subscriptionId}/deliveries?after=${log.body.nextAfter}`);
    expect(next.body.deliveries.map((d: { eventId: string }) => d.eventId)).toEqual(written.slice(4).map((w) => w.eventId));
    const list = await call('GET', '/webhooks/subscriptions');
    expect(list.body.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual(expect.arrayContaining([pausesAndResumes.subscriptionId, pausesOnly.subscriptionId]));
    expect(JSON.stringify(list.body)).not.toContain(pausesAndResumes.secret);
    expect((await call('GET', `/webhooks/subscriptions/${pausesAndResumes.subscriptionId}/deliveries?outcome=nope`)).status).toBe(400);

    const q = await gql(
      app.url,
      `query($id: ID!) { webhookSubscriptions { subscriptionId status delivered } webhookDeliveries(subscriptionId: $id, first: 2) { items { eventId outcome attempt } nextCursor } }`,
      { id: pausesOnly.subscriptionId },
      admin,
    );
    expect(q.body.errors).toBeUndefined();
    expect(q.body.data.webhookSubscriptions).toEqual(expect.arrayContaining([{ subscriptionId: pausesOnly.subscriptionId, status: 'active', delivered: '3' }]));
    expect(q.body.data.webhookDeliveries.items.map((d: { eventId: string }) => d.eventId)).toEqual(pauses.slice(0, 2).map((d) => d.eventId));
    const viewer = await gql(app.url, `{ webhookSubscriptions { subscriptionId } }`, undefined, await authHeaders(app.app, 'viewer'));
    expect(viewer.body.errors?.[0].message).toMatch(/admin/);

    // Revoked: the worker stops.
    const revoke = await call('DELETE', `/webhooks/subscriptions/${pausesOnly.subscriptionId}`, { reason: 'not needed' });
    expect(revoke.status).toBe(200);
    expect(revoke.body.type).toBe('WebhookSubscriptionRevoked');
    await until('worker stopped', () => !app.app.get(WebhookDeliveryService).activeSubscriptionIds().includes(pausesOnly.subscriptionId));
    expect((await call('DELETE', `/webhooks/subscriptions/${pausesOnly.subscriptionId}`, { reason: 'again' })).status).toBe(409);
    await call('DELETE', `/webhooks/subscriptions/${pausesAndResumes.subscriptionId}`, { reason: 'done' });
  }, 60_000);

  it('retries a failing receiver, dead-letters, marks the subscription failing, and delivers everything in order once it recovers', async () => {
    flaky.status = 503;
    const sub = await subscribe(flaky, ['EnginePaused', 'EngineResumed']);
    const written = [];
    for (let i = 0; i < 4; i++) written.push(await toggleEngine());
    // Three attempts at the first event, then it is dead-lettered and probed again and again.
    await until('dead letter', () => flaky.received.filter((d) => d.subscriptionId === sub.subscriptionId).length >= 4);
    const failing = await until('subscription failing', async () => {
      await caughtUp();
      const r = await call('GET', `/webhooks/subscriptions/${sub.subscriptionId}`);
      return r.body?.status === 'failing' && r.body;
    });
    expect(failing.deadLettered).toBe('1');
    expect(failing.lastError).toBe('receiver answered 503 Service Unavailable');
    // Nothing after the dead-lettered event was sent while it was not accepted.
    expect(new Set(flaky.received.filter((d) => d.subscriptionId === sub.subscriptionId).map((d) => d.eventId))).toEqual(new Set([written[0].eventId]));
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain(`arbiter_webhook_subscription_failing{subscription="${sub.subscriptionId}"} 1`);
    const log = await call('GET', `/webhooks/subscriptions/${sub.subscriptionId}/deliveries?limit=3`);
    expect(log.body.deliveries.map((d: { attempt: number; outcome: string; httpStatus: number }) => [d.attempt, d.outcome, d.httpStatus])).toEqual([
      [1, 'failed', 503],
      [2, 'failed', 503],
      [3, 'dead_lettered', 503],
    ]);

    flaky.status = 200;
    const more = [await toggleEngine(), await toggleEngine()];
    const got = await until('all six after recovery', () => flaky.accepted(sub.subscriptionId).length >= 6 && flaky.accepted(sub.subscriptionId));
    expect(got.map((d) => d.eventId)).toEqual([...written, ...more].map((w) => w.eventId));
    expect(got.every((d) => d.signatureValid)).toBe(true);
    expect(got[0].attempt).toBeGreaterThan(3);
    await until('subscription active again', async () => {
      await caughtUp();
      const r = await call('GET', `/webhooks/subscriptions/${sub.subscriptionId}`);
      return r.body?.status === 'active' && r.body.delivered === '6';
    });
    expect(await (await fetch(`${app.url}/metrics`)).text()).toContain(`arbiter_webhook_subscription_failing{subscription="${sub.subscriptionId}"} 0`);
  }, 60_000);

  it('changes a subscription: a new filter applies to the events after it', async () => {
    const sub = await subscribe(steady, ['EngineResumed']);
    const change = await call('PATCH', `/webhooks/subscriptions/${sub.subscriptionId}`, { reason: 'pauses too', eventTypes: ['EnginePaused', 'EngineResumed'] });
    expect(change.status, JSON.stringify(change.body)).toBe(200);
    expect(change.body.type).toBe('WebhookSubscriptionChanged');
    const a = await toggleEngine();
    const b = await toggleEngine();
    const got = await until('both after the change', () => steady.accepted(sub.subscriptionId).length >= 2 && steady.accepted(sub.subscriptionId));
    expect(got.map((d) => d.eventId)).toEqual([a.eventId, b.eventId]);
    const bad = await call('PATCH', `/webhooks/subscriptions/${sub.subscriptionId}`, { reason: 'x', url: 'http://elsewhere.example/' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems[0]).toMatch(/WEBHOOK_ALLOWED_HOSTS/);
  }, 30_000);
});
