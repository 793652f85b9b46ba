// Webhook subscriptions and their delivery log. `webhook_subscriptions`: one row per
// subscription with its filter, status (active → failing ↔ active → revoked) and delivery counts;
// `webhook_deliveries`: one row per attempt (the event delivered, attempt number, outcome, HTTP
// status, error, duration). Folded from the notifications context's events; the secret is never
// here (only its fingerprint).
import type { RecordedEvent } from '../src/ledger/envelope.js';
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type {
  WebhookDeliveryAttemptedPayload,
  WebhookSubscriptionChangedPayload,
  WebhookSubscriptionCreatedPayload,
  WebhookSubscriptionRevokedPayload,
} from '../src/notifications/events.js';
import { col, insertJsonRows, upsertRows } from './sql.js';

const TYPES = ['WebhookSubscriptionCreated', 'WebhookSubscriptionChanged', 'WebhookSubscriptionRevoked', 'WebhookDeliveryAttempted'];

const SUB_COLS = [
  col('subscription_id', 'uuid', 'key'),
  col('url', 'text'),
  col('event_types', 'jsonb'),
  col('min_severity', 'text'), // 'any' when every severity is wanted
  col('description', 'text'),
  col('secret_fingerprint', 'text', 'keep'),
  col('status', 'text'),
  col('created_by', 'text', 'keep'),
  col('created_at', 'timestamptz', 'keep'),
  col('changed_at', 'timestamptz'),
  col('revoked_at', 'timestamptz'),
  col('revoked_by', 'text'),
  col('delivered', 'bigint', 'add'),
  col('failed_attempts', 'bigint', 'add'),
  col('dead_lettered', 'bigint', 'add'),
  col('last_attempt_at', 'timestamptz', 'max'),
  col('last_delivered_at', 'timestamptz', 'max'),
  col('last_error', 'text'),
  col('last_position', 'bigint', 'max'),
];

const LOG_COLS = [
  col('position', 'bigint'),
  col('subscription_id', 'uuid'),
  col('event_id', 'uuid'),
  col('event_type', 'text'),
  col('event_position', 'bigint'),
  col('attempt', 'int'),
  col('outcome', 'text'),
  col('http_status', 'int'),
  col('error', 'text'),
  col('duration_ms', 'int'),
  col('attempted_at', 'timestamptz'),
  col('next_attempt_at', 'timestamptz'),
];

/** Folds a batch into one patch per subscription (status follows the last event) and the log rows. */
export function foldWebhooks(events: RecordedEvent[]): { subs: Map<string, Record<string, unknown>>; log: Record<string, unknown>[] } {
  const subs = new Map<string, Record<string, unknown>>();
  const log: Record<string, unknown>[] = [];
  const patch = (id: string) => {
    let r = subs.get(id);
    if (!r) subs.set(id, (r = { subscription_id: id, delivered: 0, failed_attempts: 0, dead_lettered: 0 }));
    return r;
  };
  for (const e of events) {
    if (e.type === 'WebhookSubscriptionCreated') {
      const p = e.payload as WebhookSubscriptionCreatedPayload;
      Object.assign(patch(p.subscriptionId), {
        url: p.url,
        event_types: p.eventTypes,
        min_severity: p.minSeverity ?? 'any',
        description: p.description,
        secret_fingerprint: p.secretFingerprint,
        status: 'active',
        created_by: p.actor,
        created_at: e.recordedAt,
        last_position: e.position,
      });
    } else if (e.type === 'WebhookSubscriptionChanged') {
      const p = e.payload as WebhookSubscriptionChangedPayload;
      Object.assign(patch(p.subscriptionId), { url: p.url, event_types: p.eventTypes, min_severity: p.minSeverity ?? 'any', description: p.description, changed_at: e.recordedAt, last_position: e.position });
    } else if (e.type === 'WebhookSubscriptionRevoked') {
      const p = e.payload as WebhookSubscriptionRevokedPayload;
      Object.assign(patch(p.subscriptionId), { status: 'revoked', revoked_at: e.recordedAt, revoked_by: p.actor, last_position: e.position });
    } else if (e.type === 'WebhookDeliveryAttempted') {
      const p = e.payload as WebhookDeliveryAttemptedPayload;
      const r = patch(p.subscriptionId);
      r.last_position = e.position;
      r.last_attempt_at = p.attemptedAt;
      if (p.outcome === 'delivered') {
        r.delivered = (r.delivered as number) + 1;
        r.last_delivered_at = p.attemptedAt;
        r.delivery_status = 'active';
      } else {
        r.failed_attempts = (r.failed_attempts as number) + 1;
        r.last_error = p.error;
        if (p.outcome === 'dead_lettered') {
          r.dead_lettered = (r.dead_lettered as number) + 1;
          r.delivery_status = 'failing';
        }
      }
      log.push({
        position: e.position,
        subscription_id: p.subscriptionId,
        event_id: p.eventId,
        event_type: p.eventType,
        event_position: p.eventPosition,
        attempt: p.attempt,
        outcome: p.outcome,
        http_status: p.httpStatus,
        error: p.error,
        duration_ms: p.durationMs,
        attempted_at: p.attemptedAt,
        next_attempt_at: p.nextAttemptAt,
      });
    }
  }
  return { subs, log };
}

export const webhookDeliveries: ProjectionDefinition = {
  name: 'webhooks',
  version: 1,
  eventTypes: TYPES,
  tables: ['webhook_subscriptions', 'webhook_deliveries'],
  ddl: `
    CREATE TABLE webhook_subscriptions (
      subscription_id    uuid PRIMARY KEY,
      url                text,
      event_types        jsonb,
      min_severity       text,
      description        text,
      secret_fingerprint text,
      status             text,
      created_by         text,
      created_at         timestamptz,
      changed_at         timestamptz,
      revoked_at         timestamptz,
      revoked_by         text,
      delivered          bigint NOT NULL DEFAULT 0,
      failed_attempts    bigint NOT NULL DEFAULT 0,
      dead_lettered      bigint NOT NULL DEFAULT 0,
      last_attempt_at    timestamptz,
      last_delivered_at  timestamptz,
      last_error         text,
      last_position      bigint NOT NULL
    );
    CREATE TABLE webhook_deliveries (
      position        bigint PRIMARY KEY,
      subscription_id uuid NOT NULL,
      event_id        uuid NOT NULL,
      event_type      text NOT NULL,
      event_position  bigint NOT NULL,
      attempt         int NOT NULL,
      outcome         text NOT NULL,
      http_status     int,
      error           text,
      duration_ms     int NOT NULL,
      attempted_at    timestamptz NOT NULL,
      next_attempt_at timestamptz
    );
    CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, position);
    CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);`,
  async apply(tx, events) {
    const { subs, log } = foldWebhooks(events);
    const rows = [...subs.values()];
    await upsertRows(tx, 'webhook_subscriptions', SUB_COLS, rows.map(({ delivery_status: _, ...r }) => r));
    // Delivery health moves a live subscription between active and failing; revoked stays revoked.
    for (const r of rows) {
      if (!r.delivery_status) continue;
      await tx.query(`UPDATE webhook_subscriptions SET status = $2 WHERE subscription_id = $1 AND status IN ('active', 'failing')`, [r.subscription_id, r.delivery_status]);
    }
    await insertJsonRows(tx, 'webhook_deliveries', LOG_COLS, log);
  },
};
