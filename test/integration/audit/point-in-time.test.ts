// Point-in-time read models against the live ones: while a live runner follows a realistic log,
// the digests of every projection's live tables are recorded at two positions P1 and P2; after
// the log has moved on, each projection is built as of P1 and of P2 into temporary generations,
// and their digests must equal the ones the live read model showed at those positions. Also:
// the answer is read through the point-in-time schema, reused, dropped after its TTL, and bad
// cut-offs are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../../src/projections/projection-store.js';
import { AsOfError, resolveAsOf } from '../../../src/audit/as-of.js';
import { PointInTimeBuildingError, PointInTimeReadModels } from '../../../src/audit/point-in-time.js';
import { EngineFoldCheckpoints, engineStateAsOf, sagaStateAsOf } from '../../../src/audit/state-as-of.js';
import { ENGINE_STATE_EVENT_TYPES } from '../../../src/risk/engine-state.service.js';
import { defaultRiskLimits } from '../../../src/risk/limits.js';
import { allProjections } from '../../../projections/index.js';
import { loadReport } from '../../../src/reports/export.js';
import { reports } from '../../../projections/reports.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { DAY1, oppId, saga, standardLog, type Entry, type Outcome } from '../../unit/projections/fixtures.js';

function interleave(groups: Entry[][]): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; groups.some((g) => i < g.length); i++) for (const g of groups) if (i < g.length) out.push(g[i]);
  return out;
}

