// Audits over HTTP like an auditor would work: the ledger's history by stream, correlation and
// position with pages and hashes; the engine and a saga as of a past position; every risk check
// beside the limit then and now; read models and reports as of a past position, equal to what
// the live ones answered at that position; evidence bundles over REST for compliance and admin
// keys only, recorded as events and re-verifiable offline; clear 400s for bad cut-offs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { ProjectionsService } from '../../src/projections/projections.module.js';
import { checkBundle } from '../../src/audit/bundle.js';
import { defaultRiskLimits, riskLimitsToJson } from '../../src/risk/limits.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql as rawGql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { DAY1, oppId, saga, standardLog, type Outcome } from '../unit/projections/fixtures.js';

const LIVE_QUERIES = `query($p: String) {
  executions(first: 100, asOfPosition: $p) { items { opportunityId status realisedPnl } nextCursor asOfPosition }
  riskDecisions(first: 100, asOfPosition: $p) { items { assessmentId check passed limit } asOfPosition }
  complianceFlags(asOfPosition: $p) { items { flagId status } asOfPosition }
  pnlDaily(asOfPosition: $p) { items { day realisedPnl fills } asOfPosition }
  tokenExposure(asOfPosition: $p) { items { mint net } asOfPosition }
  report(kind: DAILY_TRANSACTIONS, from: "2026-01-01T00:00:00Z", to: "2026-12-01T00:00:00Z", asOfPosition: $p) { rowCount content asOfPosition }
}`;

