// The application end to end over HTTP on real PostgreSQL: health, readiness, metrics, and the
// ledger's GraphQL queries.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql, startApp } from '../support/app.js';
import { TransactionSigned } from '../../src/signing/events.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { authHeaders } from '../support/auth.js';

describe('application over HTTP', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let viewer: Record<string, string>;
  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-e2e-')), LOG_LEVEL: 'error' });
    viewer = await authHeaders(app.app, 'viewer');
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('answers /health and /ready', async () => {
    expect(await (await fetch(`${app.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${app.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' }); // the checks are for callers with a key
    const detailed = await fetch(`${app.url}/ready`, { headers: viewer });
    expect(((await detailed.json()) as { checks: unknown }).checks).toMatchObject({ eventStore: 'ok (postgres)', postgres: 'ok (postgres)' });
  });

  it('records appends in /metrics and serves a stream history as of a time over GraphQL', async () => {
    const store = app.app.get<EventStore>(EVENT_STORE);
    const meta = { correlationId: 'opp-1', causationId: null, actor: 'engine', tenant: 'default' };
    const payload = {
      opportunityId: 'opp-1',
      signature: '5'.repeat(87),
      signerPublicKey: '11111111111111111111111111111111',
      keyId: 'local',
      signerKind: 'keystore' as const,
      messageHash: 'a'.repeat(64),
    };
    const first = newEvent(TransactionSigned, payload, meta, { recordedAt: '2026-01-01T00:00:00.000Z' });
    const second = newEvent(TransactionSigned, payload, meta, { recordedAt: '2026-01-02T00:00:00.000Z' });
    await store.append('arbitrage-opp-1', [first, second], 'no_stream');

    const r = await gql(app.url, `query($s: String!, $u: DateTime) { history(streamId: $s, until: $u) { id type revision position payload metadata { actor correlationId } hash } }`, {
      s: 'arbitrage-opp-1',
      u: '2026-01-01T12:00:00.000Z',
    }, viewer);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.history).toHaveLength(1);
    expect(r.body.data.history[0]).toMatchObject({ id: first.id, type: 'TransactionSigned', revision: '0', metadata: { actor: 'engine' } });
    expect(r.body.data.history[0].payload.signerKind).toBe('keystore');

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/arbiter_event_store_events_appended_total 2/);
    expect(metrics).toMatch(/arbiter_event_store_append_duration_seconds_count 1/);
    expect(metrics).toMatch(/arbiter_projection_lag_events\{projection="audit_index"\} \d+/);
  });

  it('says what was wrong with a bad GraphQL query', async () => {
    const r = await gql(app.url, `{ history(streamId: "x", limit: 0) { id } }`, undefined, viewer);
    expect(r.body.errors?.[0].message).toMatch(/limit must be between 1 and 10000/);
    const bad = await gql(app.url, `{ nope }`, undefined, viewer);
    expect(bad.body.errors?.[0].message).toMatch(/Cannot query field "nope"/);
  });
});
