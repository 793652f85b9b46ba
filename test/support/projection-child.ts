// A child process for the kill test: runs every projection against DATABASE_URL until killed.
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { PgSqlClient } from '../../src/shared/sql/pg-client.js';
import { buildEventRegistry } from '../../src/event-catalog.js';
import { allProjections } from '../../projections/index.js';

const sql = new PgSqlClient(process.env.DATABASE_URL!, { max: 4 });
const store = new PostgresEventStore(sql, buildEventRegistry(), { livePollMs: 20 });
const runner = new ProjectionRunner(store, sql, allProjections, { batchSize: Number(process.env.BATCH ?? 50), pollMs: 20 });
await runner.start();
process.stdout.write('started\n');
