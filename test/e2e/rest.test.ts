// The REST control plane end to end over HTTP on real PostgreSQL: every command records its
// event with the actor and reason, roles refuse without writing, Idempotency-Key dedupes
// (also under concurrency), bad input gets a clear 4xx, the rebuild runs to a digest, the
// OpenAPI document lists every route, and GraphQL needs a key.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { ComplianceFlagRaised } from '../../src/compliance/events.js';
import { flagStreamId } from '../../src/compliance/cases.js';
import { riskLimitsToJson, defaultRiskLimits } from '../../src/risk/limits.js';
import { RebuildTracker } from '../../src/projections/rebuild-projection.js';
import { ProjectionStore } from '../../src/projections/projection-store.js';
import { findProjection } from '../../projections/index.js';
import type { Role } from '../../src/api/auth/api-keys.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { IdempotencyService } from '../../src/api/http/idempotency.js';
import { SQL_CLIENT } from '../../src/ledger/ledger.module.js';
import type { SqlClient } from '../../src/shared/sql/sql-client.js';

describe('REST control plane', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let store: EventStore;
  const keys = {} as Record<Role, Record<string, string>>;

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-rest-')), LOG_LEVEL: 'error' });
    store = app.app.get<EventStore>(EVENT_STORE);
    for (const role of ['viewer', 'operator', 'risk', 'compliance', 'admin'] as Role[]) keys[role] = await authHeaders(app.app, role);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  async function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}) {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${app.url}${path}`, { method, headers, body });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }

  const eventCount = async () => Number((await db.sql.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
  const engineEvents = () => store.readStream('engine');
  const keyIdOf = (h: Record<string, string>) => /^Bearer arb_([a-z0-9]{12})_/.exec(h.authorization)![1];

  async function raiseFlag(): Promise<string> {
    const flagId = randomUUID();
    const e = newEvent(
      ComplianceFlagRaised,
      { flagId, opportunityId: `opp-${flagId}`, rule: 'large_transaction', severity: 'advisory', evidence: {} },
      { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' },
    );
    await store.append(flagStreamId(flagId), [e], 'no_stream');
    return flagId;
  }

  describe('authentication and roles', () => {
    it('answers 401 without a key, with a malformed key and with an unknown key, and writes nothing', async () => {
      const before = await eventCount();
      for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer nope' }, { 'x-api-key': `arb_aaaaaaaaaaaa_${'x'.repeat(43)}` }]) {
        const r = await call('POST', '/engine/pause', { headers, body: { reason: 'x' } });
        expect(r.status).toBe(401);
        expect(r.body.message).toMatch(/missing or invalid API key/);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
      expect(await eventCount()).toBe(before);
    });

    it('accepts the key in X-API-Key as well as Authorization: Bearer', async () => {
      const key = keys.viewer.authorization.slice('Bearer '.length);
      const r = await call('GET', '/projections/audit_index/rebuild', { headers: { 'x-api-key': key } });
      expect(r.status).toBe(200);
      expect(r.body.state).toBeDefined();
    });

    it('answers 403 to a key whose role does not allow the command, and writes nothing', async () => {
      const flagId = await raiseFlag();
      const cases: [string, string, unknown, Role[]][] = [
        ['POST', '/engine/pause', { reason: 'r' }, ['viewer', 'risk', 'compliance']],
        ['POST', '/engine/resume', { reason: 'r' }, ['viewer', 'risk', 'compliance']],
        ['PUT', '/risk/limits', { reason: 'r', limits: riskLimitsToJson(defaultRiskLimits({})) }, ['viewer', 'operator', 'compliance']],
        ['POST', `/compliance/flags/${flagId}/review`, { note: 'n' }, ['viewer', 'operator', 'risk']],
        ['POST', '/projections/audit_index/rebuild', { reason: 'r' }, ['viewer', 'operator', 'risk', 'compliance']],
        ['POST', '/keys', { role: 'admin', label: 'sneaky' }, ['viewer', 'operator', 'risk', 'compliance']],
      ];
      const before = await eventCount();
      const keyCount = (await db.sql.query('SELECT key_id FROM api_keys')).rowCount;
      for (const [method, path, body, roles] of cases) {
        for (const role of roles) {
          const r = await call(method, path, { headers: keys[role], body });
          expect(r.status, `${role} ${method} ${path}`).toBe(403);
          expect(r.body.message).toMatch(/role/);
        }
      }
      expect(await eventCount()).toBe(before);
      expect((await db.sql.query('SELECT key_id FROM api_keys')).rowCount).toBe(keyCount);
    });

    it('keeps /health, /ready, /metrics and /docs public', async () => {
      for (const p of ['/health', '/ready', '/metrics', '/docs', '/docs/openapi.json']) {
        expect((await call('GET', p)).status, p).toBe(200);
      }
    });

    it('refuses GraphQL without a key (401) and answers it with a viewer key', async () => {
      const anon = await gql(app.url, '{ headPosition }');
      expect(anon.status).toBe(401);
      expect(anon.body.errors?.[0].message).toMatch(/API key/);
      const ok = await gql(app.url, '{ headPosition }', undefined, keys.viewer);
      expect(ok.status).toBe(200);
      expect(ok.body.errors).toBeUndefined();
      expect(typeof ok.body.data.headPosition).toBe('string');
    });

    it('refuses a revoked key', async () => {
      const issued = await call('POST', '/keys', { headers: keys.admin, body: { role: 'operator', label: 'temp operator' } });
      expect(issued.status).toBe(201);
      const h = { authorization: `Bearer ${issued.body.key}` };
      expect((await call('GET', '/projections/audit_index/rebuild', { headers: h })).status).toBe(200);
      const del = await call('DELETE', `/keys/${issued.body.keyId}`, { headers: keys.admin, body: { reason: 'no longer needed' } });
      expect(del.status).toBe(200);
      expect((await call('GET', '/projections/audit_index/rebuild', { headers: h })).status).toBe(401);
      const events = await store.readStream(`apikey-${issued.body.keyId}`);
      expect(events.map((e) => e.type)).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
      expect(events[1].payload).toMatchObject({ keyId: issued.body.keyId, reason: 'no longer needed', actor: `apikey:${keyIdOf(keys.admin)}:test admin` });
      expect(JSON.stringify(events.map((e) => [e.payload, e.metadata]))).not.toContain(issued.body.key);
      expect((await call('DELETE', `/keys/${issued.body.keyId}`, { headers: keys.admin })).status).toBe(404);
    });
  });

  describe('commands', () => {
    it('pauses and resumes the engine, recording the actor and reason', async () => {
      const pause = await call('POST', '/engine/pause', { headers: keys.operator, body: { reason: 'feed lagging' } });
      expect(pause.status).toBe(200);
      const actor = `apikey:${keyIdOf(keys.operator)}:test operator`;
      expect(pause.body).toMatchObject({ type: 'EnginePaused', streamId: 'engine', actor });
      let events = await engineEvents();
      const paused = events.find((e) => e.id === pause.body.eventId)!;
      expect(paused.type).toBe('EnginePaused');
      expect(paused.revision.toString()).toBe(pause.body.revision);
      expect(paused.position.toString()).toBe(pause.body.position);
      expect(paused.metadata.actor).toBe(actor);
      expect(paused.payload).toEqual({ actor, reason: 'feed lagging', cause: 'operator' });

      const again = await call('POST', '/engine/pause', { headers: keys.operator, body: { reason: 'twice' } });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/already PAUSED/);

      const resume = await call('POST', '/engine/resume', { headers: keys.admin, body: { reason: 'feed back' } });
      expect(resume.status).toBe(200);
      events = await engineEvents();
      const resumed = events.find((e) => e.id === resume.body.eventId)!;
      expect(resumed.type).toBe('EngineResumed');
      expect(resumed.payload).toMatchObject({ reason: 'feed back', actor: `apikey:${keyIdOf(keys.admin)}:test admin` });
      expect(events.filter((e) => e.type === 'EnginePaused')).toHaveLength(1);
    });

    it('puts the engine in REDUCING mode and back (operator only)', async () => {
      const r = await call('POST', '/engine/reduce', { headers: keys.operator, body: { reason: 'end of day wind-down' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ type: 'EngineReducing', streamId: 'engine' });
      const again = await call('POST', '/engine/reduce', { headers: keys.operator, body: { reason: 'twice' } });
      expect(again.status).toBe(409);
      expect((await call('POST', '/engine/reduce', { headers: keys.viewer, body: { reason: 'no' } })).status).toBe(403);
      const back = await call('POST', '/engine/resume', { headers: keys.operator, body: { reason: 'new day' } });
      expect(back.status).toBe(200);
      const types = (await engineEvents()).map((e) => e.type);
      expect(types.slice(-2)).toEqual(['EngineReducing', 'EngineResumed']);
    });

    it('replaces the risk limits (integers or digit strings) and records them', async () => {
      const limits = { ...riskLimitsToJson(defaultRiskLimits({})), maxSlippageBps: 25, dailyLossLimitUsdMicros: '50000000' };
      const r = await call('PUT', '/risk/limits', { headers: keys.risk, body: { reason: 'tighter after incident', limits } });
      expect(r.status).toBe(200);
      const e = (await engineEvents()).find((x) => x.id === r.body.eventId)!;
      expect(e.type).toBe('RiskLimitsChanged');
      expect(e.payload).toMatchObject({ reason: 'tighter after incident', limits: { maxSlippageBps: 25, dailyLossLimitUsdMicros: '50000000' } });
      expect(e.metadata.actor).toBe(`apikey:${keyIdOf(keys.risk)}:test risk`);
    });

    it('refuses limits that are out of range, fractional or incomplete, naming the field', async () => {
      const before = await eventCount();
      const base = riskLimitsToJson(defaultRiskLimits({}));
      const bad = await call('PUT', '/risk/limits', { headers: keys.risk, body: { reason: 'r', limits: { ...base, maxSlippageBps: 20_000 } } });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/maxSlippageBps must be between 0 and 10000/);
      const frac = await call('PUT', '/risk/limits', { headers: keys.risk, body: { reason: 'r', limits: { ...base, maxSlippageBps: 1.5 } } });
      expect(frac.status).toBe(400);
      expect(frac.body.problems.join(' ')).toMatch(/limits\.maxSlippageBps/);
      const { maxOrdersPerMinute: _gone, ...partial } = base;
      const missing = await call('PUT', '/risk/limits', { headers: keys.risk, body: { reason: 'r', limits: partial } });
      expect(missing.status).toBe(400);
      expect(missing.body.message).toMatch(/maxOrdersPerMinute is required/);
      expect(await eventCount()).toBe(before);
    });

    it('reviews then closes a compliance flag, and refuses closing an open one or an unknown flag', async () => {
      const flagId = await raiseFlag();
      const early = await call('POST', `/compliance/flags/${flagId}/review`, { headers: keys.compliance, body: { action: 'close', note: 'n', outcome: 'dismissed' } });
      expect(early.status).toBe(409);
      expect(early.body.message).toMatch(/still open: review it/);

      const review = await call('POST', `/compliance/flags/${flagId}/review`, { headers: keys.compliance, body: { note: 'checked the counterparty' } });
      expect(review.status).toBe(200);
      expect(review.body).toMatchObject({ type: 'ComplianceFlagReviewed', streamId: flagStreamId(flagId), revision: '1' });
      const close = await call('POST', `/compliance/flags/${flagId}/review`, { headers: keys.compliance, body: { action: 'close', note: 'benign', outcome: 'dismissed' } });
      expect(close.status).toBe(200);
      const events = await store.readStream(flagStreamId(flagId));
      expect(events.map((e) => e.type)).toEqual(['ComplianceFlagRaised', 'ComplianceFlagReviewed', 'ComplianceFlagClosed']);
      const actor = `apikey:${keyIdOf(keys.compliance)}:test compliance`;
      expect(events[1].payload).toEqual({ flagId, actor, note: 'checked the counterparty' });
      expect(events[2].payload).toEqual({ flagId, actor, note: 'benign', outcome: 'dismissed' });

      const unknown = await call('POST', `/compliance/flags/${randomUUID()}/review`, { headers: keys.compliance, body: { note: 'n' } });
      expect(unknown.status).toBe(404);
      const notUuid = await call('POST', '/compliance/flags/abc/review', { headers: keys.compliance, body: { note: 'n' } });
      expect(notUuid.status).toBe(400);
      expect(notUuid.body.message).toMatch(/not a UUID/);
    });
  });

  describe('idempotency', () => {
    it('answers a retry with the same key and body with the first response and writes once', async () => {
      const flagId = await raiseFlag();
      const headers = { ...keys.compliance, 'idempotency-key': randomUUID() };
      const first = await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'looked' } });
      expect(first.status).toBe(200);
      const before = await eventCount();
      const second = await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'looked' } });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await eventCount()).toBe(before);
      expect(await store.readStream(flagStreamId(flagId))).toHaveLength(2);
    });

    it('prunes answers older than the retention, and a retry after that still writes nothing new', async () => {
      const flagId = await raiseFlag();
      const headers = { ...keys.compliance, 'idempotency-key': randomUUID() };
      const first = await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'old' } });
      expect(first.status).toBe(200);
      const sql = app.app.get<SqlClient>(SQL_CLIENT);
      await sql.query(`UPDATE api_idempotency SET created_at = now() - interval '8 days' WHERE idempotency_key = $1`, [headers['idempotency-key']]);
      expect(await app.app.get(IdempotencyService).prune()).toBe(1);
      const before = await eventCount();
      const retry = await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'old' } });
      // The replay record is gone, but the event id derives from the key: the store sees the same
      // event, so nothing new is written.
      expect(await eventCount()).toBe(before);
      expect(retry.status).toBe(200);
      expect(retry.body.eventId).toBe(first.body.eventId);
    });

    it('answers 422 to the same key with a different body, and writes nothing', async () => {
      const flagId = await raiseFlag();
      const headers = { ...keys.compliance, 'idempotency-key': randomUUID() };
      expect((await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'one' } })).status).toBe(200);
      const before = await eventCount();
      const other = await call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'two' } });
      expect(other.status).toBe(422);
      expect(other.body.message).toMatch(/already used for a different request/);
      expect(await eventCount()).toBe(before);
    });

    it('writes once when the same request arrives many times in parallel', async () => {
      const flagId = await raiseFlag();
      const headers = { ...keys.compliance, 'idempotency-key': randomUUID() };
      const results = await Promise.all(
        Array.from({ length: 8 }, () => call('POST', `/compliance/flags/${flagId}/review`, { headers, body: { note: 'parallel' } })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(new Set(results.map((r) => r.body.eventId)).size).toBe(1);
      expect((await store.readStream(flagStreamId(flagId))).map((e) => e.type)).toEqual(['ComplianceFlagRaised', 'ComplianceFlagReviewed']);
    });

    it('replays a recorded refusal too, and keys are per API key', async () => {
      const key = randomUUID();
      const first = await call('POST', '/engine/resume', { headers: { ...keys.operator, 'idempotency-key': key }, body: { reason: 'already active' } });
      expect(first.status).toBe(409);
      const second = await call('POST', '/engine/resume', { headers: { ...keys.operator, 'idempotency-key': key }, body: { reason: 'already active' } });
      expect(second.status).toBe(409);
      expect(second.body).toEqual(first.body);
      // Another key's use of the same Idempotency-Key is a different request.
      const pause = await call('POST', '/engine/pause', { headers: { ...keys.admin, 'idempotency-key': key }, body: { reason: 'other actor' } });
      expect(pause.status).toBe(200);
      const resume = await call('POST', '/engine/resume', { headers: keys.admin, body: { reason: 'undo' } });
      expect(resume.status).toBe(200);
    });

    it('refuses a malformed Idempotency-Key', async () => {
      const r = await call('POST', '/engine/pause', { headers: { ...keys.operator, 'idempotency-key': 'x'.repeat(201) }, body: { reason: 'r' } });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/Idempotency-Key/);
    });

    it('replays an issued key without the secret', async () => {
      const headers = { ...keys.admin, 'idempotency-key': randomUUID() };
      const first = await call('POST', '/keys', { headers, body: { role: 'viewer', label: 'dashboard' } });
      expect(first.status).toBe(201);
      expect(first.body.key).toMatch(/^arb_/);
      const again = await call('POST', '/keys', { headers, body: { role: 'viewer', label: 'dashboard' } });
      expect(again.status).toBe(201);
      expect(again.body).toEqual({ ...first.body, key: null });
      expect((await db.sql.query(`SELECT key_id FROM api_keys WHERE label = 'dashboard'`)).rowCount).toBe(1);
    });
  });

  describe('input validation', () => {
    const send = (opts: { body?: unknown; raw?: string; headers?: Record<string, string> }) =>
      call('POST', '/engine/pause', { ...opts, headers: { ...keys.operator, ...(opts.headers ?? {}) } });

    it('answers 400 "body is not valid JSON" to malformed JSON', async () => {
      const r = await send({ raw: '{"reason": ', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/^body is not valid JSON/);
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.js/);
    });

    it('names unknown fields, wrong types, a missing or blank reason', async () => {
      const unknown = await send({ body: { reason: 'r', force: true } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.problems).toEqual([expect.stringMatching(/^force is not a known field/)]);
      const wrong = await send({ body: { reason: 42 } });
      expect(wrong.status).toBe(400);
      expect(wrong.body.message).toMatch(/reason must be a string \(got a number\)/);
      const missing = await send({ body: {} });
      expect(missing.status).toBe(400);
      expect(missing.body.message).toMatch(/reason is required/);
      const blank = await send({ body: { reason: '   ' } });
      expect(blank.status).toBe(400);
      expect(blank.body.message).toMatch(/reason must not be blank/);
      const long = await send({ body: { reason: 'x'.repeat(2001) } });
      expect(long.status).toBe(400);
      expect(long.body.message).toMatch(/reason must have at most 2000 characters/);
      const array = await send({ body: [1, 2] });
      expect(array.status).toBe(400);
      expect(array.body.message).toMatch(/must be a JSON object/);
      const none = await call('POST', '/engine/pause', { headers: keys.operator });
      expect(none.status).toBe(400);
      expect(none.body.message).toMatch(/JSON body is required/);
    });

    it('answers 413 to an oversized body and 415 to a body that is not JSON', async () => {
      const big = await send({ body: { reason: 'x'.repeat(300 * 1024) } });
      expect(big.status).toBe(413);
      expect(big.body.message).toMatch(/larger than the 256 KiB limit/);
      const text = await send({ raw: 'reason=pause', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      const xml = await send({ raw: '<reason/>', headers: { 'content-type': 'application/xml' } });
      expect(xml.status).toBe(415);
    });

    it('answers 404 with a clear message for an unknown route or projection', async () => {
      const r = await call('POST', '/projections/nope/rebuild', { headers: keys.admin, body: { reason: 'r' } });
      expect(r.status).toBe(404);
      expect(r.body.message).toMatch(/there is no projection "nope"; projections: .*audit_index/);
    });
  });

  describe('projection rebuild', () => {
    it('accepts (202), records the request, shows progress and ends with the live digest', async () => {
      const def = findProjection('audit_index')!;
      const r = await call('POST', '/projections/audit_index/rebuild', { headers: keys.admin, body: { reason: 'schema change' } });
      expect(r.status).toBe(202);
      expect(r.headers.get('location')).toBe('/projections/audit_index/rebuild');
      expect(r.body).toMatchObject({ type: 'ProjectionRebuildRequested', streamId: 'projection-audit_index', statusUrl: '/projections/audit_index/rebuild' });
      const [requested] = await store.readStream('projection-audit_index');
      expect(requested.payload).toEqual({ projection: 'audit_index', actor: `apikey:${keyIdOf(keys.admin)}:test admin`, reason: 'schema change' });

      await app.app.get(RebuildTracker).settled('audit_index');
      const status = await call('GET', '/projections/audit_index/rebuild', { headers: keys.viewer });
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ projection: 'audit_index', state: 'completed', requestEventId: r.body.eventId, error: null });
      expect(status.body.progress.percent).toBe(100);
      expect(status.body.progress.eventsApplied).toBeGreaterThan(0);
      expect(status.body.result.digest).toMatch(/^audit_streams:\d+:[0-9a-f]{32}$/);

      // The rebuilt generation is the live one, and it matches the log.
      const projections = new ProjectionStore(db.sql);
      const active = (await projections.active('audit_index'))!;
      expect(active.generation).toBe(status.body.result.generation);
      expect(await projections.digest(def, active.generation)).toBe(status.body.result.digest);
      const { rows } = await db.sql.query<{ stream_id: string; event_count: string }>('SELECT stream_id, event_count FROM audit_streams');
      const counts = await db.sql.query<{ stream_id: string; n: string }>('SELECT stream_id, count(*) AS n FROM events GROUP BY stream_id');
      expect(Object.fromEntries(rows.map((x) => [x.stream_id, String(x.event_count)]))).toEqual(Object.fromEntries(counts.rows.map((x) => [x.stream_id, String(x.n)])));
    });

    it('answers 409 while a rebuild of the same projection is running', async () => {
      const tracker = app.app.get(RebuildTracker);
      const release = tracker.reserve('audit_index', 'test', 'hold');
      try {
        const before = await eventCount();
        const r = await call('POST', '/projections/audit_index/rebuild', { headers: keys.admin, body: { reason: 'second' } });
        expect(r.status).toBe(409);
        expect(r.body.message).toMatch(/already running/);
        expect(await eventCount()).toBe(before);
      } finally {
        release();
      }
    });
  });

  describe('OpenAPI and metrics', () => {
    it('documents every route the app serves, with its role and error responses', async () => {
      const r = await call('GET', '/docs/openapi.json');
      expect(r.body.openapi).toBe('3.1.0');
      const documented = new Set(Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
      for (const route of ['POST /engine/pause', 'POST /engine/resume', 'POST /engine/reduce', 'PUT /risk/limits', 'POST /compliance/flags/{id}/review', 'POST /projections/{name}/rebuild', 'GET /projections/{name}/rebuild', 'POST /keys', 'DELETE /keys/{id}', 'GET /keys', 'GET /health', 'GET /ready', 'GET /metrics', 'GET /docs/openapi.json', 'POST /graphql']) {
        expect(documented.has(route), route).toBe(true);
      }
      // Every documented path really answers (not 404) on this app.
      for (const route of documented) {
        const [method, path] = route.split(' ');
        const concrete = path.replace('{id}', randomUUID()).replace('{name}', 'audit_index');
        const res = await call(method, concrete, { headers: { 'content-type': 'application/json' }, raw: method === 'GET' ? undefined : '{}' });
        expect(res.status, route).not.toBe(404);
      }
      const pause = r.body.paths['/engine/pause'].post;
      expect(pause['x-required-role']).toBe('operator');
      expect(Object.keys(pause.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '409', '413', '415', '422']));
      expect(pause.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
      expect(r.body.components.schemas.ReasonBody.required).toEqual(['reason']);
    });

    it('records arbiter_http_request_duration_seconds by route pattern, method and status', async () => {
      const flag = randomUUID();
      await call('POST', `/compliance/flags/${flag}/review`, { headers: keys.compliance, body: { note: 'n' } });
      const text = (await call('GET', '/metrics')).body as string;
      expect(text).toMatch(/arbiter_http_request_duration_seconds_count\{method="POST",route="\/compliance\/flags\/:id\/review",status="404"\} \d+/);
      expect(text).toMatch(/arbiter_http_request_duration_seconds_count\{method="POST",route="\/engine\/pause",status="401"\} \d+/);
      expect(text).not.toContain(flag);
    });
  });
});
