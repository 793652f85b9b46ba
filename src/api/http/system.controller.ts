// Liveness, readiness and Prometheus metrics. /ready says ready or not to anyone (probes need no
// key) but shows its checks only to a caller with an API key; a failed check's raw error goes to
// the log, not the answer. /metrics asks for METRICS_TOKEN when it is set (edge-guard.ts).
import { Controller, Get, Header, Inject, Logger, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { ProjectionsService } from '../../projections/projections.module.js';
import { Public } from '../auth/decorators.js';
import { Doc } from './openapi.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';
import { principalOf } from '../auth/principal.js';
import { LeadershipService } from '../../ledger/leadership/leadership.service.js';

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
    private readonly leadership: LeadershipService,
  ) {}

  @Doc({ tag: 'system', summary: 'Liveness', success: { status: 200, description: '{ status: ok }', schema: 'Health' }, errors: [] })
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  private readonly logger = new Logger('Ready');

  @Doc({ tag: 'system', summary: 'Readiness: event store, database and projection lag', success: { status: 200, description: 'Ready', schema: 'Readiness' }, errors: [503] })
  @Get('ready')
  async ready(@Req() req: object, @Res({ passthrough: true }) reply: FastifyReply) {
    // Every check is bounded (DATABASE_HEALTH_TIMEOUT_MS) and they run side by side, so a frozen
    // or vanished database gets a 503 in about that time, never a hung request. A failed check's
    // raw error goes to the log; the detail is only for callers with a key.
    const bound = this.config.database.healthTimeoutMs;
    const checks: Record<string, string> = {};
    let ok = true;
    const failed = (what: string, err: unknown) => {
      ok = false;
      this.logger.warn(`readiness check ${what} failed: ${(err as Error)?.message ?? String(err)}`);
      return 'see the server log';
    };
    const answer = async () => {
      const detail = this.sql.availability.available && !!(await withTimeout(principalOf(this.sql, req), bound, 'API key lookup').catch(() => null));
      if (!ok) reply.code(503); // sent as the answer, not thrown: a state to report, not an error to log
      // A standby is ready too: it serves the whole API. Role, holder and epoch say who trades
      // (with the checks, for callers with a key: node names are deployment detail).
      const l = this.leadership.status();
      // settings: whether this node would decide as the leader it compared with (decision settings, README).
      const settings = l.settings && { version: l.settings.version, comparedWith: l.settings.leader, epoch: l.settings.epoch, leaderVersion: l.settings.leaderVersion, differ: l.settings.differences.map((d) => d.name) };
      const engine = { role: l.role, node: l.nodeId, holder: l.holder, epoch: l.epoch, token: l.token, settings };
      return detail ? { status: ok ? 'ready' : 'not ready', engine, checks } : { status: ok ? 'ready' : 'not ready' };
    };
    const availability = this.sql.availability;
    if (!availability.available) {
      // The client already knows (a probe runs every second): answer without queueing more queries.
      const since = availability.downSinceMs ? ` for ${Math.round((Date.now() - availability.downSinceMs) / 1000)} s` : '';
      // Logged once by the SQL client when it went down; not again on every probe.
      ok = false;
      checks.postgres = `unreachable${since} (see the server log)`;
      return answer();
    }
    await Promise.all([
      withTimeout(this.store.headPosition(), bound, 'event store').then(
        () => void (checks.eventStore = `ok (${this.store.name})`),
        (err) => void (checks.eventStore = `unreachable (${failed('eventStore', err)})`),
      ),
      withTimeout(this.sql.query('SELECT 1'), bound, 'PostgreSQL').then(
        () => void (checks.postgres = `ok (${this.sql.kind})`),
        (err) => void (checks.postgres = `unreachable (${failed('postgres', err)})`),
      ),
      withTimeout(this.projections.runner.status(), bound, 'projection status').then(
        (statuses) => {
          for (const s of statuses) {
            const fine = s.lag <= READY_MAX_LAG && !s.lastError;
            ok &&= fine;
            checks[`projection:${s.name}`] = fine ? `ok (lag ${s.lag})` : `behind: lag ${s.lag}${s.lastError ? `, error: ${s.lastError}` : ''}`;
          }
        },
        (err) => void (checks.projections = `unknown (${failed('projections', err)})`),
      ),
    ]);
    return answer();
  }

  @Doc({ tag: 'system', summary: 'Prometheus metrics', success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' }, errors: [] })
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
