// Liveness, readiness and Prometheus metrics. /ready says ready or not to anyone (probes need no
// key) but shows its checks only to a caller with an API key; a failed check's raw error goes to
// the log, not the answer. /metrics asks for METRICS_TOKEN when it is set (edge-guard.ts).
import { Controller, Get, Header, HttpException, Inject, Logger, Req } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { ProjectionsService } from '../../projections/projections.module.js';
import { Public } from '../auth/decorators.js';
import { principalOf } from '../auth/principal.js';

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

  private readonly logger = new Logger('Ready');

  @Get('ready')
  async ready(@Req() req: object) {
    const checks: Record<string, string> = {};
    let ok = true;
    const failed = (what: string, err: unknown) => {
      this.logger.warn(`readiness check ${what} failed: ${(err as Error)?.message ?? String(err)}`);
      return 'see the server log';
    };
    try {
      await this.store.headPosition();
      checks.eventStore = `ok (${this.store.name})`;
    } catch (err) {
      ok = false;
      checks.eventStore = `unreachable (${failed('eventStore', err)})`;
    }
    try {
      await this.sql.query('SELECT 1');
      checks.postgres = `ok (${this.sql.kind})`;
    } catch (err) {
      ok = false;
      checks.postgres = `unreachable (${failed('postgres', err)})`;
    }
    try {
      for (const s of await this.projections.runner.status()) {
        const fine = s.lag <= READY_MAX_LAG && !s.lastError;
        ok &&= fine;
        checks[`projection:${s.name}`] = fine ? `ok (lag ${s.lag})` : `behind: lag ${s.lag}${s.lastError ? `, error: ${s.lastError}` : ''}`;
      }
    } catch (err) {
      ok = false;
      checks.projections = `unknown (${failed('projections', err)})`;
    }
    // The detail (which store, which projection, how far behind) is for callers with a key.
    const detail = !!(await principalOf(this.sql, req).catch(() => null));
    if (!ok) throw new HttpException(detail ? { status: 'not ready', checks } : { status: 'not ready' }, 503);
    return detail ? { status: 'ready', checks } : { status: 'ready' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    await this.projections.updateLagMetrics().catch(() => undefined);
    return this.metrics.registry.metrics();
  }
}
