// Benchmarks of the ledger core on the local PostgreSQL (DATABASE_URL, default 127.0.0.1:5432).
// Prints figures; asserts nothing. `npm run bench` (add `-- --quick` for a smaller run).
import pg from 'pg';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NewEvent } from '../src/ledger/envelope.js';
import { EventTypeRegistry } from '../src/ledger/event-types.js';
import { PostgresEventStore, type AppendOutcome, type AppendRequest } from '../src/ledger/postgres/postgres-event-store.js';
import { rebuildProjection } from '../src/projections/projection-runner.js';
import { migrate, migrationsDir } from '../src/shared/sql/migrator.js';
import { PgSqlClient } from '../src/shared/sql/pg-client.js';
import { auditIndex } from '../projections/audit-index.js';
import { auditBench } from './audit.js';
import { catchUpBench } from './catchup.js';
import { graphqlBench } from './graphql.js';
import { sagaBench } from './saga.js';
import { sealBench } from './seal.js';
import { webhooksBench } from './webhooks.js';
import { haBench } from './ha.js';
import { roundTripBench } from './round-trip.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
function benchArgs(): { quick: boolean; only: string } {
  try {
    const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string', default: 'all' } }, strict: true, allowPositionals: false });
    return { quick: values.quick, only: values.only };
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\nusage: npm run bench [-- --quick] [-- --only=ledger|saga|graphql|seal|webhooks|audit|catchup|ha|roundtrip]`);
    process.exit(2);
  }
}
const { quick, only } = benchArgs();
if (!['all', 'ledger', 'saga', 'graphql', 'seal', 'webhooks', 'audit', 'catchup', 'ha', 'roundtrip'].includes(only)) {
  console.error(`--only must be ledger, saga, graphql, seal, webhooks, audit, catchup, ha or roundtrip (got "${only}")`);
  process.exit(2);
}
const STREAMS = quick ? 200 : 2000;
const PER_STREAM = 10;
const REBUILD_EVENTS = quick ? 10_000 : 100_000;

const registry = new EventTypeRegistry(true);
const meta = { correlationId: 'bench', causationId: null, actor: 'bench', tenant: 'default' };
const event = (i: number): NewEvent => ({
  id: randomUUID(),
  type: 'FillConfirmed',
  version: 1,
  payload: { opportunityId: randomUUID(), amountIn: '1000000000', amountOut: String(1000000000 + i), slot: String(300000000 + i) },
  metadata: meta,
  recordedAt: new Date().toISOString(),
});

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `arbiter_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    const a = new pg.Client({ connectionString: SERVER });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  }
}

const rows: string[][] = [];
function report(name: string, events: number, seconds: number, note = '') {
  const rate = Math.round(events / seconds);
  rows.push([name, String(events), seconds.toFixed(2), String(rate), note]);
  console.log(`${name.padEnd(58)} ${String(events).padStart(7)} events ${seconds.toFixed(2).padStart(7)} s ${String(rate).padStart(8)} ev/s ${note}`);
}

/**
 * The previous append for the before/after pairs: the same store (the same checks, hashing and
 * grouping in the process) sending each group as 020's one jsonb document to 020's
 * arbiter_append, on a database migrated only up to 020.
 */
class Store020 extends PostgresEventStore {
  protected override async runAppend(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    // 020's document; payloads are already JSON text, so they go in as they are.
    const doc = `[${requests
      .map(
        (r) =>
          `{"stream":${JSON.stringify(r.stream)},"expected":${JSON.stringify(r.expected)}${r.fence ? `,"fence":${JSON.stringify(r.fence)}` : ''},"events":[${r.events
            .map(({ payload, ...e }) => `${JSON.stringify(e).slice(0, -1)},"payload":${payload}}`)
            .join(',')}]}`,
      )
      .join(',')}]`;
    const { rows } = await this.sql.query<{ r: AppendOutcome[] | string }>('SELECT arbiter_append($1::jsonb) AS r', [doc]);
    const r = rows[0].r;
    return typeof r === 'string' ? (JSON.parse(r) as AppendOutcome[]) : r;
  }
}

/** Commits and events per store since its last perCommit (from the store's onAppend), for the notes. */
const commits = new Map<PostgresEventStore, { events: number; groups: number }>();
function counting(): { onAppend: (seconds: number, events: number) => void; track: (s: PostgresEventStore) => PostgresEventStore } {
  const c = { events: 0, groups: 0 };
  return {
    onAppend: (_s, n) => {
      c.events += n;
      c.groups += 1;
    },
    track: (store) => (commits.set(store, c), store),
  };
}
function perCommit(store: PostgresEventStore, batch: number): string {
  const c = commits.get(store)!;
  const note = c.groups ? `${(c.events / c.groups / batch).toFixed(1)} appends/commit` : '';
  c.events = 0;
  c.groups = 0;
  return note;
}

