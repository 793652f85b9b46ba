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
import { isConnectionError } from '../shared/sql/availability.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { EventTypeRegistry, type EventTypeDefinition } from './event-types.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';
import { openEventStoreDb } from './eventstoredb/open.js';
import { FencingEventStore } from './leadership/fencing.js';
import { LeadershipService } from './leadership/leadership.service.js';
import { setTimeout as sleep } from 'node:timers/promises';

export { SQL_CLIENT };

export interface OpenSqlOptions {
  /**
   * The app: wait for an unreachable PostgreSQL up to DATABASE_STARTUP_TIMEOUT_MS (a server
   * started together with the app, or restarting, is not a reason to exit), and probe it every
   * second from then on so the engine and /ready know when it goes away.
   */
  app?: boolean;
}

export async function openSqlClient(config: ArbiterConfig, logger = new Logger('Ledger'), opts: OpenSqlOptions = {}): Promise<SqlClient> {
  let sql: SqlClient;
  if (config.databaseUrl) {
    const where = redact(config.databaseUrl);
    logger.log(`PostgreSQL at ${where}`);
    const pg = new PgSqlClient(config.databaseUrl, {
      connectTimeoutMs: config.database.connectTimeoutMs,
      queryTimeoutMs: config.database.queryTimeoutMs,
      probeTimeoutMs: config.database.healthTimeoutMs,
      onAvailability: (up, detail) =>
        up
          ? logger.log(`PostgreSQL at ${where} answers again (${detail}); the engine and subscriptions resume`)
          : logger.warn(`PostgreSQL at ${where} is unreachable (${detail}); the engine waits, subscriptions poll, /ready says 503`),
    });
    sql = pg;
    try {
      const applied = await withStartupRetry(() => migrate(sql), where, opts.app ? config.database.startupTimeoutMs : 0, logger);
      if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
    } catch (err) {
      await pg.close().catch(() => undefined);
      throw err;
    }
    if (opts.app) pg.monitor();
    return sql;
  }
  const dir = join(config.dataDir, 'pglite');
  logger.log(`embedded PostgreSQL (PGlite) in ${dir}`);
  sql = await PgliteSqlClient.open(dir);
  const applied = await migrate(sql);
  if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
  return sql;
}

/**
 * Runs `fn` until it succeeds; a connection-level failure is retried with back-off for up to
 * `timeoutMs`, with a log line saying what it waits for. Anything else (bad password, no such
 * database, a broken migration) fails at once.
 */
export async function withStartupRetry<T>(fn: () => Promise<T>, where: string, timeoutMs: number, logger: Logger): Promise<T> {
  const started = Date.now();
  let attempt = 0;
  let lastLog = 0;
  for (;;) {
    try {
      const result = await fn();
      if (attempt > 0) logger.log(`PostgreSQL at ${where} answered after ${((Date.now() - started) / 1000).toFixed(1)} s of waiting`);
      return result;
    } catch (err) {
      const message = (err as Error).message || String(err);
      if (!isConnectionError(err)) throw err;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new Error(
          timeoutMs > 0
            ? `PostgreSQL at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s (DATABASE_STARTUP_TIMEOUT_MS): ${message}`
            : `PostgreSQL at ${where} is unreachable: ${message}`,
          { cause: err },
        );
      }
      attempt++;
      if (attempt === 1) {
        logger.warn(`PostgreSQL at ${where} is not reachable (${message}); waiting up to ${Math.round(timeoutMs / 1000)} s for it (DATABASE_STARTUP_TIMEOUT_MS)`);
        lastLog = Date.now();
      } else if (Date.now() - lastLog >= 10_000) {
        logger.warn(`still waiting for PostgreSQL at ${where}: ${Math.round(waited / 1000)} s, attempt ${attempt} (${message})`);
        lastLog = Date.now();
      }
      const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 5), Math.max(0, timeoutMs - waited));
      await sleep(delay);
    }
  }
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
 * Global: the event store, the SQL client, metrics and the engine's leadership (who may trade)
 * are the foundation every context uses. The
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
        { provide: SQL_CLIENT, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => openSqlClient(c, undefined, { app: true }) },
        {
          provide: EVENT_STORE,
          inject: [ARBITER_CONFIG, SQL_CLIENT, EventTypeRegistry, Metrics],
          // Appends made inside the engine's fence context carry its token (leadership/fencing.ts).
          useFactory: async (c: ArbiterConfig, sql: SqlClient, r: EventTypeRegistry, m: Metrics) => new FencingEventStore(await openEventStore(c, sql, r, m)),
        },
        LeadershipService,
      ],
      exports: [Metrics, EventTypeRegistry, SQL_CLIENT, EVENT_STORE, LeadershipService],
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
