// Events of the notifications context: the life of a webhook subscription (created, changed,
// revoked — so the audit trail covers who pointed the ledger's events where) and the outcome of
// every delivery attempt (the delivery log is a projection of these). Secrets never appear here:
// a subscription's secret is recorded by its fingerprint only.
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
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

export const DELIVERY_OUTCOMES = ['delivered', 'failed', 'dead_lettered'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

const actor = str({ min: 1, max: 200 });
const reason = str({ min: 1, max: 2000 });
const subscriptionFields = {
  subscriptionId: uuid(),
  url: str({ min: 1, max: 2000 }),
  eventTypes: array(str({ oneOf: NOTIFIABLE_EVENT_TYPES }), { min: 1, max: NOTIFIABLE_EVENT_TYPES.length }),
  /** For ComplianceFlagRaised: only flags at least this severe (null = all). */
  minSeverity: nullable(str({ oneOf: SEVERITY_ORDER })),
  description: str({ max: 500 }),
};

export const WebhookSubscriptionCreated = defineEvent({
  type: 'WebhookSubscriptionCreated',
  version: 1,
  payload: obj({
    ...subscriptionFields,
    /** First 16 hex digits of sha256(secret): tells secrets apart without revealing one. */
    secretFingerprint: str({ pattern: /^[0-9a-f]{16}$/ }), actor }),
});
export type WebhookSubscriptionCreatedPayload = PayloadOf<typeof WebhookSubscriptionCreated>;

export const WebhookSubscriptionChanged = defineEvent({
  type: 'WebhookSubscriptionChanged',
  version: 1,
  payload: obj({ ...subscriptionFields, actor, reason }),
});
export type WebhookSubscriptionChangedPayload = PayloadOf<typeof WebhookSubscriptionChanged>;

export const WebhookSubscriptionRevoked = defineEvent({
  type: 'WebhookSubscriptionRevoked',
  version: 1,
  payload: obj({ subscriptionId: uuid(), actor, reason }),
});
export type WebhookSubscriptionRevokedPayload = PayloadOf<typeof WebhookSubscriptionRevoked>;

export const WebhookDeliveryAttempted = defineEvent({
  type: 'WebhookDeliveryAttempted',
  version: 1,
  payload: obj({
    subscriptionId: uuid(),
    /** The delivered event: its id is the receiver's idempotency key. */
    eventId: uuid(),
    eventType: str({ min: 1, max: 100 }),
    /** Global position of the delivered event (decimal string). */
    eventPosition: str({ pattern: /^[1-9]\d*$/ }),
    attempt: int({ min: 1 }),
    /** dead_lettered: this failure was attempt N; the subscription is failing until the receiver accepts it. */
    outcome: str({ oneOf: DELIVERY_OUTCOMES }),
    /** HTTP status of the answer; null when there was none (timeout, refused connection). */
    httpStatus: nullable(int({ min: 100, max: 599 })),
    error: nullable(str({ max: 2000 })),
    durationMs: int({ min: 0 }),
    attemptedAt: isoTime(),
    /** When the next attempt is due (null once delivered). */
    nextAttemptAt: nullable(isoTime()),
  }),
});
export type WebhookDeliveryAttemptedPayload = PayloadOf<typeof WebhookDeliveryAttempted>;

export const SUBSCRIPTION_EVENT_TYPES = ['WebhookSubscriptionCreated', 'WebhookSubscriptionChanged', 'WebhookSubscriptionRevoked'];

export const notificationsEvents = [WebhookSubscriptionCreated, WebhookSubscriptionChanged, WebhookSubscriptionRevoked, WebhookDeliveryAttempted];
