// Liveness, readiness and Prometheus metrics.
import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { ProjectionsService } from '../../projections/projections.module.js';
import { Public } from '../auth/decorators.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';

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
    @Inject(ARBITER_CONFIG) private readonly config: ArbiterConfig,
  ) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    // Every check is bounded (DATABASE_HEALTH_TIMEOUT_MS) and they run side by side, so a frozen
    // or vanished database gets a 503 in about that time, never a hung request.
    const bound = this.config.database.healthTimeoutMs;
    const checks: Record<string, string> = {};
    let ok = true;
    const availability = this.sql.availability;
    if (!availability.available) {
      // The client already knows (a probe runs every second): answer without queueing more queries.
      const since = availability.downSinceMs ? ` for ${Math.round((Date.now() - availability.downSinceMs) / 1000)} s` : '';
      checks.postgres = `unreachable${since}: ${availability.reason ?? 'connection lost'}`;
      reply.code(503);
      return { status: 'not ready', checks };
    }
    await Promise.all([
      withTimeout(this.store.headPosition(), bound, 'event store').then(
        () => void (checks.eventStore = `ok (${this.store.name})`),
        (err) => {
          ok = false;
          checks.eventStore = `unreachable: ${(err as Error).message}`;
        },
      ),
      withTimeout(this.sql.query('SELECT 1'), bound, 'PostgreSQL').then(
        () => void (checks.postgres = `ok (${this.sql.kind})`),
        (err) => {
          ok = false;
          checks.postgres = `unreachable: ${(err as Error).message}`;
        },
      ),
      withTimeout(this.projections.runner.status(), bound, 'projection status').then(
        (statuses) => {
          for (const s of statuses) {
            const fine = s.lag <= READY_MAX_LAG && !s.lastError;
            ok &&= fine;
            checks[`projection:${s.name}`] = fine ? `ok (lag ${s.lag})` : `behind: lag ${s.lag}${s.lastError ? `, error: ${s.lastError}` : ''}`;
          }
        },
        (err) => {
          ok = false;
          checks.projections = `unknown: ${(err as Error).message}`;
        },
      ),
    ]);
    // Sent as the answer, not thrown: a 503 here is a state to report, not an error to log.
    if (!ok) reply.code(503);
    return { status: ok ? 'ready' : 'not ready', checks };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    await this.projections.updateLagMetrics().catch(() => undefined);
    return this.metrics.registry.metrics();
  }
}

/** Rejects after `ms` (the work itself goes on; the SQL client bounds it separately). */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
