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

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