describe('point-in-time read models', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;
  const liveDigests = new Map<bigint, Map<string, string>>();
  let p1 = 0n;
  let p2 = 0n;
  let clock = Date.now();
  let pit: PointInTimeReadModels;

  async function appendAll(entries: Entry[]) {
    for (const e of entries) await store.append(e.streamId, [e.event], 'any');
  }
  async function recordLive(): Promise<bigint> {
    await runner.waitUntilCaughtUp();
    const head = await store.headPosition();
    const projections = new ProjectionStore(db.sql);
    const digests = new Map<string, string>();
    for (const def of allProjections) {
      const live = (await projections.active(def.name))!;
      expect(live.checkpoint, def.name).toBe(head);
      digests.set(def.name, await projections.digest(def, live.generation));
    }
    liveDigests.set(head, digests);
    return head;
  }

  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, buildEventRegistry(), { livePollMs: 50 });
    runner = new ProjectionRunner(store, db.sql, allProjections, { pollMs: 20, batchSize: 7 });
    await runner.start();
    const outcomes: Outcome[] = ['filled', 'rejected', 'blocked', 'failed', 'expired', 'quote_failed', 'abandoned', 'filled'];
    const later = (from: number, n: number) =>
      interleave(
        Array.from({ length: n }, (_, i) =>
          saga({ n: from + i, outcome: outcomes[i % outcomes.length], start: DAY1 + 3 * 86_400_000 + (from + i) * 7_000, amountOut: 1_000_000_000n + BigInt((i % 5) * 10_000 - 15_000) }),
        ),
      );
    await appendAll(standardLog());
    p1 = await recordLive();
    await appendAll(later(100, 16));
    p2 = await recordLive();
    await appendAll(later(200, 16)); // the log moves on past P2
    await runner.waitUntilCaughtUp();
    pit = new PointInTimeReadModels(store, db.sql, { ttlMs: 60_000, maxGenerations: 20, batchSize: 5000, now: () => clock });
  });
  afterAll(async () => {
    await runner?.stop();
    await pit?.close();
    await store?.close();
    await db?.drop();
  });

  it('builds every projection as of P1 and P2 identical to what the live tables showed then', async () => {
    expect(p1).toBeGreaterThan(0n);
    expect(p2).toBeGreaterThan(p1);
    expect(await store.headPosition()).toBeGreaterThan(p2);
    const projections = new ProjectionStore(db.sql);
    for (const at of [p1, p2]) {
      for (const def of allProjections) {
        const build = await pit.ensure(def, at);
        expect(build.state).toBe('ready');
        expect(build.position).toBe(at);
        const digest = await projections.digest(def, build.generation);
        expect(digest, `${def.name} at ${at}`).toBe(liveDigests.get(at)!.get(def.name));
      }
    }
    // The comparison means something: the two points differ, and the live tables have moved on.
    expect(liveDigests.get(p1)!.get('executions')).not.toBe(liveDigests.get(p2)!.get('executions'));
    const liveNow = await projections.digest(allProjections[1], (await projections.active('executions'))!.generation);
    expect(liveNow).not.toBe(liveDigests.get(p2)!.get('executions'));
  });

  it('answers queries from the point-in-time schema, reuses the build, and drops it after the TTL', async () => {
    const count = async (at: bigint) =>
      pit.read([allProjections[1]], at, async (db2, view) => {
        expect(view.asOfPosition).toBe(at);
        return (await db2.query<{ n: number }>('SELECT count(*)::int AS n FROM executions')).rows[0].n;
      });
    const live = (await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM executions')).rows[0].n;
    const atP1 = await count(p1);
    const atP2 = await count(p2);
    expect(atP1).toBeLessThan(atP2);
    expect(atP2).toBeLessThan(live);
    const before = pit.builds().filter((b) => b.projection === 'executions' && b.asOfPosition === p1);
    expect(before).toHaveLength(1);
    await count(p1);
    expect(pit.builds().filter((b) => b.projection === 'executions' && b.asOfPosition === p1)).toHaveLength(1);

    // A report as of P1 reads the point-in-time report tables.
    const report = await pit.read([reports], p1, (db2) => loadReport(db2, 'daily_transactions', '2026-01-01T00:00:00Z', '2026-12-01T00:00:00Z'));
    const liveReport = await loadReport(db.sql, 'daily_transactions', '2026-01-01T00:00:00Z', '2026-12-01T00:00:00Z');
    expect(report.rows.length).toBeGreaterThan(0);
    expect(report.rows.length).toBeLessThan(liveReport.rows.length);

    const schemas = async () =>
      (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM projection_generations WHERE status = 'point_in_time'`)).rows[0].n;
    expect(await schemas()).toBeGreaterThan(0);
    clock += 61_000;
    expect(await pit.sweep()).toBeGreaterThan(0);
    expect(await schemas()).toBe(0);
    const leftover = await db.sql.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_%' AND nspname NOT IN (SELECT 'proj_' || name || '_g' || generation FROM projection_generations)`);
    expect(leftover.rows).toEqual([]);
    expect(pit.builds()).toEqual([]);
  });

  it('answers "still building" with its progress when a caller will not wait, and the build goes on for the next ask', async () => {
    // A build in small batches, so it is still running when the caller stops waiting.
    const slow = new PointInTimeReadModels(store, db.sql, { ttlMs: 60_000, maxGenerations: 20, batchSize: 3, now: () => clock });
    try {
      const at = p2 - 1n;
      const ask = () => slow.read([allProjections[1]], at, async (db2) => (await db2.query<{ n: number }>('SELECT count(*)::int AS n FROM executions')).rows[0].n, { waitMs: 0 });
      const err = await ask().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PointInTimeBuildingError);
      const building = err as PointInTimeBuildingError;
      expect(building.message).toMatch(new RegExp(`as of position ${at} is still being built .*executions .*%.*ask again in about \\d+ s`));
      expect(building.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(building.builds[0]).toMatchObject({ projection: 'executions', asOfPosition: at, state: 'building' });
      // The same build finishes without anyone waiting on it, and the next ask is answered from it.
      const done = await slow.ensure(allProjections[1], at);
      expect(done).toMatchObject({ state: 'ready', generation: building.builds[0].generation, position: at });
      expect(await ask()).toBeGreaterThan(0);
      expect(slow.builds().filter((b) => b.projection === 'executions')).toHaveLength(1);
    } finally {
      await slow.dropOwn();
    }
  });

  it('stops a build in progress on close instead of holding up shutdown', async () => {
    const closing = new PointInTimeReadModels(store, db.sql, { ttlMs: 60_000, maxGenerations: 20, batchSize: 2, now: () => clock });
    const pending = closing.ensure(allProjections[1], p2).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    await closing.close();
    expect(await pending).toMatch(/stopped: shutting down/);
    const left = await db.sql.query(`SELECT 1 FROM projection_generations WHERE status = 'point_in_time' AND generation = $1`, [closing.builds()[0]?.generation ?? -1]);
    expect(left.rows).toEqual([]);
  });

  it('resolves times and positions, and refuses cut-offs in the future, before the first event or past the head', async () => {
    const head = await store.headPosition();
    const first = (await store.readAll({ maxCount: 1 }))[0];
    const atP1 = (await store.readAll({ after: p1 - 1n, maxCount: 1 }))[0];
    // A time resolves to a boundary: the event at the position was recorded at or before it, the next one after it.
    const byTime = await resolveAsOf(store, { time: atP1.recordedAt }, Date.now());
    const at = (await store.readAll({ after: byTime.position - 1n, maxCount: 1 }))[0];
    expect(at.position).toBe(byTime.position);
    expect(at.recordedAt <= atP1.recordedAt).toBe(true);
    expect(byTime.positionTime).toBe(at.recordedAt);
    const next = (await store.readAll({ after: byTime.position, maxCount: 1 }))[0];
    expect(next.recordedAt > atP1.recordedAt).toBe(true);
    const last = (await store.readAll({ after: head - 1n, maxCount: 1 }))[0];
    expect((await resolveAsOf(store, { time: new Date(Date.parse(last.recordedAt) + 1) }, Date.now())).position).toBe(head);
    expect((await resolveAsOf(store, { position: p1.toString() }, Date.now())).position).toBe(p1);
    await expect(resolveAsOf(store, { position: (head + 1n).toString() }, Date.now())).rejects.toThrow(/past the head of the log/);
    await expect(resolveAsOf(store, { time: new Date(Date.now() + 3_600_000) }, Date.now())).rejects.toThrow(/in the future/);
    await expect(resolveAsOf(store, { time: new Date(Date.parse(first.recordedAt) - 1000) }, Date.now())).rejects.toThrow(/before the first event/);
    await expect(resolveAsOf(store, { position: 'abc' }, Date.now())).rejects.toBeInstanceOf(AsOfError);
    await expect(resolveAsOf(store, { time: new Date(), position: '3' }, Date.now())).rejects.toThrow(/not both/);
  });

  it('folds the engine from an earlier fold\'s checkpoint to exactly the state a fold from the start gives', async () => {
    const limits = defaultRiskLimits({});
    const head = await store.headPosition();
    // A checkpoint every `every` engine events: all of the log's fit in the store's bound of 16,
    // and at least one lies before P1 (so every question but the first can resume).
    const engineEvents = await store.readAll({ maxCount: 100_000, filter: { eventTypes: ENGINE_STATE_EVENT_TYPES } });
    const every = Math.ceil(engineEvents.length / 15);
    expect(engineEvents.filter((e) => e.position <= p1).length).toBeGreaterThanOrEqual(every);
    const checkpoints = new EngineFoldCheckpoints(every, 16);
    const cuts = [head, p1, p2, (p1 + p2) / 2n, p1 + 1n, head - 3n, p2];
    let resumed = 0;
    for (const cut of cuts) {
      const fast = await engineStateAsOf(store, cut, limits, checkpoints);
      const full = await engineStateAsOf(store, cut, limits);
      expect(full.from).toBe(0n);
      expect(fast.from <= cut).toBe(true);
      if (fast.from > 0n) resumed++;
      expect(fast.state).toEqual(full.state);
    }
    // Later questions started from a checkpoint, and the store keeps to its bound.
    expect(resumed).toBeGreaterThanOrEqual(cuts.length - 1);
    expect(checkpoints.size).toBeLessThanOrEqual(16);
    // Other configured limits: no checkpoint folded from the old ones is used.
    const other = { ...limits };
    expect((await engineStateAsOf(store, head, other, checkpoints)).from).toBe(0n);
  });

  it('folds the engine and a saga as of a position with their own folds', async () => {
    const engineAtP1 = await engineStateAsOf(store, p1, defaultRiskLimits({}));
    const engineNow = await engineStateAsOf(store, await store.headPosition(), defaultRiskLimits({}));
    expect(engineNow.eventsFolded).toBeGreaterThan(engineAtP1.eventsFolded);
    const id = oppId(200); // begins after P2
    expect(await sagaStateAsOf(store, id, p2)).toBeNull();
    const now = await sagaStateAsOf(store, id, await store.headPosition());
    // The fixture's filled saga has no TransactionPrepared: the saga's state machine refuses its
    // TransactionSigned, and the audit view says so instead of failing.
    expect(now!.anomaly).toMatch(/TransactionSigned is not a transition from phase "screened"/);
    expect(now!.state.phase).toBe('screened');
    const mid = now!.events[1].position;
    const then = await sagaStateAsOf(store, id, mid);
    expect(then!.events).toHaveLength(2);
    expect(then!.state.phase).toBe('quoted');
    expect(then!.anomaly).toBeNull();
  });
});
