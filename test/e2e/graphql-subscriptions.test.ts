// GraphQL subscriptions over WebSocket, driven by the graphql-ws client like the console uses
// them, against the app on real PostgreSQL: the key rides in connection_init and the same roles
// apply; engine changes, saga progress, compliance flags, projection status and rebuild progress
// arrive live.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComplianceFlagRaised } from '../../src/compliance/events.js';
import { flagStreamId } from '../../src/compliance/cases.js';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { sagaStreamId } from '../../src/trading/events.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';

/** Subscribes and collects results until `enough` says so (or the subscription ends). */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>, enough: (items: T[]) => boolean): { done: Promise<T[]>; ready: Promise<void>; items: T[] } {
  const items: T[] = [];
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const done = new Promise<T[]>((resolve, reject) => {
    const stop = client.subscribe<T>(
      { query, variables },
      {
        next: (v) => {
          if (v.errors?.length) return reject(new Error(v.errors.map((e) => e.message).join('; ')));
          items.push(Object.values(v.data as Record<string, T>)[0]);
          if (enough(items)) {
            stop();
            resolve(items);
          }
        },
        error: (err) => reject(Array.isArray(err) ? new Error(err.map((e: any) => e.message).join('; ')) : err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(items),
      },
    );
    // The server subscribes to the log on `subscribe`; give it a moment to register.
    setTimeout(ready, 300);
  });
  return { done, ready: readyP, items };
}

describe('GraphQL subscriptions over WebSocket', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let viewerKey: string;
  let operator: Record<string, string>;
  let admin: Record<string, string>;
  const clients: Client[] = [];
  const client = (key: string | null) => {
    const c = createClient({
      url: `${app.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: key ? { authorization: `Bearer ${key}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-subs-')), SIM_SEED: '11' });
    viewerKey = (await authHeaders(app.app, 'viewer')).authorization.slice('Bearer '.length);
    operator = await authHeaders(app.app, 'operator');
    admin = await authHeaders(app.app, 'admin');
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await app?.close();
    await db?.drop();
  });

  it('refuses a subscription without a valid key, saying how to send one', async () => {
    const { done } = collect(client(null), 'subscription { engineChanged { type } }', {}, () => true);
    await expect(done).rejects.toThrow(/API key/);
  });

  it('pushes an engine pause to a viewer as it is recorded', async () => {
    const sub = collect<any>(client(viewerKey), 'subscription { engineChanged { type mode actor reason position } }', {}, (xs) => xs.length >= 1);
    await sub.ready;
    const res = await fetch(`${app.url}/engine/pause`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'subscription test' }) });
    expect(res.status).toBe(200);
    const [change] = await sub.done;
    expect(change).toMatchObject({ type: 'EnginePaused', mode: 'PAUSED', reason: 'subscription test' });
    expect(change.actor).toMatch(/^apikey:/);
    await fetch(`${app.url}/engine/resume`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'back' }) });
  });

  it('pushes each event of a saga, in order, filtered by opportunity', async () => {
    const saga = app.app.get(ArbitrageSagaService);
    const market = app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    const opportunity = market.next();
    const id = opportunity.opportunityId;
    const all = collect<any>(client(viewerKey), 'subscription { sagaProgress { opportunityId type position } }', {}, () => false);
    const one = collect<any>(client(viewerKey), 'subscription($id: String) { sagaProgress(opportunityId: $id) { opportunityId type } }', { id }, (xs) => xs.length >= 2);
    await Promise.all([all.ready, one.ready]);
    const state = await saga.runNew(opportunity);
    expect(state.phase).toBe('finished');
    const recorded = await app.app.get<EventStore>(EVENT_STORE).readStream(sagaStreamId(id));
    const mineNow = () => all.items.filter((x) => x.opportunityId === id);
    for (let i = 0; i < 100 && mineNow().length < recorded.length; i++) await new Promise((r) => setTimeout(r, 100));
    const mine = mineNow();
    expect(mine.map((e) => e.type)).toEqual(recorded.map((e) => e.type));
    expect(mine.map((e) => e.position)).toEqual(recorded.map((e) => e.position.toString()));
    // It stops listening after two; events that arrived in the same push may come with them.
    const filtered = await one.done;
    expect(filtered.length).toBeGreaterThanOrEqual(2);
    expect(filtered.map((x) => x.opportunityId)).toEqual(filtered.map(() => id));
    expect(filtered.map((x) => x.type)).toEqual(recorded.slice(0, filtered.length).map((e) => e.type));
  });

  it('pushes a raised compliance flag', async () => {
    const sub = collect<any>(client(viewerKey), 'subscription { complianceFlagChanged { type flagId rule severity opportunityId } }', {}, (xs) => xs.length >= 1);
    await sub.ready;
    const store = app.app.get<EventStore>(EVENT_STORE);
    const flagId = randomUUID();
    await store.append(
      flagStreamId(flagId),
      [newEvent(ComplianceFlagRaised, { flagId, opportunityId: 'opp-sub-1', rule: 'large_transaction', severity: 'advisory', evidence: { notionalUsdMicros: '1' } }, { correlationId: 'opp-sub-1', causationId: null, actor: 'test', tenant: 'default' })],
      'no_stream',
    );
    expect((await sub.done)[0]).toEqual({ type: 'ComplianceFlagRaised', flagId, rule: 'large_transaction', severity: 'advisory', opportunityId: 'opp-sub-1' });
  });

  it('sends projection status and follows a rebuild to 100 %', async () => {
    const status = collect<any>(client(viewerKey), 'subscription { projectionStatus { name lag generation } }', {}, (xs) => xs.length >= 1);
    const [first] = await status.done;
    expect(first.map((p: any) => p.name)).toContain('executions');
    const res = await fetch(`${app.url}/projections/executions/rebuild`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'subscription test' }) });
    expect(res.status).toBe(202);
    const progress = collect<any>(client(viewerKey), 'subscription { rebuildProgress(projection: "executions") { state percent digest } }', {}, (xs) => xs.some((x) => x.state === 'completed' || x.state === 'failed'));
    const seen = await progress.done;
    expect(seen.at(-1)).toMatchObject({ state: 'completed', percent: 100 });
    expect(seen.at(-1).digest).toMatch(/[0-9a-f]{16,}/);
  });

  it('names an unknown projection', async () => {
    const { done } = collect(client(viewerKey), 'subscription { rebuildProgress(projection: "nope") { state } }', {}, () => true);
    await expect(done).rejects.toThrow(/no projection "nope"/);
  });

  it('answers whoami and verifyLedger over HTTP', async () => {
    const me = await gql(app.url, '{ whoami { role allows } verifyLedger { ok eventsChecked failure { reason } } }', {}, admin);
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data.whoami).toEqual({ role: 'admin', allows: ['operator', 'risk', 'compliance', 'admin'] });
    expect(me.body.data.verifyLedger.ok).toBe(true);
    expect(me.body.data.verifyLedger.eventsChecked).toBeGreaterThan(5);
  });
});
