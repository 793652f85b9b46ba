// The application's Prometheus metrics (prom-client), one registry for the process. Contexts
// record into these; /metrics serves them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly eventStoreAppendSeconds = new Histogram({
    name: 'event_store_append_seconds',
    help: 'Time to append a group of events to the event store (one transaction)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly eventsAppendedTotal = new Counter({
    name: 'event_store_events_appended_total',
    help: 'Events appended to the event store by this process',
    registers: [this.registry],
  });
  readonly projectionLagEvents = new Gauge({
    name: 'projection_lag_events',
    help: 'Head position of the log minus the projection checkpoint',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly projectionEventsAppliedTotal = new Counter({
    name: 'projection_events_applied_total',
    help: 'Events applied to read models',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly apiRequestSeconds = new Histogram({
    name: 'api_request_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
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

  readonly arbitrageAttemptsTotal = new Counter({
    name: 'arbitrage_attempts_total',
    help: 'Arbitrage opportunities the engine started a saga for',
    registers: [this.registry],
  });
  readonly arbitrageSuccessesTotal = new Counter({
    name: 'arbitrage_successes_total',
    help: 'Sagas that ended in a confirmed fill',
    registers: [this.registry],
  });
  readonly arbitrageOutcomesTotal = new Counter({
    name: 'arbitrage_outcomes_total',
    help: 'Sagas by how they ended',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly arbitrageProfit = new Gauge({
    name: 'arbitrage_profit',
    help: 'Realised profit of confirmed round trips since start, in base units of the token (before network fees)',
    labelNames: ['token'] as const,
    registers: [this.registry],
  });
  readonly arbitrageExecutionSeconds = new Histogram({
    name: 'arbitrage_execution_seconds',
    help: 'Time from detection to the end of a saga',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly sagaStepSeconds = new Histogram({
    name: 'arbitrage_step_seconds',
    help: 'Time the engine spends in one saga step (including its append)',
    labelNames: ['step'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly riskEventsTotal = new Counter({
    name: 'risk_events_total',
    help: 'Failed risk checks, by check',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });
  readonly complianceFlagsTotal = new Counter({
    name: 'compliance_flags_total',
    help: 'Compliance flags raised, by rule and severity',
    labelNames: ['rule', 'severity'] as const,
    registers: [this.registry],
  });
  readonly exposure = new Gauge({
    name: 'exposure',
    help: 'Held exposure per token in USD micro-units, from settled fills',
    labelNames: ['token'] as const,
    registers: [this.registry],
  });
  readonly engineState = new Gauge({
    name: 'engine_state',
    help: '1 for the engine mode in force (ACTIVE, PAUSED, REDUCING), 0 for the others',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
