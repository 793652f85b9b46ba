// GraphQL under load: fills a scratch ledger with ≥ 1,000,000 saga events, lets the projections
// catch up, starts the real server (dist/src/main.js, its own process so the load generator does
// not share its event loop) and measures representative queries with autocannon on 127.0.0.1.
//
// The ledger is real sagas, multiplied: a few hundred opportunities run through the app (simulated
// market, risk, compliance, keystore signer, paper venue) give the templates; each clone gets new
// ids (opportunity, events, flags, signatures) and its times shifted so the clones spread over the
// last 30 days, and goes to the store in one append per stream (group commit does the batching).
// Every payload still passes the event catalog's validation on append.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppModule } from '../src/app.module.js';
import { issueApiKey } from '../src/api/auth/api-keys.js';
import { buildEventRegistry } from '../src/event-catalog.js';
import type { NewEvent, RecordedEvent } from '../src/ledger/envelope.js';
import { PostgresEventStore } from '../src/ledger/postgres/postgres-event-store.js';
import { OPPORTUNITY_SOURCE } from '../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../src/market/simulated/simulated-market.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import { PgSqlClient } from '../src/shared/sql/pg-client.js';
import { AdvanceArbitrage, DetectOpportunity } from '../src/trading/commands.js';
import type { SagaState } from '../src/trading/saga.js';
import { allProjections } from '../projections/index.js';
import { setTimeout as sleep } from 'node:timers/promises';

// autocannon ships no types; the few fields used here.
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

export interface GraphqlBenchOptions {
  /** Events the ledger must hold at least. */
  events: number;
  /** Sagas run through the app to serve as templates. */
  templates: number;
  /** Seconds of load per query. */
  seconds: number;
  connections: number;
  /** Instead of the load test: measure something else against the built ledger and the running server (bench/audit.ts). */
  measure?: (ctx: { url: string; key: string; sql: PgSqlClient; store: PostgresEventStore; head: bigint }) => Promise<string[][]>;
  /** Instead of the server and the load: measure something against the built ledger alone, once the projections have caught up (bench/catchup.ts). */
  offline?: (ctx: { sql: PgSqlClient; store: PostgresEventStore; head: bigint }) => Promise<string[][]>;
}

const DAY_MS = 86_400_000;
const SPAN_DAYS = 30;
const ISO_RE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z/;
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58Random(length: number): string {
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += B58[bytes[i] % 58];
  return s;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (t0: number) => (performance.now() - t0) / 1000;

// ---------------------------------------------------------------- templates

type Slot = { key: number } | { time: number };
interface Template {
  /** Literal JSON pieces with slots between them: pieces.length === slots.length + 1. */
  pieces: string[];
  slots: Slot[];
  /** What each key is: a uuid, or a base58 signature of this length. */
  keys: ({ kind: 'uuid' } | { kind: 'b58'; length: number })[];
  /** The earliest time in the saga (ms): clones shift every time by (their start − this). */
  start: number;
  events: number;
  outcome: string;
}

interface StreamJson {
  streamId: string;
  events: NewEvent[];
}

/** Turns one saga (its stream and its flag streams) into a template with slots for ids and times. */
function makeTemplate(opportunityId: string, streams: { streamId: string; events: RecordedEvent[] }[], outcome: string): Template {
  const keyValues = new Map<string, { kind: 'uuid' } | { kind: 'b58'; length: number }>();
  keyValues.set(opportunityId, { kind: 'uuid' });
  for (const s of streams) {
    for (const e of s.events) {
      keyValues.set(e.id, { kind: 'uuid' });
      const p = e.payload as Record<string, unknown>;
      if (typeof p.flagId === 'string') keyValues.set(p.flagId, { kind: 'uuid' });
      if (typeof p.signature === 'string') keyValues.set(p.signature, { kind: 'b58', length: p.signature.length });
    }
  }
  const json: StreamJson[] = streams.map((s) => ({
    streamId: s.streamId,
    events: s.events.map((e) => ({ id: e.id, type: e.type, version: e.version, payload: e.payload, metadata: e.metadata, recordedAt: e.recordedAt })),
  }));
  const text = JSON.stringify(json);
  const names = [...keyValues.keys()].sort((a, b) => b.length - a.length);
  const re = new RegExp(`${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}|${ISO_RE.source}`, 'g');
  const pieces: string[] = [];
  const slots: Slot[] = [];
  let last = 0;
  let start = Infinity;
  for (const m of text.matchAll(re)) {
    pieces.push(text.slice(last, m.index));
    last = m.index! + m[0].length;
    const k = names.indexOf(m[0]);
    if (k >= 0) slots.push({ key: k });
    else {
      const t = Date.parse(m[0]);
      slots.push({ time: t });
      start = Math.min(start, t);
    }
  }
  pieces.push(text.slice(last));
  return { pieces, slots, keys: names.map((n) => keyValues.get(n)!), start, events: streams.reduce((n, s) => n + s.events.length, 0), outcome };
}

/** A fresh copy of a template: new ids and signatures, every time moved to start at `startMs`. */
function cloneTemplate(t: Template, startMs: number): StreamJson[] {
  const values = t.keys.map((k) => (k.kind === 'uuid' ? randomUUID() : base58Random(k.length)));
  const shift = startMs - t.start;
  let out = t.pieces[0];
  for (let i = 0; i < t.slots.length; i++) {
    const s = t.slots[i];
    out += ('key' in s ? values[s.key] : new Date(s.time + shift).toISOString()) + t.pieces[i + 1];
  }
  return JSON.parse(out) as StreamJson[];
}

/** Runs `count` sagas through the app (4 at once, like the engine) and returns how each ended. */
async function runTemplateSagas(count: number): Promise<Map<string, string>> {
  Logger.overrideLogger(['error']);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  await app.init();
  const bus = app.get(CommandBus);
  const market = app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
  const outcomes = new Map<string, string>();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next++ < count) {
          const c = market.next();
          let s = await bus.execute<DetectOpportunity, SagaState>(new DetectOpportunity(c));
          while (s.phase !== 'finished') s = await bus.execute<AdvanceArbitrage, SagaState>(new AdvanceArbitrage(c.opportunityId));
          outcomes.set(c.opportunityId, s.outcome ?? 'unknown');
        }
      }),
    );
  } finally {
    await app.close();
  }
  return outcomes;
}

