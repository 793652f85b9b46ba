// Exactly-once under real crashes: a child process runs every projection while the log grows,
// and is killed with SIGKILL at random moments, again and again. After the last restart catches
// up, every read model must equal a clean rebuild of the same log (same digest): nothing applied
// twice, nothing skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { rebuildProjection } from '../../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../../src/projections/projection-store.js';
import { allProjections } from '../../../projections/index.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { DAY1, saga, type Outcome } from '../../unit/projections/fixtures.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function startChild(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'test/support/projection-child.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, BATCH: '37' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('started') && resolve(child));
    child.on('exit', (code, signal) => reject(new Error(`projection child exited early (${code ?? signal}): ${err}`)));
  });
}

const kill = (c: ChildProcess) =>
  new Promise<void>((resolve) => {
    c.removeAllListeners('exit');
    c.on('exit', () => resolve());
    c.kill('SIGKILL');
  });

describe('projections killed with SIGKILL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, buildEventRegistry());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('apply every event exactly once across crashes', async () => {
    const outcomes: Outcome[] = ['filled', 'rejected', 'blocked', 'failed', 'expired', 'quote_failed', 'abandoned'];
    let n = 0;
    const writeSagas = async (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        const entries = saga({ n: 1000 + n, outcome: outcomes[n % outcomes.length], start: DAY1 + n * 5_000, amountOut: 1_000_000_000n + BigInt((n % 7) * 3_000 - 9_000) });
        for (const e of entries) await store.append(e.streamId, [e.event], 'any');
      }
    };
    await writeSagas(30);
    const projections = new ProjectionStore(db.sql);
    const checkpoint = async () => (await projections.active('executions'))?.checkpoint ?? 0n;
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const before = await checkpoint();
      const child = await startChild(db.url);
      const writing = writeSagas(10);
      // Kill only once this child has committed a batch of its own (on a loaded machine a fixed
      // delay could kill every child before its first commit), then at a varying moment after.
      for (let i = 0; i < 400 && (await checkpoint()) <= before; i++) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, (round * 97) % 250));
      await kill(child);
      kills++;
      await writing;
    }
    // The killed children did real work (each start resumed where the last one died).
    const progress = await projections.active('executions');
    expect(progress!.checkpoint).toBeGreaterThan(0n);
    // A last run to catch up, then compare every projection with a clean rebuild.
    const child = await startChild(db.url);
    const head = await store.headPosition();
    for (let i = 0; i < 600; i++) {
      const states = await Promise.all(allProjections.map((p) => projections.active(p.name)));
      if (states.every((s) => s && s.checkpoint >= head)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await kill(child);
    expect(kills).toBe(6);
    for (const def of allProjections) {
      const live = await projections.active(def.name);
      expect(live!.checkpoint).toBe(head);
      const liveDigest = await projections.digest(def, live!.generation);
      const rebuilt = await rebuildProjection(store, db.sql, def);
      expect(rebuilt.digest, def.name).toBe(liveDigest);
    }
  }, 120_000);
});
