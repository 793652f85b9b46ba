// The projections context's wiring: runs every projection of /projections in the app process,
// exposes their status and lag, and registers the rebuild command and its progress tracker.
import { Inject, Injectable, Logger, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { RebuildProjectionHandler, RebuildTracker } from './rebuild-projection.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { allProjections } from '../../projections/index.js';
import { ProjectionRunner } from './projection-runner.js';

/** On shutdown, how long the projections may take to apply what the drained engine wrote. */
const FLUSH_TIMEOUT_MS = 5000;

@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  readonly runner: ProjectionRunner;

  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_CLIENT) readonly sql: SqlClient,
    private readonly metrics: Metrics,
  ) {
    this.runner = new ProjectionRunner(store, sql, allProjections, {
      onBatch: (name, n) => metrics.projectionEventsAppliedTotal.inc({ projection: name }, n),
      onError: (name) => metrics.projectionErrorsTotal.inc({ projection: name }),
    });
  }

  /** Refreshes the lag gauge; called before each /metrics scrape. */
  async updateLagMetrics(): Promise<void> {
    for (const s of await this.runner.status()) this.metrics.projectionLagEvents.set({ projection: s.name }, Number(s.lag));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    this.logger.log(`following the log: ${allProjections.map((p) => p.name).join(', ')}`);
  }

  /** After the engine has drained (onModuleDestroy): apply what it wrote, then stop following. */
  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.runner.waitUntilCaughtUp(FLUSH_TIMEOUT_MS);
    } catch (err) {
      this.logger.warn(`projections not flushed before shutdown (they catch up on the next start): ${(err as Error).message}`);
    }
    await this.runner.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}

@Module({ providers: [ProjectionsService, RebuildTracker, RebuildProjectionHandler], exports: [ProjectionsService, RebuildTracker] })
export class ProjectionsModule {}
