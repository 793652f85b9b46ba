// Wires the event store and the SQL client from config: PostgreSQL when DATABASE_URL is set,
// otherwise the embedded PGlite under ARBITER_DATA_DIR; EventStoreDB for events when
// EVENTSTORE_URL is set. Migrations run before anything uses the database.
import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { ARBITER_CONFIG } from '../config/config.module.js';
import { redact, type ArbiterConfig } from '../config/config.js';
import { migrate } from '../shared/sql/migrator.js';
import { PgSqlClient } from '../shared/sql/pg-client.js';
import { PgliteSqlClient } from '../shared/sql/pglite-client.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { EventTypeRegistry, type EventTypeDefinition } from './event-types.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';
import { openEventStoreDb } from './eventstoredb/open.js';

export { SQL_CLIENT };

export async function openSqlClient(config: ArbiterConfig, logger = new Logger('Ledger')): Promise<SqlClient> {
  let sql: SqlClient;
  if (config.databaseUrl) {
    logger.log(`PostgreSQL at ${redact(config.databaseUrl)}`);
    sql = new PgSqlClient(config.databaseUrl);
  } else {
    const dir = join(config.dataDir, 'pglite');
    logger.log(`embedded PostgreSQL (PGlite) in ${dir}`);
    sql = await PgliteSqlClient.open(dir);
  }
  const applied = await migrate(sql);
  if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
  return sql;
}

export async function openEventStore(
  config: ArbiterConfig,
  sql: SqlClient,
  registry: EventTypeRegistry,
  metrics?: Metrics,
): Promise<EventStore> {
  if (config.eventStoreUrl) return openEventStoreDb(config.eventStoreUrl, registry);
  return new PostgresEventStore(sql, registry, {
    onAppend: metrics
      ? (seconds, events) => {
          metrics.eventStoreAppendDurationSeconds.observe(seconds);
          metrics.eventsAppendedTotal.inc(events);
        }
      : undefined,
  });
}

/**
 * Global: the event store, the SQL client and metrics are the foundation every context uses. The
 * catalog of event types is handed in by the composition root (app.module.ts), so the ledger
 * never imports the contexts whose events it stores.
 */
@Global()
@Module({})
export class LedgerModule implements OnApplicationShutdown {
  static forRoot(catalog: readonly EventTypeDefinition<any>[]): DynamicModule {
    return {
      module: LedgerModule,
      providers: [
        { provide: Metrics, useFactory: () => new Metrics() },
        { provide: EventTypeRegistry, useFactory: () => new EventTypeRegistry(false).register(...catalog) },
        { provide: SQL_CLIENT, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => openSqlClient(c) },
        {
          provide: EVENT_STORE,
          inject: [ARBITER_CONFIG, SQL_CLIENT, EventTypeRegistry, Metrics],
          useFactory: (c: ArbiterConfig, sql: SqlClient, r: EventTypeRegistry, m: Metrics) => openEventStore(c, sql, r, m),
        },
      ],
      exports: [Metrics, EventTypeRegistry, SQL_CLIENT, EVENT_STORE],
    };
  }

  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.sql.close();
  }
}