/** Runs `writers` loops over the stream ids; each loop appends its share one append at a time. */
async function appendBench(stores: PostgresEventStore[], writers: number, batch: number): Promise<number> {
  const streamIds = Array.from({ length: STREAMS }, (_, s) => `bench-${randomBytes(3).toString('hex')}-${s}`);
  const work: { stream: string; n: number }[] = [];
  for (let r = 0; r < PER_STREAM / batch; r++) for (const s of streamIds) work.push({ stream: s, n: batch });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const store = stores[w % stores.length];
      for (;;) {
        const job = work[next++];
        if (!job) return;
        await store.append(job.stream, Array.from({ length: job.n }, (_, i) => event(i)), 'any');
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The raw limits: the same payloads into a plain table with no constraints (what a hand-rolled
 * event table would do), `rowsPerTx` rows per INSERT statement, each its own transaction
 * (autocommit), `writers` connections taking turns at the work.
 */
async function rawBench(url: string, writers: number, rowsPerTx: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: writers });
  await pool.query('CREATE TABLE IF NOT EXISTS naive_events (id bigserial PRIMARY KEY, stream_id text, payload jsonb)');
  const total = STREAMS * PER_STREAM;
  const values = Array.from({ length: rowsPerTx }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
  const text = `INSERT INTO naive_events (stream_id, payload) VALUES ${values}`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (;;) {
        const first = next;
        next += rowsPerTx;
        if (first >= total) return;
        const params: unknown[] = [];
        for (let i = 0; i < rowsPerTx; i++) params.push('s', JSON.stringify(event(first + i).payload));
        await pool.query(text, params);
      }
    }),
  );
  const s = (performance.now() - started) / 1000;
  await pool.end();
  return s;
}

/** COPY of the same rows from a CSV file the server reads itself (no client transfer: an upper bound). */
async function copyBench(url: string): Promise<number> {
  const total = STREAMS * PER_STREAM;
  const file = join(tmpdir(), `arbiter-bench-copy-${randomBytes(4).toString('hex')}.csv`);
  const csv = Array.from({ length: total }, (_, i) => `s,"${JSON.stringify(event(i).payload).replace(/"/g, '""')}"`).join('\n');
  writeFileSync(file, `${csv}\n`, { mode: 0o644 });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE IF NOT EXISTS naive_events (id bigserial PRIMARY KEY, stream_id text, payload jsonb)');
    const started = performance.now();
    await c.query(`COPY naive_events (stream_id, payload) FROM '${file}' WITH (FORMAT csv)`);
    return (performance.now() - started) / 1000;
  } finally {
    await c.end();
    rmSync(file, { force: true });
  }
}

