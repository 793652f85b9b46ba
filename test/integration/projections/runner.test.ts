// Projection runner on the real PostgreSQL: exactly-once under failures and concurrent runners,
// and a rebuild of an unchanged log that comes out identical to the live tables.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProjectionDefinition } from '../../../src/projections/projection.js';
import { ProjectionRunner, rebuildProjection } from '../../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../../src/projections/projection-store.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { auditIndex } from '../../../projections/audit-index.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';

async function fill(store: PostgresEventStore, streams: number, perStream: number, tag = 'x') {
  for (let i = 0; i < perStream; i++) {
    await Promise.all(Array.from({ length: streams }, (_, s) => store.append(`${tag}-${s}`, [ev('Filled', { s, i })], 'any')));
  }
}

/** A projection of one event type that records the positions it saw. */
const counter = (name: string, type: string): ProjectionDefinition => ({
  name,
  version: 1,
  eventTypes: [type],
  tables: [`${name}_seen`],
  ddl: `CREATE TABLE ${name}_seen (position bigint PRIMARY KEY)`,
  async apply(tx, events) {
    for (const e of events) await tx.query(`INSERT INTO ${name}_seen (position) VALUES ($1)`, [e.position.toString()]);
  },
});

describe('projection runner', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let projections: ProjectionStore;
  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, testRegistry(), { livePollMs: 50 });
    projections = new ProjectionStore(db.sql);
  });
  afterAll(() => db.drop());

  const counts = async () =>
    (await db.sql.query<{ stream_id: string; event_count: string }>('SELECT stream_id, event_count FROM audit_streams ORDER BY stream_id')).rows.map(
      (r) => `${r.stream_id}=${r.event_count}`,
    );

  it('catches up, follows live appends, and reports lag', async () => {
    await fill(store, 5, 4, 'live');
    const runner = new ProjectionRunner(store, db.sql, [auditIndex], { pollMs: 50, batchSize: 7 });
    await runner.start();
    await runner.waitUntilCaughtUp();
    expect(await counts()).toEqual(['live-0=4', 'live-1=4', 'live-2=4', 'live-3=4', 'live-4=4']);
    await fill(store, 2, 3, 'later');
    await runner.waitUntilCaughtUp();
    expect(await counts()).toContain('later-1=3');
    const [status] = await runner.status();
    expect(status.lag).toBe(0n);
    expect(status.checkpoint).toBe(await store.headPosition());
    await runner.stop();
  });

  it('never double-applies when a batch fails half-way, or when two runners race', async () => {
    let failNext = true;
    const flaky: ProjectionDefinition = {
      ...auditIndex,
      async apply(tx, events) {
        await auditIndex.apply(tx, events);
        if (failNext && events.length > 1) {
          failNext = false;
          throw new Error('crash after writing rows, before the checkpoint');
        }
      },
    };
    await fill(store, 3, 5, 'crash');
    const a = new ProjectionRunner(store, db.sql, [flaky], { pollMs: 20, batchSize: 4 });
    const b = new ProjectionRunner(store, db.sql, [auditIndex], { pollMs: 20, batchSize: 3 });
    // a alone first, so its first batch (4 events) is the one that fails; then both race.
    await a.start();
    await a.waitUntilCaughtUp();
    await b.start();
    await fill(store, 3, 5, 'crash2');
    await a.waitUntilCaughtUp();
    await b.waitUntilCaughtUp();
    await Promise.all([a.stop(), b.stop()]);
    expect(failNext).toBe(false); // the failure really happened
    const rows = await counts();
    expect(rows.filter((r) => r.startsWith('crash-'))).toEqual(['crash-0=5', 'crash-1=5', 'crash-2=5']);
    expect(rows.filter((r) => r.startsWith('crash2-'))).toEqual(['crash2-0=5', 'crash2-1=5', 'crash2-2=5']);
    const total = (await db.sql.query<{ n: string }>('SELECT sum(event_count) AS n FROM audit_streams')).rows[0].n;
    expect(BigInt(total)).toBe(await store.headPosition());
  });

  it('rebuilds into fresh tables while the old ones serve, then switches: identical digest', async () => {
    const runner = new ProjectionRunner(store, db.sql, [auditIndex], { pollMs: 20 });
    await runner.start();
    await runner.waitUntilCaughtUp();
    const before = await projections.active('audit_index');
    const liveDigest = await projections.digest(auditIndex, before!.generation);
    const progress: bigint[] = [];
    const result = await rebuildProjection(store, db.sql, auditIndex, { batchSize: 10, onProgress: (p) => progress.push(p.position) });
    expect(result.generation).toBe(before!.generation + 1);
    expect(result.digest).toBe(liveDigest);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress[progress.length - 1]).toBe(await store.headPosition());
    const after = await projections.active('audit_index');
    expect(after!.generation).toBe(result.generation);
    // The live runner moves to the new generation and keeps following.
    await fill(store, 1, 2, 'post');
    await runner.waitUntilCaughtUp();
    expect(await counts()).toContain('post-0=2');
    const gens = await projections.generations('audit_index');
    expect(gens.filter((g) => g.status === 'active')).toHaveLength(1);
    const schemas = await db.sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = 'proj_audit_index_g${before!.generation}'`,
    );
    expect(schemas.rows[0].n).toBe('0');
    await runner.stop();
  });

  it('a rebuild racing live appends still ends equal to a clean rebuild', async () => {
    const runner = new ProjectionRunner(store, db.sql, [auditIndex], { pollMs: 10 });
    await runner.start();
    const writing = fill(store, 4, 10, 'race');
    const r1 = rebuildProjection(store, db.sql, auditIndex, { batchSize: 5 });
    await writing;
    await r1;
    await runner.waitUntilCaughtUp();
    await runner.stop();
    const live = await projections.digest(auditIndex, (await projections.active('audit_index'))!.generation);
    const clean = await rebuildProjection(store, db.sql, auditIndex);
    expect(clean.digest).toBe(live);
  });

  it('commits every projection to the head when the last full page held none of its events', async () => {
    // One reader feeds both; with pages of 2, the page [3, 4] is full of B's events and ends at the
    // head, so A has read to 4 without committing, and the next page is empty. A must still commit.
    const own = await freshDatabase();
    const s = new PostgresEventStore(own.sql, testRegistry(), { livePollMs: 50 });
    try {
      for (const type of ['OnlyA', 'OnlyB', 'OnlyB', 'OnlyB']) await s.append('mixed', [ev(type)], 'any');
      const defs = [counter('count_a', 'OnlyA'), counter('count_b', 'OnlyB')];
      const runner = new ProjectionRunner(s, own.sql, defs, { pollMs: 10_000, batchSize: 2 });
      await runner.start();
      await runner.waitUntilCaughtUp(5_000);
      const status = await runner.status();
      await runner.stop();
      expect(status.map((p) => [p.name, p.checkpoint])).toEqual([
        ['count_a', 4n],
        ['count_b', 4n],
      ]);
      const seen = await own.sql.query<{ n: string }>('SELECT count(*) AS n FROM count_a_seen');
      expect(seen.rows).toEqual([{ n: '1' }]);
    } finally {
      await s.close();
      await own.drop();
    }
  });

  it('live, commits only the projections a wake brings events for; an idle one stores how far it has read within a second', async () => {
    const own = await freshDatabase();
    const s = new PostgresEventStore(own.sql, testRegistry(), { livePollMs: 50 });
    const commits = vi.spyOn(ProjectionStore.prototype, 'applyBatch');
    try {
      const defs = [counter('busy', 'Busy'), counter('idle', 'Idle')];
      await s.append('quiet', [ev('Idle')], 'any');
      const runner = new ProjectionRunner(s, own.sql, defs, { pollMs: 50 });
      await runner.start();
      await runner.waitUntilCaughtUp(5_000);
      commits.mockClear();
      // Twenty wakes, each with one event for `busy` only, each waited for through status().
      for (let i = 0; i < 20; i++) {
        const { position } = await s.append('busy', [ev('Busy')], 'any');
        for (;;) {
          const st = await runner.status();
          if (st.every((p) => p.checkpoint >= position)) break;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      const by = (name: string) => commits.mock.calls.filter(([def]) => def.name === name).length;
      expect(by('busy')).toBeGreaterThanOrEqual(20);
      // `idle` read every page too (its status is at the head) but stored its checkpoint at most
      // once a second, not once per wake.
      expect(by('idle')).toBeLessThan(by('busy'));
      const head = await s.headPosition();
      const stored = async () => (await new ProjectionStore(own.sql).active('idle'))!.checkpoint;
      for (let i = 0; i < 100 && (await stored()) < head; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await stored()).toBe(head);
      await runner.stop();
      const seen = await own.sql.query<{ n: string }>('SELECT count(*) AS n FROM busy_seen');
      expect(seen.rows).toEqual([{ n: '20' }]);
    } finally {
      commits.mockRestore();
      await s.close();
      await own.drop();
    }
  });
});