describe('audits over GraphQL and REST', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let viewer: Record<string, string>;
  let store: EventStore;
  let p1: bigint;
  let liveAtP1: any;
  const gql = (query: string, variables?: Record<string, unknown>) => rawGql(app.url, query, variables, viewer);

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-audit-')), LOG_LEVEL: 'error', ENGINE_AUTOSTART: 'false' });
    viewer = await authHeaders(app.app, 'viewer');
    store = app.app.get<EventStore>(EVENT_STORE);
    for (const e of standardLog()) await store.append(e.streamId, [e.event], 'any');
    await app.app.get(ProjectionsService).runner.waitUntilCaughtUp();
    p1 = await store.headPosition();
    liveAtP1 = (await gql(LIVE_QUERIES, { p: null })).body.data;
    // The log moves on: more sagas, and a limits change by a risk officer through the API.
    const outcomes: Outcome[] = ['filled', 'rejected', 'blocked', 'failed', 'filled'];
    for (const e of Array.from({ length: 10 }, (_, i) => saga({ n: 100 + i, outcome: outcomes[i % 5], start: DAY1 + 3 * 86_400_000 + i * 7_000 })).flat()) {
      await store.append(e.streamId, [e.event], 'any');
    }
    const risk = await authHeaders(app.app, 'risk');
    const res = await fetch(`${app.url}/risk/limits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...risk },
      body: JSON.stringify({ reason: 'wider slippage for the audit test', limits: riskLimitsToJson({ ...defaultRiskLimits({}), maxSlippageBps: 75 }) }),
    });
    expect(res.status, await res.text()).toBe(200);
    await app.app.get(ProjectionsService).runner.waitUntilCaughtUp();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('answers read models and reports as of a past position exactly as the live ones did then', async () => {
    const live = (await gql(LIVE_QUERIES, { p: null })).body.data;
    expect(live.executions.items.length).toBeGreaterThan(liveAtP1.executions.items.length); // the live view moved on
    const then = await gql(LIVE_QUERIES, { p: p1.toString() });
    expect(then.body.errors).toBeUndefined();
    const one = await gql(`query($id: String!, $p: String) { execution(opportunityId: $id, asOfPosition: $p) { status asOfPosition } }`, { id: oppId(100), p: p1.toString() });
    expect(one.body.data.execution).toBeNull(); // it began after P1
    const later = await gql(`query($id: String!) { execution(opportunityId: $id) { status asOfPosition } }`, { id: oppId(100) });
    expect(later.body.data.execution).toMatchObject({ status: 'filled', asOfPosition: null });
    const strip = (d: any) => JSON.parse(JSON.stringify(d, (k, v) => (k === 'asOfPosition' ? undefined : v)));
    expect(strip(then.body.data)).toEqual(strip(liveAtP1));
    for (const k of Object.keys(then.body.data)) expect(then.body.data[k].asOfPosition, k).toBe(p1.toString());
    expect(live.executions.asOfPosition).toBeNull();
    const builds = await gql(`{ pointInTimeBuilds { projection asOfPosition state percent expiresAt } }`);
    expect(builds.body.data.pointInTimeBuilds.map((b: any) => b.projection).sort()).toEqual(['compliance', 'executions', 'pnl', 'reports', 'risk']);
    expect(builds.body.data.pointInTimeBuilds.every((b: any) => b.state === 'ready' && b.percent === 100 && b.asOfPosition === p1.toString())).toBe(true);
  });

  it('walks the whole log by correlation id in pages, with hashes, as of a position', async () => {
    const id = oppId(1);
    const seen: any[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const r: any = await gql(
        `query($c: String, $a: String, $p: String) { ledgerEvents(correlationId: $c, asOfPosition: $p, first: 2, after: $a) { items { position streamId type contentHash hash prevHash metadata { correlationId } } nextCursor asOfPosition } }`,
        { c: id, a: after, p: p1.toString() },
      );
      expect(r.body.errors).toBeUndefined();
      seen.push(...r.body.data.ledgerEvents.items);
      after = r.body.data.ledgerEvents.nextCursor;
      if (!after) break;
    }
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.every((e) => e.metadata.correlationId === id && /^[0-9a-f]{64}$/.test(e.hash) && /^[0-9a-f]{64}$/.test(e.contentHash))).toBe(true);
    const positions = seen.map((e) => BigInt(e.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(new Set(seen.map((e) => e.streamId)).size).toBeGreaterThanOrEqual(1);

    const byType = await gql(`{ ledgerEvents(eventTypes: ["RiskLimitsChanged"], first: 10) { items { streamId metadata { actor } } } }`);
    expect(byType.body.data.ledgerEvents.items).toHaveLength(2);
    const byActor = await gql(`{ ledgerEvents(actor: "risk:carol", streamPrefix: "engine") { items { type } } }`);
    expect(byActor.body.data.ledgerEvents.items).toEqual([{ type: 'RiskLimitsChanged' }]);
    const stream = await gql(`query($s: String, $p: String) { ledgerEvents(streamId: $s, asOfPosition: $p) { items { revision } } }`, { s: `arbitrage-${id}`, p: '3' });
    expect(stream.body.data.ledgerEvents.items.map((e: any) => e.revision)).toEqual(['0', '1', '2']);
  });

  it('folds the engine and a saga as of a past point, and sets each risk check beside the limits then and now', async () => {
    const engineThen = await gql(`query($p: String) { engine(asOfPosition: $p) { mode limitsVersion limits asOfPosition realisedToday consecutiveFailedFills circuitBreakerThreshold history(first: 10) { items { type } } } }`, { p: p1.toString() });
    expect(engineThen.body.errors).toBeUndefined();
    expect(engineThen.body.data.engine).toMatchObject({ mode: 'ACTIVE', limitsVersion: 1, asOfPosition: p1.toString() });
    expect(engineThen.body.data.engine.limits.maxSlippageBps).toBe(40);
    expect(engineThen.body.data.engine.history.items.map((x: any) => x.type)).toEqual(['EngineResumed', 'RiskLimitsChanged', 'EnginePaused']);
    const engineNow = await gql(`{ engine { limitsVersion limits asOfPosition } }`);
    expect(engineNow.body.data.engine).toMatchObject({ limitsVersion: 2, asOfPosition: null });
    expect(engineNow.body.data.engine.limits.maxSlippageBps).toBe(75);

    const id = oppId(1);
    const s = await gql(`query($id: String!) { saga(opportunityId: $id, asOfPosition: "2") { phase revision asOfPosition events { type } } }`, { id });
    expect(s.body.data.saga).toMatchObject({ phase: 'quoted', revision: '1', asOfPosition: '2' });
    const none = await gql(`query($id: String!) { saga(opportunityId: $id, asOfPosition: "2") { phase } }`, { id: oppId(100) });
    expect(none.body.data.saga).toBeNull();

    const audit = await gql(`query($id: String!) { riskDecisionsAudit(opportunityId: $id) { approved limitsVersionRecorded limitsVersionThen limitsVersionNow check limit setting settingThen settingNow changedSince } }`, { id: oppId(100) });
    expect(audit.body.errors).toBeUndefined();
    const checks = audit.body.data.riskDecisionsAudit;
    expect(checks.length).toBeGreaterThan(5);
    const slip = checks.find((c: any) => c.check === 'slippage');
    // The fixture's assessment was decided on the configured limits (recorded: version 0, limit 50)
    // while the ledger had changed them to 40 (version 1): exactly what this view makes visible.
    expect(slip).toMatchObject({ setting: 'maxSlippageBps', limit: '50', limitsVersionRecorded: 0, settingThen: '40', limitsVersionThen: 1, settingNow: '75', limitsVersionNow: 2, changedSince: true });
    expect(checks.find((c: any) => c.check === 'trade_notional')).toMatchObject({ changedSince: false });
  });

  it('refuses bad cut-offs with a 400-style error naming the problem', async () => {
    const head = await store.headPosition();
    const cases: [string, RegExp][] = [
      [`{ executions(asOfPosition: "${head + 10n}") { items { status } } }`, /past the head of the log/],
      [`{ report(kind: DAILY_TRANSACTIONS, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", asOf: "2099-01-01T00:00:00Z") { rowCount } }`, /in the future/],
      [`{ engine(asOf: "2020-01-01T00:00:00Z") { mode } }`, /before the first event/],
      [`{ ledgerEvents(asOfPosition: "x") { items { id } } }`, /non-negative integer/],
      [`{ ledgerEvents(streamId: "a", streamPrefix: "b") { items { id } } }`, /not both/],
      [`{ ledgerEvents(first: 5000) { items { id } } }`, /first must be between 1 and 1000/],
      [`{ ledgerEvents(after: "nonsense") { items { id } } }`, /not a valid cursor/],
      [`{ saga(opportunityId: "x", asOf: "2026-03-01T10:00:00Z", asOfPosition: "3") { phase } }`, /not both/],
    ];
    for (const [q, message] of cases) {
      const r = await gql(q);
      expect(r.body.errors, q).toBeDefined();
      expect(r.body.errors![0].message, q).toMatch(message);
      expect(r.body.errors![0].extensions?.code, q).toBe('BAD_USER_INPUT');
    }
  });

  it('serves evidence bundles to compliance and admin keys only, records each export, and the bundle checks offline', async () => {
    const url = `${app.url}/audit/export?from=1&to=${p1}&report=suspicious_activity`;
    expect((await fetch(url, { headers: viewer })).status).toBe(403);
    expect((await fetch(url)).status).toBe(401);
    const compliance = await authHeaders(app.app, 'compliance');
    const res = await fetch(url, { headers: compliance });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="arbiter-evidence-1-\d+\.jsonl"/);
    const text = await res.text();
    const checked = checkBundle(text);
    expect(checked).toMatchObject({ ok: true, failure: null, events: Number(p1), reports: 1 });
    const admin = await authHeaders(app.app, 'admin');
    const byCorrelation = await fetch(`${app.url}/audit/export?correlation=${oppId(100)}`, { headers: admin });
    expect(byCorrelation.status).toBe(200);
    expect(checkBundle(await byCorrelation.text())).toMatchObject({ ok: true });

    const recorded = await gql(`{ ledgerEvents(eventTypes: ["AuditBundleExported"]) { items { metadata { actor } payload } } }`);
    const exports = recorded.body.data.ledgerEvents.items;
    expect(exports).toHaveLength(2);
    expect(exports[0].metadata.actor).toMatch(/^apikey:[a-z0-9]+:test compliance$/);
    expect(exports[0].payload).toMatchObject({ via: 'rest', fromPosition: '1', toPosition: p1.toString(), reports: ['suspicious_activity'], digest: checked.digest });
    expect(exports[1].payload.selection.correlationId).toBe(oppId(100));

    for (const [q, message] of [
      ['to=999999', /past the head of the log/],
      ['from=tomorrow', /must be an ISO-8601 time/],
      ['stream=a&correlation=b', /not both/],
      ['format=csv', /query parameter "format" is not known/],
      ['report=weekly', /unknown report "weekly"/],
    ] as const) {
      const r = await fetch(`${app.url}/audit/export?${q}`, { headers: compliance });
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as { message: string }).message, q).toMatch(message);
    }
  });
});
