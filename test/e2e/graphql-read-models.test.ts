// The read side over HTTP like a client would use it: GraphQL queries over every read model with
// filters and cursor pagination, the engine status, the regulatory reports in JSON and CSV, the
// depth and cost limits, and error messages that say what was wrong. Every request carries a
// viewer API key.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { ProjectionsService } from '../../src/projections/projections.module.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql as rawGql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { DAY1, DAY2, oppId, saga, SOL, standardLog, type Outcome } from '../unit/projections/fixtures.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('GraphQL read models', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let viewer: Record<string, string>;
  const gql = (query: string, variables?: Record<string, unknown>) => rawGql(app.url, query, variables, viewer);

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-gql-')),
      LOG_LEVEL: 'error',
      ENGINE_AUTOSTART: 'false',
    });
    viewer = await authHeaders(app.app, 'viewer');
    const store = app.app.get<EventStore>(EVENT_STORE);
    const outcomes: Outcome[] = ['filled', 'rejected', 'blocked', 'failed', 'expired', 'quote_failed', 'abandoned', 'filled'];
    const more = Array.from({ length: 40 }, (_, i) => saga({ n: 100 + i, outcome: outcomes[i % outcomes.length], start: DAY1 + 3 * DAY + i * 7_000 }));
    for (const e of [...standardLog(), ...more.flat()]) await store.append(e.streamId, [e.event], 'any');
    await app.app.get(ProjectionsService).runner.waitUntilCaughtUp();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const expectBadInput = (r: Awaited<ReturnType<typeof gql>>, message: RegExp) => {
    expect(r.body.errors, JSON.stringify(r.body)).toBeDefined();
    expect(r.body.errors![0].message).toMatch(message);
    expect(r.body.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
  };

  it('filters executions by status, token and time range', async () => {
    const filled = await gql(`{ executions(status: "filled", token: "usdc", first: 100) { items { opportunityId status amountIn realisedPnl feeLamports signature venue finishedAt } nextCursor } }`);
    expect(filled.body.errors).toBeUndefined();
    expect(filled.body.data.executions.items).toHaveLength(13);
    expect(filled.body.data.executions.nextCursor).toBeNull();
    expect(filled.body.data.executions.items.every((x: any) => x.status === 'filled' && x.venue === 'paper' && /^-?\d+$/.test(x.realisedPnl))).toBe(true);

    const day2 = await gql(`query($f: DateTime, $t: DateTime) { executions(from: $f, to: $t) { items { opportunityId status } } }`, { f: iso(DAY2), t: iso(DAY2 + DAY) });
    expect(day2.body.data.executions.items).toEqual([
      { opportunityId: oppId(9), status: 'abandoned' },
      { opportunityId: oppId(8), status: 'filled' },
    ]);
    const one = await gql(`query($id: String!) { execution(opportunityId: $id) { status reason failedChecks riskAt signedAt } }`, { id: oppId(2) });
    expect(one.body.data.execution).toMatchObject({ status: 'rejected_by_risk', failedChecks: ['min_profit'], signedAt: null });
    expect(one.body.data.execution.reason).toMatch(/min_profit/);
  });

  it('walks every page of a list once: no duplicates, nothing missing', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const r = await gql(`query($a: String) { executions(first: 7, after: $a) { items { opportunityId } nextCursor } }`, { a: after });
      expect(r.body.errors).toBeUndefined();
      seen.push(...r.body.data.executions.items.map((x: any) => x.opportunityId));
      after = r.body.data.executions.nextCursor;
      pages++;
    } while (after && pages < 100);
    expect(seen).toHaveLength(49);
    expect(new Set(seen).size).toBe(49);
    expect(seen[0]).toBe(oppId(139)); // newest first
    expect(pages).toBe(7);

    const keys: string[] = [];
    after = null;
    do {
      const r = await gql(`query($a: String) { riskDecisions(first: 97, after: $a) { items { assessmentId check } nextCursor } }`, { a: after });
      expect(r.body.errors).toBeUndefined();
      keys.push(...r.body.data.riskDecisions.items.map((x: any) => `${x.assessmentId}/${x.check}`));
      after = r.body.data.riskDecisions.nextCursor;
    } while (after);
    expect(keys).toHaveLength(43 * 10); // every saga but the six whose quote failed, ten checks each
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('serves P&L, exposure, risk decisions and compliance flags with their filters', async () => {
    const pnl = await gql(`{ pnlDaily(token: "SOL") { items { day symbolA symbolB pnlMint realisedPnl fills feesLamports } } }`);
    expect(pnl.body.errors).toBeUndefined();
    const days = pnl.body.data.pnlDaily.items;
    expect(days.map((d: any) => d.day)).toEqual(['2026-03-04', '2026-03-02', '2026-03-01']);
    expect(days[2]).toEqual({ day: '2026-03-01', symbolA: 'SOL', symbolB: 'USDC', pnlMint: SOL, realisedPnl: '90000', fills: 2, feesLamports: '12000' });
    const pnlRange = await gql(`query($f: DateTime) { pnlDaily(from: $f, first: 1) { items { day } nextCursor } }`, { f: '2026-03-02T00:00:00.000Z' });
    expect(pnlRange.body.data.pnlDaily.items).toEqual([{ day: '2026-03-04' }]);
    const next = await gql(`query($f: DateTime, $a: String) { pnlDaily(from: $f, first: 5, after: $a) { items { day } nextCursor } }`, {
      f: '2026-03-02T00:00:00.000Z',
      a: pnlRange.body.data.pnlDaily.nextCursor,
    });
    expect(next.body.data.pnlDaily).toEqual({ items: [{ day: '2026-03-02' }], nextCursor: null });

    const exposure = await gql(`{ tokenExposure { items { mint symbol net fills } } }`);
    expect(exposure.body.data.tokenExposure.items).toEqual([{ mint: SOL, symbol: 'SOL', net: expect.stringMatching(/^-?\d+$/), fills: 13 }]);

    const risk = await gql(`query($id: String) { riskDecisions(opportunityId: $id, passed: false) { items { check passed approved limit observed unit reason inputs } } }`, { id: oppId(2) });
    expect(risk.body.data.riskDecisions.items).toHaveLength(1);
    expect(risk.body.data.riskDecisions.items[0]).toMatchObject({ check: 'min_profit', passed: false, approved: false, limit: '1', unit: 'base_units' });

    const closed = await gql(`{ complianceFlags(status: "closed") { items { opportunityId rule severity status reviewedBy closedBy outcome evidence } } }`);
    expect(closed.body.data.complianceFlags.items).toEqual([
      expect.objectContaining({ opportunityId: oppId(3), rule: 'sanctioned_address', severity: 'blocking', reviewedBy: 'operator:alice', closedBy: 'operator:bob', outcome: 'reported' }),
    ]);
    const advisory = await gql(`{ complianceFlags(severity: "advisory") { items { opportunityId rule status } } }`);
    expect(advisory.body.data.complianceFlags.items).toEqual([{ opportunityId: oppId(8), rule: 'large_transaction', status: 'reviewed' }]);
    const blocking = await gql(`{ complianceFlags(rule: "sanctioned_address", first: 500) { items { flagId } } }`);
    expect(blocking.body.data.complianceFlags.items).toHaveLength(6);
  });

  it('reports the engine status with its history', async () => {
    const r = await gql(`{ engine { mode since actor reason limitsVersion limits history(first: 2) { items { type mode actor reason cause at } nextCursor } } }`);
    expect(r.body.errors).toBeUndefined();
    const e = r.body.data.engine;
    expect(e).toMatchObject({ mode: 'ACTIVE', actor: 'operator:alice', reason: 'maintenance done', limitsVersion: 1 });
    expect(e.limits.maxSlippageBps).toBe(40);
    expect(e.history.items.map((h: any) => h.type)).toEqual(['EngineResumed', 'RiskLimitsChanged']);
    const rest = await gql(`query($a: String) { engine { history(after: $a) { items { type mode cause actor } nextCursor } } }`, { a: e.history.nextCursor });
    expect(rest.body.data.engine.history).toEqual({ items: [{ type: 'EnginePaused', mode: 'PAUSED', cause: 'operator', actor: 'operator:alice' }], nextCursor: null });
  });

  it('exports the daily transactions and suspicious-activity reports as JSON and RFC 4180 CSV', async () => {
    const q = `query($k: ReportKind!, $f: DateTime!, $t: DateTime!, $fmt: ReportFormat) {
      report(kind: $k, from: $f, to: $t, format: $fmt) {
        kind format rowCount columns content contentType
        dailyTransactions { executedAt instrument side quantity price priceUnit feeSol venue signature }
        suspiciousActivity { flagId rule severity status outcome evidence instrument }
      } }`;
    const DAY1_END = '2026-03-02T00:00:00.000Z';
    const json = await gql(q, { k: 'DAILY_TRANSACTIONS', f: iso(DAY1), t: DAY1_END, fmt: 'JSON' });
    expect(json.body.errors).toBeUndefined();
    const rep = json.body.data.report;
    expect(rep).toMatchObject({ kind: 'DAILY_TRANSACTIONS', format: 'JSON', rowCount: 2, suspiciousActivity: null, contentType: 'application/json' });
    expect(rep.dailyTransactions[0]).toMatchObject({ instrument: 'SOL/USDC', side: 'round_trip', quantity: '1.000000000', price: '1.000120000000', venue: 'paper' });
    const parsed = JSON.parse(rep.content);
    expect(parsed).toMatchObject({ report: 'daily_transactions', rowCount: 2 });
    expect(parsed.rows[1].price).toBe('0.999970000000');

    const csv = await gql(q, { k: 'DAILY_TRANSACTIONS', f: iso(DAY1), t: DAY1_END, fmt: 'CSV' });
    const text: string = csv.body.data.report.content;
    const lines = text.split('\r\n');
    expect(lines).toHaveLength(4); // header, two rows, the empty string after the final CRLF
    expect(lines[3]).toBe('');
    expect(lines[0].split(',')).toEqual(csv.body.data.report.columns);
    expect(lines[1]).toContain(',SOL/USDC,');
    expect(csv.body.data.report.contentType).toMatch(/^text\/csv/);

    const sar = await gql(q, { k: 'SUSPICIOUS_ACTIVITY', f: iso(DAY1), t: iso(DAY2 + DAY), fmt: 'CSV' });
    const s = sar.body.data.report;
    expect(s.rowCount).toBe(2);
    expect(s.suspiciousActivity.map((x: any) => [x.rule, x.severity, x.status, x.outcome])).toEqual([
      ['sanctioned_address', 'blocking', 'closed', 'reported'],
      ['large_transaction', 'advisory', 'reviewed', null],
    ]);
    // Evidence is JSON: in CSV its quotes are doubled inside a quoted field.
    expect(s.content).toMatch(/,"\{""matchedAddresses"": \[""/);
  });

  it('refuses queries that are too deep or too costly, before running them', async () => {
    let deep = 'name';
    for (let i = 0; i < 16; i++) deep = `ofType { ${deep} }`;
    const d = await gql(`{ __schema { types { fields { type { ${deep} } } } } }`);
    expect(d.body.errors?.[0].message).toMatch(/query depth \(\d+\) exceeds the query depth limit of 15/);

    const fields = 'opportunityId status source mintA mintB symbolA symbolB amountIn expectedOut expectedProfit realisedPnl feeLamports amountOut signature venue slot reason detectedAt quotedAt riskAt';
    const costly = await gql(`{ ${['a', 'b', 'c', 'd', 'e'].map((a) => `${a}: executions(first: 500) { items { ${fields} } }`).join(' ')} }`);
    expect(costly.body.errors?.[0].message).toMatch(/query is too complex: its estimated cost is \d+, above the limit of 50000/);
    expect(costly.body.data ?? null).toBeNull();
    // One full page of the same fields is fine, and so is the introspection GraphiQL sends.
    const page = await gql(`{ a: executions(first: 500) { items { ${fields} } } }`);
    expect(page.body.errors).toBeUndefined();
    const { getIntrospectionQuery } = await import('graphql');
    const intro = await gql(getIntrospectionQuery());
    expect(intro.body.errors).toBeUndefined();
  });

  it('says what was wrong with bad input', async () => {
    expectBadInput(await gql(`{ executions(first: 0) { items { status } } }`), /first must be between 1 and 500 \(got 0\)/);
    expectBadInput(await gql(`{ executions(first: 501) { items { status } } }`), /first must be between 1 and 500/);
    expectBadInput(await gql(`{ executions(after: "not-a-cursor!") { items { status } } }`), /after is not a valid cursor for executions/);
    const other = (await gql(`{ engine { history(first: 1) { nextCursor } } }`)).body.data.engine.history.nextCursor;
    expectBadInput(await gql(`query($a: String) { executions(after: $a) { items { status } } }`, { a: other }), /not a valid cursor for executions/);
    expectBadInput(
      await gql(`query($f: DateTime, $t: DateTime) { executions(from: $f, to: $t) { items { status } } }`, { f: iso(DAY2), t: iso(DAY1) }),
      /from \(2026-03-02T09:00:00.000Z\) must be before to/,
    );
    expectBadInput(await gql(`{ executions(status: "done") { items { status } } }`), /status "done" is not known; use one of detected, quoted/);
    expectBadInput(await gql(`{ complianceFlags(rule: "nope") { items { flagId } } }`), /rule "nope" is not known/);
    expectBadInput(
      await gql(`query($f: DateTime!, $t: DateTime!) { report(kind: SUSPICIOUS_ACTIVITY, from: $f, to: $t) { rowCount } }`, { f: iso(DAY2), t: iso(DAY1) }),
      /must be before to/,
    );
    const kind = await gql(`{ report(kind: MONTHLY, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { rowCount } }`);
    expect(kind.body.errors?.[0].message).toMatch(/Value "MONTHLY" does not exist in "ReportKind" enum/);
  });

  it('keeps the ledger queries: history of a stream and the projections’ status', async () => {
    const h = await gql(`query($s: String!) { history(streamId: $s) { type revision } }`, { s: `arbitrage-${oppId(1)}` });
    expect(h.body.data.history.map((e: any) => e.type)).toEqual([
      'OpportunityDetected', 'QuoteReceived', 'RiskAssessed', 'ComplianceScreened', 'TransactionSigned', 'TransactionSubmitted', 'FillConfirmed',
    ]);
    const p = await gql(`{ projections { name lag lastError } }`);
    expect(p.body.data.projections.map((x: any) => x.name)).toEqual(expect.arrayContaining(['executions', 'pnl', 'risk', 'compliance', 'reports']));
  });
});
