// Reads of the `webhooks` read model shared by the REST controller and the GraphQL resolver.
import type { SqlExecutor } from '../../shared/sql/sql-client.js';

export interface WebhookSubscriptionRow {
  subscriptionId: string;
  url: string;
  eventTypes: string[];
  minSeverity: string | null;
  description: string;
  secretFingerprint: string;
  /** active, failing (a dead-lettered delivery is being retried) or revoked. */
  status: string;
  createdBy: string;
  createdAt: string;
  changedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  delivered: string;
  failedAttempts: string;
  deadLettered: string;
  lastAttemptAt: string | null;
  lastDeliveredAt: string | null;
  lastError: string | null;
}

export interface WebhookDeliveryRow {
  /** Position of the attempt's record in the log (the page cursor). */
  position: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  eventPosition: string;
  attempt: number;
  outcome: string;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  attemptedAt: string;
  nextAttemptAt: string | null;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export async function listSubscriptions(sql: SqlExecutor, f: { subscriptionId?: string; status?: string | null }): Promise<WebhookSubscriptionRow[]> {
  const { rows } = await sql.query<Record<string, any>>(
    `SELECT subscription_id, url, event_types, min_severity, description, secret_fingerprint, status, created_by, created_at, changed_at,
            revoked_at, revoked_by, delivered::text, failed_attempts::text, dead_lettered::text, last_attempt_at, last_delivered_at, last_error
       FROM webhook_subscriptions
      WHERE ($1::uuid IS NULL OR subscription_id = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, subscription_id`,
    [f.subscriptionId ?? null, f.status ?? null],
  );
  return rows.map((r) => ({
    subscriptionId: r.subscription_id,
    url: r.url,
    eventTypes: r.event_types,
    minSeverity: r.min_severity === 'any' ? null : r.min_severity,
    description: r.description,
    secretFingerprint: r.secret_fingerprint,
    status: r.status,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    changedAt: iso(r.changed_at),
    revokedAt: iso(r.revoked_at),
    revokedBy: r.revoked_by,
    delivered: r.delivered,
    failedAttempts: r.failed_attempts,
    deadLettered: r.dead_lettered,
    lastAttemptAt: iso(r.last_attempt_at),
    lastDeliveredAt: iso(r.last_delivered_at),
    lastError: r.last_error,
  }));
}

export async function listDeliveries(
  sql: SqlExecutor,
  f: { subscriptionId: string; outcome: string | null; after: string | null; limit: number },
): Promise<WebhookDeliveryRow[]> {
  const { rows } = await sql.query<Record<string, any>>(
    `SELECT position::text, subscription_id, event_id, event_type, event_position::text, attempt, outcome, http_status, error, duration_ms, attempted_at, next_attempt_at
       FROM webhook_deliveries
      WHERE subscription_id = $1 AND ($2::text IS NULL OR outcome = $2) AND webhook_deliveries.position > COALESCE($3::bigint, 0)
      ORDER BY webhook_deliveries.position
      LIMIT $4`,
    [f.subscriptionId, f.outcome, f.after, f.limit],
  );
  return rows.map((r) => ({
    position: r.position,
    subscriptionId: r.subscription_id,
    eventId: r.event_id,
    eventType: r.event_type,
    eventPosition: r.event_position,
    attempt: r.attempt,
    outcome: r.outcome,
    httpStatus: r.http_status,
    error: r.error,
    durationMs: r.duration_ms,
    attemptedAt: iso(r.attempted_at)!,
    nextAttemptAt: iso(r.next_attempt_at),
  }));
}