async function main() {
  console.log(`Arbiter ledger benchmarks — PostgreSQL ${new URL(SERVER).host}, ${cpus().length} cores, node ${process.version}${quick ? ' (quick)' : ''}\n`);
  const total = STREAMS * PER_STREAM;
  if (only === 'all' || only === 'ledger') await ledgerBench(total);
  if (only === 'all' || only === 'saga') {
    for (const concurrency of [1, 4]) {
      const sagaRows = await withDatabase((url) => sagaBench(url, quick ? 100 : 500, concurrency));
      console.log(`\n| saga step (${concurrency} at once) | count | p50 ms | p99 ms |\n|---|---:|---:|---:|`);
      for (const r of sagaRows) console.log(`| ${r.join(' | ')} |`);
    }
  }
  if (only === 'all' || only === 'roundtrip') {
    // No database: the Solana venue against the Jupiter and Solana RPC (litesvm) stand-ins in this process.
    const runs = quick ? 100 : 500;
    console.log(`\nRound trip on the Solana venue: compose + simulate + sign, ${runs} runs against the stand-ins`);
    const r = await roundTripBench(runs);
    console.log(`\n${r.note}\n\n| round trip | runs | p50 ms | p99 ms |\n|---|---:|---:|---:|`);
    for (const row of r.rows) console.log(`| ${row.join(' | ')} |`);
  }
  if (only === 'all' || only === 'seal') {
    const sealRows = await sealBench(withDatabase, quick);
    console.log('\n| tamper evidence | cost |\n|---|---:|');
    for (const r of sealRows) console.log(`| ${r.join(' | ')} |`);
  }
  if (only === 'all' || only === 'webhooks') {
    for (const subscriptions of [1, 4]) {
      const w = await withDatabase((url) => webhooksBench(url, { backlog: quick ? 200 : 1000, subscriptions, live: quick ? 50 : 200 }));
      console.log(`\n| webhooks (${subscriptions} subscription${subscriptions > 1 ? 's' : ''}) | deliveries | seconds / p50 | deliveries/s / p99 |\n|---|---:|---:|---:|`);
      for (const r of w) console.log(`| ${r.join(' | ')} |`);
    }
  }
  if (only === 'all' || only === 'graphql') {
    const events = quick ? 100_000 : 1_000_000;
    console.log(`\nGraphQL under load (ledger of ${events.toLocaleString('en-US')} events)`);
    const g = await withDatabase((url) => graphqlBench(url, { events, templates: quick ? 100 : 300, seconds: quick ? 3 : 10, connections: 10 }));
    console.log(`\nledger: ${g.ledger}\n\n| query | requests/s | p50 ms | p99 ms | errors/non-2xx | response |\n|---|---:|---:|---:|---:|---:|`);
    for (const r of g.rows) console.log(`| ${r.join(' | ')} |`);
  }
  if (only === 'all' || only === 'catchup') {
    // CATCHUP_BENCH_EVENTS overrides the size (e.g. a smaller ledger on a busy machine).
    const events = Number(process.env.CATCHUP_BENCH_EVENTS ?? (quick ? 100_000 : 1_000_000));
    console.log(`\nCatch-up: every projection from position 0 on a ledger of ${events.toLocaleString('en-US')} events`);
    const c = await withDatabase((url) => catchUpBench(url, events, quick ? 100 : 300));
    console.log(`\nledger: ${c.ledger}\n\n| catch-up of all projections | positions | seconds | positions/s |\n|---|---:|---:|---:|`);
    for (const r of c.rows) console.log(`| ${r.join(' | ')} |`);
  }
  if (only === 'all' || only === 'ha') {
    const runs = quick ? 3 : 5;
    console.log(`\nHA takeover: two app processes, the leader killed with SIGKILL ${runs} times (default lease: TTL 5 s, renew 1 s, acquire 1 s)`);
    const h = await withDatabase((url) => haBench(url, runs));
    console.log('\n| run | kill → trading under the new token, ms |\n|---|---:|');
    for (const r of h.rows) console.log(`| ${r.join(' | ')} |`);
    console.log(`| median | ${h.medianMs.toFixed(0)} |\n| max | ${h.maxMs.toFixed(0)} |`);
  }
  if (only === 'all' || only === 'audit') {
    // AUDIT_BENCH_EVENTS overrides the size (e.g. a smaller ledger on a busy machine).
    const events = Number(process.env.AUDIT_BENCH_EVENTS ?? (quick ? 100_000 : 1_000_000));
    console.log(`\nAudits: point-in-time questions at the middle of a ledger of ${events.toLocaleString('en-US')} events`);
    const a = await withDatabase((url) => auditBench(url, events, quick ? 100 : 300));
    console.log(`\nledger: ${a.ledger}\n\n| question | ms | note |\n|---|---:|---|`);
    for (const r of a.rows) console.log(`| ${r.join(' | ')} |`);
  }
}

/**
 * The append against the raw limits, and the previous append (migrations ≤ 020: 020's
 * arbiter_append, one jsonb document per group) against this one (021, arbiter_append_group by
 * columns), on two databases in the same run, each figure taken in turn on both so that the
 * machine's load falls on both alike. Both go through the same store code in the process (its
 * checks, hashing and grouping); the note says how many appends shared each commit.
 */