// ---------------------------------------------------------------- fill and catch up

async function readAllEvents(store: PostgresEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000, raw: true });
    if (!page.length) return all;
    all.push(...page);
    after = page[page.length - 1].position;
  }
}

async function fillLedger(store: PostgresEventStore, templates: Template[], target: number, have: number): Promise<{ events: number; seconds: number }> {
  // Round-robin over the templates keeps the real mix of outcomes; clones are taken in time order.
  const plan: number[] = [];
  for (let n = have, k = 0; n < target; k++) {
    plan.push(k % templates.length);
    n += templates[k % templates.length].events;
  }
  const end = Date.now() - 60_000;
  const step = (SPAN_DAYS * DAY_MS) / plan.length;
  const total = have + plan.reduce((n, i) => n + templates[i].events, 0);
  let appended = have;
  let next = 0;
  const started = performance.now();
  const progress = setInterval(() => {
    const s = secs(started);
    console.log(`  fill: ${fmt(appended)} / ${fmt(total)} events, ${fmt((appended - have) / s)} events/s`);
  }, 5000);
  try {
    // Enough writers in flight that each group commit carries a few hundred appends.
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        for (;;) {
          const k = next++;
          if (k >= plan.length) return;
          const t = templates[plan[k]];
          const streams = cloneTemplate(t, end - SPAN_DAYS * DAY_MS + k * step);
          // Flags first, as the saga appends them before its ComplianceScreened.
          const saga = streams.find((s) => s.streamId.startsWith('arbitrage-'))!;
          await Promise.all(streams.filter((s) => s !== saga).map((s) => store.append(s.streamId, s.events, 'no_stream')));
          await store.append(saga.streamId, saga.events, 'no_stream');
          appended += t.events;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  return { events: appended - have, seconds: secs(started) };
}

async function catchUp(store: PostgresEventStore, sql: PgSqlClient): Promise<number> {
  const runner = new ProjectionRunner(store, sql, allProjections);
  const started = performance.now();
  await runner.start();
  const progress = setInterval(() => {
    void runner.status().then((st) => console.log(`  catch-up ${secs(started).toFixed(0)} s: lag ${st.map((s) => `${s.name} ${fmt(Number(s.lag))}`).join(', ')}`));
  }, 10_000);
  try {
    await runner.waitUntilCaughtUp(60 * 60_000);
  } finally {
    clearInterval(progress);
    await runner.stop();
  }
  return secs(started);
}

// ---------------------------------------------------------------- the server and the load

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(databaseUrl: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const main = join(dirname(fileURLToPath(import.meta.url)), '../src/main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ENGINE_AUTOSTART: 'false',
      LOG_LEVEL: 'warn',
      // The benchmark measures query cost, not the per-key rate limit (600/min by default).
      RATE_LIMIT_PER_KEY_PER_MINUTE: '0',
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-bench-http-')),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  // The app folds the log's history before it listens (engine state, saga recovery): on a large
  // ledger that takes a while, and the time is itself a figure worth printing.
  const started = performance.now();
  const deadline = Date.now() + 15 * 60_000;
  let nextNote = 30;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready:\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not answer /health within 15 minutes:\n${output}`);
    }
    if (secs(started) >= nextNote) {
      console.log(`  server still starting after ${nextNote} s`);
      nextNote += 30;
    }
    await sleep(200);
  }
}

interface BenchQuery {
  name: string;
  query: string;
  /** Whether a response's data is the non-empty answer the benchmark means to measure. */
  check: (data: any) => boolean;
}

async function pickSubjects(sql: PgSqlClient) {
  const { rows } = await sql.query<{ opportunity_id: string; symbol_a: string; first_at: Date | string; stream_id: string }>(
    `SELECT opportunity_id, symbol_a, first_at, stream_id FROM executions WHERE status = 'filled'
      ORDER BY first_position OFFSET (SELECT count(*) / 2 FROM executions WHERE status = 'filled') LIMIT 1`,
  );
  if (!rows.length) throw new Error('no filled execution in the ledger: nothing representative to query');
  const r = rows[0];
  const day = new Date(new Date(r.first_at).toISOString().slice(0, 10) + 'T00:00:00.000Z');
  return { opportunityId: r.opportunity_id, streamId: r.stream_id, token: r.symbol_a, from: day.toISOString(), to: new Date(day.getTime() + DAY_MS).toISOString() };
}

function queries(s: Awaited<ReturnType<typeof pickSubjects>>): BenchQuery[] {
  const page = 'items { opportunityId status symbolA symbolB amountIn amountOut realisedPnl signature firstAt finishedAt } nextCursor';
  return [
    { name: 'executions(first: 50, status: filled)', query: `{ executions(first: 50, status: "filled") { ${page} } }`, check: (d) => d.executions.items.length === 50 },
    {
      name: `executions(first: 50, token: ${s.token}, one day)`,
      query: `{ executions(first: 50, token: "${s.token}", from: "${s.from}", to: "${s.to}") { ${page} } }`,
      check: (d) => d.executions.items.length > 0,
    },
    {
      name: 'riskDecisions(opportunityId) of one saga',
      query: `{ riskDecisions(opportunityId: "${s.opportunityId}") { items { check passed limit observed unit reason assessedAt } } }`,
      check: (d) => d.riskDecisions.items.length > 0,
    },
    {
      name: 'history(streamId) of one saga',
      query: `{ history(streamId: "${s.streamId}") { type revision position recordedAt payload hash } }`,
      check: (d) => d.history.length >= 6,
    },
    { name: 'engine { mode }', query: '{ engine { mode since limitsVersion } }', check: (d) => typeof d.engine.mode === 'string' },
    {
      name: 'report(DAILY_TRANSACTIONS) of one day',
      query: `{ report(kind: DAILY_TRANSACTIONS, from: "${s.from}", to: "${s.to}") { rowCount dailyTransactions { executedAt instrument quantity proceeds realisedPnl feeLamports signature } } }`,
      check: (d) => d.report.rowCount > 0,
    },
  ];
}

async function loadQuery(url: string, key: string, q: BenchQuery, seconds: number, connections: number): Promise<string[]> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  const body = JSON.stringify({ query: q.query });
  // A benchmark of error responses is worthless: the first answer must be a 200 with the data.
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (res.status !== 200 || !json || json.errors || !json.data || !q.check(json.data)) {
    throw new Error(`${q.name}: the first response is not a usable answer (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  let gqlErrors = 0;
  const r = await autocannon({
    url: `${url}/graphql`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', headers, body, onResponse: (_status: number, b: string) => (gqlErrors += b.startsWith('{"errors"') || b.includes('"errors":[') ? 1 : 0) }],
  });
  const bad = r.errors + r.timeouts + r.non2xx + gqlErrors;
  const row = [q.name, r.requests.average.toFixed(0), r.latency.p50.toFixed(1), r.latency.p99.toFixed(1), String(bad), `${(text.length / 1024).toFixed(1)} KiB`];
  console.log(`  ${q.name.padEnd(48)} ${row[1].padStart(7)} req/s  p50 ${row[2].padStart(7)} ms  p99 ${row[3].padStart(7)} ms  errors ${row[4]}  (${r.requests.total} requests)`);
  return row;
}

// ---------------------------------------------------------------- entry

export interface GraphqlBenchResult {
  /** One line on the ledger: size, fill and catch-up times. */
  ledger: string;
  /** Per query: name, requests/s, p50 ms, p99 ms, errors (transport, non-2xx, GraphQL), response size. */
  rows: string[][];
}

export async function graphqlBench(databaseUrl: string, opts: GraphqlBenchOptions): Promise<GraphqlBenchResult> {
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-bench-')),
    ENGINE_AUTOSTART: 'false',
    SIM_SEED: '7',
    // The default 30 orders a minute would reject nearly every template saga at risk; the
    // simulated market and compliance's velocity rule still reject and block their share.
    RISK_MAX_ORDERS_PER_MINUTE: '100000',
    // Below the default $10,000 (above the $1,000 trade limit, so it never fires) so that some
    // trades carry an advisory flag and the compliance read models are not empty.
    COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: '400000000',
  });

  let t0 = performance.now();
  const outcomes = await runTemplateSagas(opts.templates);
  console.log(`templates: ${outcomes.size} sagas through the app in ${secs(t0).toFixed(1)} s`);

  const sql = new PgSqlClient(databaseUrl, { max: 10 });
  const store = new PostgresEventStore(sql, buildEventRegistry());
  try {
    const log = await readAllEvents(store);
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of log) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    const flagsOf = new Map<string, string[]>();
    for (const e of log) {
      if (e.type !== 'ComplianceFlagRaised') continue;
      const opp = (e.payload as { opportunityId: string }).opportunityId;
      flagsOf.set(opp, [...(flagsOf.get(opp) ?? []), e.streamId]);
    }
    const templates: Template[] = [];
    for (const [opp, outcome] of outcomes) {
      const streamIds = [`arbitrage-${opp}`, ...(flagsOf.get(opp) ?? [])];
      templates.push(makeTemplate(opp, streamIds.map((streamId) => ({ streamId, events: byStream.get(streamId) ?? [] })), outcome));
    }
    const mix = new Map<string, number>();
    for (const t of templates) mix.set(t.outcome, (mix.get(t.outcome) ?? 0) + 1);
    const perSaga = templates.reduce((n, t) => n + t.events, 0) / templates.length;
    const failed = new Map<string, number>();
    for (const e of log) {
      if (e.type === 'RiskAssessed') for (const f of (e.payload as { failedChecks: string[] }).failedChecks) failed.set(f, (failed.get(f) ?? 0) + 1);
    }
    const flags = log.filter((e) => e.type === 'ComplianceFlagRaised').length;
    console.log(`  failed risk checks ${JSON.stringify(Object.fromEntries(failed))}; ${flags} compliance flags`);
    console.log(`  outcomes ${JSON.stringify(Object.fromEntries(mix))}; ${perSaga.toFixed(1)} events per saga; log holds ${fmt(log.length)} events`);

    console.log(`filling the ledger to ${fmt(opts.events)} events (one append per stream, 256 writers, group commit)`);
    const fill = await fillLedger(store, templates, opts.events, log.length);
    const head = Number(await store.headPosition());
    console.log(`  filled: ${fmt(fill.events)} events in ${fill.seconds.toFixed(1)} s = ${fmt(fill.events / fill.seconds)} events/s; head ${fmt(head)}`);

    console.log(`projections catching up (${allProjections.map((p) => p.name).join(', ')})`);
    const catchUpSeconds = await catchUp(store, sql);
    console.log(`  caught up in ${catchUpSeconds.toFixed(1)} s = ${fmt(head / catchUpSeconds)} log positions/s`);
    const counts = await sql.query<{ executions: string; decisions: string; flags: string }>(
      `SELECT (SELECT count(*) FROM executions)::text AS executions, (SELECT count(*) FROM risk_decisions)::text AS decisions,
              (SELECT count(*) FROM compliance_flags)::text AS flags`,
    );
    const c = counts.rows[0];
    console.log(`  read models: ${fmt(Number(c.executions))} executions, ${fmt(Number(c.decisions))} risk decisions, ${fmt(Number(c.flags))} compliance flags`);

    if (opts.offline) {
      const rows = await opts.offline({ sql, store, head: BigInt(head) });
      return { ledger: `${fmt(head)} events (${fmt(Number(c.executions))} sagas, ${SPAN_DAYS} days); filled in ${fill.seconds.toFixed(0)} s`, rows };
    }
    const subjects = await pickSubjects(sql);
    const { key } = await issueApiKey(sql, 'viewer', 'graphql-bench');
    t0 = performance.now();
    const server = await startServer(databaseUrl);
    const startSeconds = secs(t0);
    console.log(`server: ${server.url} ready in ${startSeconds.toFixed(1)} s; ${opts.connections} connections, ${opts.seconds} s per query`);
    const rows: string[][] = [];
    try {
      if (opts.measure) rows.push(...(await opts.measure({ url: server.url, key, sql, store, head: BigInt(head) })));
      else for (const q of queries(subjects)) rows.push(await loadQuery(server.url, key, q, opts.seconds, opts.connections));
    } finally {
      await server.stop();
    }
    const ledger =
      `${fmt(head)} events (${fmt(Number(c.executions))} sagas, ${SPAN_DAYS} days); filled in ${fill.seconds.toFixed(0)} s ` +
      `(${fmt(fill.events / fill.seconds)} events/s), projections caught up in ${catchUpSeconds.toFixed(0)} s, server started in ${startSeconds.toFixed(0)} s`;
    return { ledger, rows };
  } finally {
    await sql.close();
  }
}
