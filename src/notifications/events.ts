// Events of the notifications context: the life of a webhook subscription (created, changed,
// revoked — so the audit trail covers who pointed the ledger's events where) and the outcome of
// every delivery attempt (the delivery log is a projection of these). Secrets never appear here:
// a subscription's secret is recorded by its fingerprint only.
import { defineEvent } from '../ledger/event-types.js';
import { array, int, isoTime, nullable, obj, str, uuid } from '../ledger/schema.js';

/** Stream of one subscription's life. */
export const subscriptionStreamId = (subscriptionId: string) => `webhook-subscription-${subscriptionId}`;
/** Stream of one subscription's delivery attempts: its checkpoint in the log. */
export const deliveryStreamId = (subscriptionId: string) => `webhook-deliveries-${subscriptionId}`;
export const SUBSCRIPTION_STREAM_PREFIX = 'webhook-subscription-';

/** Event types a subscription may ask for. */
export const NOTIFIABLE_EVENT_TYPES = [
  'EnginePaused',
  'EngineResumed',
  'EngineReducing',
  'RiskLimitsChanged',
  'ComplianceFlagRaised',
  'FillConfirmed',
  'FillFailed',
  'TransactionExpired',
] as const;
export type NotifiableEventType = (typeof NOTIFIABLE_EVENT_TYPES)[number];

/** Compliance severities from least to most severe; minSeverity keeps flags at or above it. */
export const SEVERITY_ORDER = ['advisory', 'blocking'] as const;
export type MinSeverity = (typeof SEVERITY_ORDER)[number];

export interface WebhookSubscriptionCreatedPayload {
  subscriptionId: string;
  url: string;
  eventTypes: NotifiableEventType[];
  /** For ComplianceFlagRaised: only flags at least this severe (null = all). */
  minSeverity: MinSeverity | null;
  description: string;
  /** First 16 hex digits of sha256(secret): tells secrets apart without revealing one. */
  secretFingerprint: string;
  actor: string;
}

export interface WebhookSubscriptionChangedPayload {
  subscriptionId: string;
  url: string;
  eventTypes: NotifiableEventType[];
  minSeverity: MinSeverity | null;
  description: string;
  actor: string;
  reason: string;
}

export interface WebhookSubscriptionRevokedPayload {
  subscriptionId: string;
  actor: string;
  reason: string;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'dead_lettered';

export interface WebhookDeliveryAttemptedPayload {
  subscriptionId: string;
  /** The delivered event: its id is the receiver's idempotency key. */
  eventId: string;
  eventType: string;
  /** Global position of the delivered event (decimal string). */
  eventPosition: string;
  attempt: number;
  /** dead_lettered: this failure was attempt N; the subscription is failing until the receiver accepts it. */
  outcome: DeliveryOutcome;
  /** HTTP status of the answer; null when there was none (timeout, refused connection). */
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  attemptedAt: string;
  /** When the next attempt is due (null once delivered). */
  nextAttemptAt: string | null;
}

const actor = str({ min: 1, max: 200 });
const reason = str({ min: 1, max: 2000 });
const subscriptionFields = {
  subscriptionId: uuid(),
  url: str({ min: 1, max: 2000 }),
  eventTypes: array(str({ oneOf: NOTIFIABLE_EVENT_TYPES }), { min: 1, max: NOTIFIABLE_EVENT_TYPES.length }),
  minSeverity: nullable(str({ oneOf: SEVERITY_ORDER })),
  description: str({ max: 500 }),
};

export const WebhookSubscriptionCreated = defineEvent<WebhookSubscriptionCreatedPayload>({
  type: 'WebhookSubscriptionCreated',
  version: 1,
  payload: obj({ ...subscriptionFields, secretFingerprint: str({ pattern: /^[0-9a-f]{16}$/ }), actor }),
});

export const WebhookSubscriptionChanged = defineEvent<WebhookSubscriptionChangedPayload>({
  type: 'WebhookSubscriptionChanged',
  version: 1,
  payload: obj({ ...subscriptionFields, actor, reason }),
});

export const WebhookSubscriptionRevoked = defineEvent<WebhookSubscriptionRevokedPayload>({
  type: 'WebhookSubscriptionRevoked',
  version: 1,
  payload: obj({ subscriptionId: uuid(), actor, reason }),
});

export const WebhookDeliveryAttempted = defineEvent<WebhookDeliveryAttemptedPayload>({
  type: 'WebhookDeliveryAttempted',
  version: 1,
  payload: obj({
    subscriptionId: uuid(),
    eventId: uuid(),
    eventType: str({ min: 1, max: 100 }),
    eventPosition: str({ pattern: /^[1-9]\d*$/ }),
    attempt: int({ min: 1 }),
    outcome: str({ oneOf: ['delivered', 'failed', 'dead_lettered'] }),
    httpStatus: nullable(int({ min: 100, max: 599 })),
    error: nullable(str({ max: 2000 })),
    durationMs: int({ min: 0 }),
    attemptedAt: isoTime(),
    nextAttemptAt: nullable(isoTime()),
  }),
});

export const SUBSCRIPTION_EVENT_TYPES = ['WebhookSubscriptionCreated', 'WebhookSubscriptionChanged', 'WebhookSubscriptionRevoked'];

export const notificationsEvents = [WebhookSubscriptionCreated, WebhookSubscriptionChanged, WebhookSubscriptionRevoked, WebhookDeliveryAttempted];
