// Rebuilds on the embedded default, PGlite, which has ONE connection: a transaction holds it and
// every other query of the process waits (issue 9, finding 2). The switch-over used to read the
// log outside its own transaction and waited for itself forever. Here a rebuild finishes while
// the live runner follows the log, other queries get their turn during it, and an interrupted
// rebuild's building generation is resumed from its checkpoint, not left behind.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { ProjectionRunner, rebuildProjection, RebuildInterruptedError } from '../../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../../src/projections/projection-store.js';
import { PgliteSqlClient } from '../../../src/shared/sql/pglite-client.js';
import { migrate } from '../../../src/shared/sql/migrator.js';
import type { SqlClient } from '../../../src/shared/sql/sql-client.js';
import { findProjection } from '../../../projections/index.js';
import { saga, standardLog } from '../../unit/projections/fixtures.js';

describe('projection rebuilds on PGlite', () => {
  let sql: SqlClient;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;
  const def = findProjection('executions')!;

  beforeAll(async () => {
    sql = await PgliteSqlClient.open();
    await migrate(sql);
    store = new PostgresEventStore(sql, buildEventRegistry(), { livePollMs: 20 });
    const more = Array.from({ length: 4 }, (_, i) => saga({ n: 200 + i, outcome: 'filled', start: Date.parse('2026-03-01T00:00:00Z') + i * 5000 }));
    for (const e of [...standardLog(), ...more.flat()]) await store.append(e.streamId, [e.event], 'any');
    runner = new ProjectionRunner(store, sql, [def], { pollMs: 20, batchSize: 50 });
    await runner.start();
    await runner.waitUntilCaughtUp();
  });
  afterAll(async () => {
    await runner?.stop();
    await sql?.close();
  });

  it('finishes while the live runner follows the log, and lets other queries in between its batches', async () => {
    const projections = new ProjectionStore(sql);
    const live = (await projections.active(def.name))!;
    const liveDigest = await projections.digest(def, live.generation);
    const order: string[] = [];
    let asked = false;
    const rebuild = rebuildProjection(store, sql, def, {
      batchSize: 5,
      onProgress: () => {
        if (asked) return;
        asked = true;
        // A query issued while the rebuild is under way is answered before the rebuild ends.
        void sql.query('SELECT count(*) FROM events').then(() => order.push('query'));
      },
    }).then((r) => {
      order.push('rebuild');
      return r;
    });
    const result = await rebuild;
    expect(order).toEqual(['query', 'rebuild']);
    expect(result.digest).toBe(liveDigest);
    expect((await projections.generations(def.name)).filter((g) => g.status !== 'retired').map((g) => g.status)).toEqual(['active']);
  });

  it('resumes an interrupted rebuild from its checkpoint instead of leaving its generation behind', async () => {
    const projections = new ProjectionStore(sql);
    const live = (await projections.active(def.name))!;
    const liveDigest = await projections.digest(def, live.generation);
    const halt = new AbortController();
    await expect(
      rebuildProjection(store, sql, def, { batchSize: 5, signal: halt.signal, onProgress: () => halt.abort() }),
    ).rejects.toBeInstanceOf(RebuildInterruptedError);
    const left = (await projections.generations(def.name)).find((g) => g.status === 'building')!;
    expect(left.checkpoint).toBeGreaterThan(0n);

    const resumed = await rebuildProjection(store, sql, def, { batchSize: 5 });
    expect(resumed.generation).toBe(left.generation);
    expect(resumed.resumedFrom).toBe(left.checkpoint);
    expect(resumed.digest).toBe(liveDigest);
    expect((await projections.generations(def.name)).filter((g) => g.status !== 'retired').map((g) => g.status)).toEqual(['active']);
  });

  it('`arbiter rebuild` on the embedded default finishes and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-pglite-cli-'));
    const embedded = await PgliteSqlClient.open(join(dir, 'pglite'));
    await migrate(embedded);
    const s = new PostgresEventStore(embedded, buildEventRegistry());
    for (const e of standardLog()) await s.append(e.streamId, [e.event], 'any');
    await embedded.close();
    const io = { stdout: '', stderr: '', isTty: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) } satisfies CliIo & {
      stdout: string;
      stderr: string;
    };
    expect(await runCli(['rebuild', 'executions'], { ARBITER_DATA_DIR: dir }, io)).toBe(0);
    expect(io.stdout).toMatch(/rebuilt executions: generation 2, \d+ events/);
  }, 60_000);
});
