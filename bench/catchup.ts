// Catch-up benchmark: on the GraphQL benchmark's ledger (template sagas through the app, copied
// to the target size), every projection catching up from position 0, twice in the same run on
// the same log: each projection in a runner of its own (each pages the log itself: how the
// runner worked before it had one shared reader), then all of them in one runner (one read of
// the log feeding every projection). The read models are dropped between the two. Prints
// figures; asserts nothing.
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import type { PgSqlClient } from '../src/shared/sql/pg-client.js';
import type { PostgresEventStore } from '../src/ledger/postgres/postgres-event-store.js';
import { allProjections } from '../projections/index.js';
import { graphqlBench } from './graphql.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Drops every generation of every projection (their schemas and the public views on them). */
async function dropReadModels(sql: PgSqlClient): Promise<void> {
  const { rows } = await sql.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj\\_%'`);
  for (const r of rows) await sql.exec(`DROP SCHEMA ${r.nspname} CASCADE`);
  await sql.exec('DELETE FROM projection_generations');
}

async function timedCatchUp(store: PostgresEventStore, sql: PgSqlClient, runners: ProjectionRunner[]): Promise<number> {
  const t0 = performance.now();
  for (const r of runners) await r.start();
  try {
    await Promise.all(runners.map((r) => r.waitUntilCaughtUp(60 * 60_000)));
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
  }
  return (performance.now() - t0) / 1000;
}

export async function catchUpBench(databaseUrl: string, events: number, templates: number): Promise<{ ledger: string; rows: string[][] }> {
  return graphqlBench(databaseUrl, {
    events,
    templates,
    seconds: 0,
    connections: 1,
    offline: async ({ sql, store, head }) => {
      const positions = Number(head);
      const rows: string[][] = [];
      const run = async (label: string, runners: () => ProjectionRunner[]) => {
        await dropReadModels(sql);
        const s = await timedCatchUp(store, sql, runners());
        console.log(`  ${label}: ${s.toFixed(1)} s = ${fmt(positions / s)} positions/s`);
        rows.push([label, fmt(positions), s.toFixed(1), fmt(positions / s)]);
      };
      await run(`${allProjections.length} runners, each paging the log on its own (before)`, () =>
        allProjections.map((d) => new ProjectionRunner(store, sql, [d], { batchSize: 1000 })),
      );
      await run(`one runner, one shared read feeding all ${allProjections.length}, pages of 1,000 (after)`, () => [new ProjectionRunner(store, sql, allProjections, { batchSize: 1000 })]);
      await run(`one runner, shared read, pages of 5,000 (the default on PostgreSQL)`, () => [new ProjectionRunner(store, sql, allProjections)]);
      return rows;
    },
  });
}
