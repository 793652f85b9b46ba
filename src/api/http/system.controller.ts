// Liveness, readiness and Prometheus metrics.
import { Controller, Get, Header, HttpException, Inject } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { ProjectionsService } from '../../projections/projections.module.js';
import { Public } from '../auth/decorators.js';

/** A projection further behind than this is "not caught up" for /ready. */
const READY_MAX_LAG = 10_000n;

@Controller()
@Public()
export class SystemController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    private readonly projections: ProjectionsService,
  ) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const checks: Record<string, string> = {};
    let ok = true;
    try {
      await this.store.headPosition();
      checks.eventStore = `ok (${this.store.name})`;
    } catch (err) {
      ok = false;
      checks.eventStore = `unreachable: ${(err as Error).message}`;
    }
    try {
      await this.sql.query('SELECT 1');
      checks.postgres = `ok (${this.sql.kind})`;
    } catch (err) {
      ok = false;
      checks.postgres = `unreachable: ${(err as Error).message}`;
    }
    try {
      for (const s of await this.projections.runner.status()) {
        const fine = s.lag <= READY_MAX_LAG && !s.lastError;
        ok &&= fine;
        checks[`projection:${s.name}`] = fine ? `ok (lag ${s.lag})` : `behind: lag ${s.lag}${s.lastError ? `, error: ${s.lastError}` : ''}`;
      }
    } catch (err) {
      ok = false;
      checks.projections = `unknown: ${(err as Error).message}`;
    }
    if (!ok) throw new HttpException({ status: 'not ready', checks }, 503);
    return { status: 'ready', checks };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    await this.projections.updateLagMetrics().catch(() => undefined);
    return this.metrics.registry.metrics();
  }
}
