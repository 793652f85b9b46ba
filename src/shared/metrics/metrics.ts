// The application's Prometheus metrics (prom-client), one registry for the process. Contexts
// record into these; /metrics serves them. Names follow Prometheus conventions so they can live
// in a shared Prometheus and pass `promtool check metrics` (test/e2e/metrics-promtool.test.ts):
// every series starts with `arbiter_`, carries its unit in its name in base units (seconds, USD,
// a token's base units with the token in a label), and only counters end in `_total`.
// docs/deploy/alerts.yml and the Grafana dashboard are written over these names.
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** prom-client's default gauges whose `_total` suffix promtool refuses (they are not counters). */
const NON_CONVENTIONAL_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** package.json's version; from src/ (tests) or dist/src/ (npm start) one level apart. */
function packageVersion(): string {
  for (const rel of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'arbiter' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

export class Metrics {
  readonly registry = new Registry();

  readonly buildInfo = new Gauge({
    name: 'arbiter_build_info',
    help: 'Always 1; the labels say which Arbiter version runs on which Node.js',
    labelNames: ['version', 'node_version'] as const,
    registers: [this.registry],
  });

  // Ledger
  readonly eventStoreAppendDurationSeconds = new Histogram({
    name: 'arbiter_event_store_append_duration_seconds',
    help: 'Time to append a group of events to the event store (one transaction)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly eventsAppendedTotal = new Counter({
    name: 'arbiter_event_store_events_appended_total',
    help: 'Events appended to the event store by this process',
    registers: [this.registry],
  });

  // Read side
  readonly projectionLagEvents = new Gauge({
    name: 'arbiter_projection_lag_events',
    help: 'Head position of the log minus the projection checkpoint, in events',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly projectionEventsAppliedTotal = new Counter({
    name: 'arbiter_projection_events_applied_total',
    help: 'Events applied to read models',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly projectionErrorsTotal = new Counter({
    name: 'arbiter_projection_errors_total',
    help: 'Projection batches that failed and will be retried (nothing of them was committed)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  // Edges
  readonly httpRequestDurationSeconds = new Histogram({
    name: 'arbiter_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly idempotentReplaysTotal = new Counter({
    name: 'arbiter_idempotent_replays_total',
    help: 'Command requests answered from their Idempotency-Key record instead of running again',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly authFailuresTotal = new Counter({
    name: 'arbiter_auth_failures_total',
    help: 'Requests that presented an API key that was malformed, unknown or revoked',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimitedTotal = new Counter({
    name: 'arbiter_rate_limited_requests_total',
    help: 'Requests refused with 429 by the rate limit, by who was limited (API key or address)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  // Trading
  readonly sagasStartedTotal = new Counter({
    name: 'arbiter_sagas_started_total',
    help: 'Arbitrage opportunities the engine started a saga for',
    registers: [this.registry],
  });
  readonly sagasFinishedTotal = new Counter({
    name: 'arbiter_sagas_finished_total',
    help: 'Sagas by how they ended (outcome="filled" is a confirmed round trip)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly realisedPnlBaseUnits = new Gauge({
    name: 'arbiter_realised_pnl_base_units',
    help: 'Realised profit of confirmed round trips since this process started, in base units of the token named by the token label (lamports for SOL), before network fees',
    labelNames: ['token'] as const,
    registers: [this.registry],
  });
  readonly sagaDurationSeconds = new Histogram({
    name: 'arbiter_saga_duration_seconds',
    help: 'Time from detection to the end of a saga',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly sagaStepDurationSeconds = new Histogram({
    name: 'arbiter_saga_step_duration_seconds',
    help: 'Time the engine spends in one saga step (including its append)',
    labelNames: ['step'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly sagaStepFailuresTotal = new Counter({
    name: 'arbiter_saga_step_failures_total',
    help: 'Saga steps that threw (venue unreachable, engine state behind…) instead of recording an outcome',
    registers: [this.registry],
  });
  readonly sagaStepRetriesTotal = new Counter({
    name: 'arbiter_saga_step_retries_total',
    help: 'Failed saga steps that were tried again after a backoff',
    registers: [this.registry],
  });

  // Risk
  readonly riskCheckFailuresTotal = new Counter({
    name: 'arbiter_risk_check_failures_total',
    help: 'Pre-trade risk checks that failed, by check',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });
  readonly circuitBreakerTripsTotal = new Counter({
    name: 'arbiter_circuit_breaker_trips_total',
    help: 'Times the circuit breaker paused the engine, by cause',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly exposureUsd = new Gauge({
    name: 'arbiter_exposure_usd',
    help: 'Held exposure per token in USD, from settled fills',
    labelNames: ['token'] as const,
    registers: [this.registry],
  });
  readonly realisedPnlTodayUsd = new Gauge({
    name: 'arbiter_realised_pnl_today_usd',
    help: 'Realised P&L of the current UTC day in USD, as the daily loss limit counts it (negative is a loss)',
    registers: [this.registry],
  });
  readonly dailyLossLimitUsd = new Gauge({
    name: 'arbiter_daily_loss_limit_usd',
    help: 'The daily loss limit in force, in USD',
    registers: [this.registry],
  });
  readonly engineMode = new Gauge({
    name: 'arbiter_engine_mode',
    help: '1 for the engine mode in force (ACTIVE, PAUSED, REDUCING), 0 for the others',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
  readonly engineLeader = new Gauge({
    name: 'arbiter_engine_leader',
    help: '1 while this node is the active engine (holds the lease and its fencing token), 0 as a standby',
    registers: [this.registry],
  });
  readonly engineTakeoversTotal = new Counter({
    name: 'arbiter_engine_takeovers_total',
    help: 'Times this node took the engine lease and recorded EngineLeadershipAcquired',
    registers: [this.registry],
  });

  // Reconciliation (ledger balances against the chain)
  readonly reconciliationsTotal = new Counter({
    name: 'arbiter_reconciliations_total',
    help: 'Reconciliations of the ledger balances with the chain, by outcome (opening, reconciled, discrepancy, discrepancy_beyond_tolerance, postponed, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly reconciliationLastTimestampSeconds = new Gauge({
    name: 'arbiter_reconciliation_last_timestamp_seconds',
    help: 'Unix time of the last reconciliation recorded by this process',
    registers: [this.registry],
  });
  readonly reconciliationDifferenceBaseUnits = new Gauge({
    name: 'arbiter_reconciliation_difference_base_units',
    help: 'Chain minus ledger balance at the last reconciliation, in base units of the mint label (SOL row: lamports plus wrapped SOL)',
    labelNames: ['mint'] as const,
    registers: [this.registry],
  });

  // Compliance
  readonly complianceFlagsRaisedTotal = new Counter({
    name: 'arbiter_compliance_flags_raised_total',
    help: 'Compliance flags raised, by rule and severity',
    labelNames: ['rule', 'severity'] as const,
    registers: [this.registry],
  });

  // Market data
  readonly marketDataRetriesTotal = new Counter({
    name: 'arbiter_market_data_retries_total',
    help: 'Market data requests tried again after a retryable failure, by source and error code',
    labelNames: ['source', 'code'] as const,
    registers: [this.registry],
  });

  // Notifications
  readonly webhookDeliveryAttemptsTotal = new Counter({
    name: 'arbiter_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed, dead_lettered)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookRequestDurationSeconds = new Histogram({
    name: 'arbiter_webhook_request_duration_seconds',
    help: 'Time a webhook receiver took to answer one delivery request (or to time out)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly webhookDeliveryDelaySeconds = new Histogram({
    name: 'arbiter_webhook_delivery_delay_seconds',
    help: 'Time from an event being recorded to its webhook delivery being accepted by the receiver',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly webhookSubscriptionFailing = new Gauge({
    name: 'arbiter_webhook_subscription_failing',
    help: '1 while a webhook subscription has a dead-lettered delivery its receiver has not yet accepted, else 0',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of NON_CONVENTIONAL_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    this.buildInfo.set({ version: packageVersion(), node_version: process.version }, 1);
  }
}

/** USD micro-units (the ledger's integer) as USD for a gauge; metrics are not money records. */
export const usdFromMicros = (micros: bigint): number => Number(micros) / 1e6;