async function ledgerBench(total: number) {
  await withDatabase((url) =>
    withDatabase(async (oldUrl) => {
      const sql = new PgSqlClient(url, { max: 10 });
      await migrate(sql);
      const cNew = counting();
      const store = cNew.track(new PostgresEventStore(sql, registry, { onAppend: cNew.onAppend }));
      const oldDir = mkdtempSync(join(tmpdir(), 'arbiter-migrations-'));
      for (const f of readdirSync(migrationsDir()).filter((f) => f < '021')) cpSync(join(migrationsDir(), f), join(oldDir, f));
      const oldSql = new PgSqlClient(oldUrl, { max: 10 });
      await migrate(oldSql, oldDir);
      const cOld = counting();
      const oldStore = cOld.track(new Store020(oldSql, registry, { onAppend: cOld.onAppend }));

      const raw1 = await rawBench(url, 1, 1);
      report(`raw INSERT, 1 row per transaction, 1 writer`, total, raw1, 'raw limit');
      const raw8 = await rawBench(url, 8, 1);
      report(`raw INSERT, 1 row per transaction, 8 writers`, total, raw8, 'raw limit');
      const raw10x1 = await rawBench(url, 1, 10);
      report(`raw INSERT, 10 rows per transaction, 1 writer`, total, raw10x1, 'raw limit');
      const raw10x8 = await rawBench(url, 8, 10);
      report(`raw INSERT, 10 rows per transaction, 8 writers`, total, raw10x8, 'raw limit');
      const multi = await rawBench(url, 1, 1000);
      report(`raw multi-row INSERT, 1,000 rows per statement`, total, multi, 'raw limit');
      const copy = await copyBench(url);
      report(`raw COPY (server-side file)`, total, copy, 'raw limit');

      const ratio = (raw: number, s: number) => `${(raw / s).toFixed(2)} of the raw rate (${Math.round(total / raw)} ev/s)`;
      const pair = async (name: string, raw: number, batch: number, run: (st: PostgresEventStore) => Promise<number>, note = '') => {
        perCommit(oldStore, batch);
        perCommit(store, batch);
        const before = await run(oldStore);
        const beforeCommits = perCommit(oldStore, batch);
        const after = await run(store);
        const afterCommits = perCommit(store, batch);
        report(`${name} — before (020 append)`, total, before, `${ratio(raw, before)}${note}; ${beforeCommits}`);
        report(`${name} — after (021 append)`, total, after, `${ratio(raw, after)}${note}; ${afterCommits}`);
      };
      await pair(`append 1 event/append, 1 writer`, raw1, 1, (st) => appendBench([st], 1, 1));
      await pair(`append 1 event/append, 8 writers`, raw8, 1, (st) => appendBench([st], 8, 1), '; one process, group commit');
      await pair(`append 10 events/append, 1 writer`, raw10x1, 10, (st) => appendBench([st], 1, 10));
      await pair(`append 10 events/append, 8 writers`, raw10x8, 10, (st) => appendBench([st], 8, 10), '; one process, group commit');
      await pair(`bulk: 10 events/append, 128 writers`, multi, 10, (st) => appendBench([st], 128, 10), ' (multi-row INSERT); many streams per group');
      const sepOld = Array.from({ length: 8 }, () => new Store020(new PgSqlClient(oldUrl, { max: 1 }), registry));
      const sepNew = Array.from({ length: 8 }, () => new PostgresEventStore(new PgSqlClient(url, { max: 1 }), registry));
      const sBefore = await appendBench(sepOld, 8, 1);
      const sAfter = await appendBench(sepNew, 8, 1);
      report(`append 1 event/append, 8 writers, 8 connections — before (020 append)`, total, sBefore, `${ratio(raw8, sBefore)}; like 8 processes`);
      report(`append 1 event/append, 8 writers, 8 connections — after (021 append)`, total, sAfter, `${ratio(raw8, sAfter)}; like 8 processes`);
      for (const s of [...sepOld, ...sepNew]) await s.sql.close();
      await oldSql.close();
      rmSync(oldDir, { recursive: true, force: true });

      // Top the log up to the rebuild size with 100-event appends, then read and rebuild.
      let have = Number(await store.headPosition());
      const fillers: Promise<unknown>[] = [];
      while (have < REBUILD_EVENTS) {
        const n = Math.min(100, REBUILD_EVENTS - have);
        fillers.push(store.append(`fill-${have % 5000}`, Array.from({ length: n }, (_, i) => event(i)), 'any'));
        have += n;
        if (fillers.length >= 16) await Promise.all(fillers.splice(0));
      }
      await Promise.all(fillers);
      const head = await store.headPosition();

      let after = 0n;
      let read = 0;
      const t0 = performance.now();
      for (;;) {
        const page = await store.readAll({ after, maxCount: 5000 });
        if (!page.length) break;
        read += page.length;
        after = page[page.length - 1].position;
      }
      report(`full read of the global log (pages of 5000)`, read, (performance.now() - t0) / 1000);

      const r = await rebuildProjection(store, sql, auditIndex);
      report(`rebuild projection audit_index over the log`, r.eventsApplied, r.seconds, `head ${head}`);
      await sql.close();
    }),
  );
  console.log('\n| benchmark | events | seconds | events/s | note |\n|---|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
