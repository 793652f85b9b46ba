// The pure half of webhook delivery: the request a receiver gets (body, headers, HMAC-SHA256
// signature over timestamp and body), the backoff between attempts (exponential, capped, with
// jitter), and where a subscription's delivery stands, folded from its last delivery event.
// The worker (delivery.service.ts) does the HTTP and the appends; time and randomness come in
// as arguments here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordedEvent } from '../ledger/envelope.js';
import type { DeliveryOutcome, WebhookDeliveryAttemptedPayload } from './events.js';

export const SIGNATURE_HEADER = 'x-arbiter-signature';
export const TIMESTAMP_HEADER = 'x-arbiter-timestamp';
export const EVENT_ID_HEADER = 'x-arbiter-event-id';
export const SUBSCRIPTION_HEADER = 'x-arbiter-subscription-id';
export const ATTEMPT_HEADER = 'x-arbiter-delivery-attempt';

/** What the receiver gets as the JSON body; the same bytes on every attempt. */
export function deliveryBody(subscriptionId: string, e: RecordedEvent): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    version: e.version,
    streamId: e.streamId,
    position: e.position.toString(),
    recordedAt: e.recordedAt,
    correlationId: e.metadata.correlationId,
    actor: e.metadata.actor,
    subscriptionId,
    payload: e.payload,
  });
}

/** `v1=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export function sign(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature over the timestamp header and the raw body,
 * compare in constant time, and refuse a timestamp further than `toleranceSeconds` from its clock.
 */
export function verifySignature(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isSafeInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export function deliveryHeaders(secret: string, subscriptionId: string, e: RecordedEvent, attempt: number, body: string, nowMs: number): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'arbiter-webhooks/1',
    [EVENT_ID_HEADER]: e.id,
    [SUBSCRIPTION_HEADER]: subscriptionId,
    [ATTEMPT_HEADER]: String(attempt),
    [TIMESTAMP_HEADER]: String(ts),
    [SIGNATURE_HEADER]: sign(secret, ts, body),
  };
}

export interface RetryPolicy {
  /** Failed attempts after which the delivery is dead-lettered and the subscription failing. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay after failed attempt `attempt` (1-based): exponential from baseDelayMs, capped at
 * maxDelayMs, with "equal jitter" (half fixed, half random) so receivers coming back are not hit
 * by every subscription at once and the delay never collapses to zero. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/** Where a subscription's delivery stands. */
export interface DeliveryCursor {
  /** Read the log after this position for the next event to deliver. */
  after: bigint;
  /** The event being delivered and the attempts made so far; null between events. */
  pending: { eventId: string; position: bigint; attempts: number; nextAttemptAtMs: number } | null;
  /** Revision of the delivery stream (for the expected revision of the next append). */
  revision: bigint | 'no_stream';
}

/** The cursor from the delivery stream's last event (or from the subscription's creation). */
export function cursorFrom(last: RecordedEvent | undefined, createdPosition: bigint): DeliveryCursor {
  if (!last) return { after: createdPosition, pending: null, revision: 'no_stream' };
  const p = last.payload as WebhookDeliveryAttemptedPayload;
  const position = BigInt(p.eventPosition);
  if (p.outcome === 'delivered') return { after: position, pending: null, revision: last.revision };
  return {
    after: position - 1n,
    pending: { eventId: p.eventId, position, attempts: p.attempt, nextAttemptAtMs: p.nextAttemptAt ? Date.parse(p.nextAttemptAt) : 0 },
    revision: last.revision,
  };
}

/** How a finished attempt is recorded, and when the next one is due. */
export function attemptOutcome(
  ok: boolean,
  attempt: number,
  policy: RetryPolicy,
  nowMs: number,
  random: number,
): { outcome: DeliveryOutcome; nextAttemptAtMs: number | null } {
  if (ok) return { outcome: 'delivered', nextAttemptAtMs: null };
  return { outcome: attempt === policy.maxAttempts ? 'dead_lettered' : 'failed', nextAttemptAtMs: nowMs + backoffMs(attempt, policy, random) };
}

/** A subscription is failing while its pending delivery has used up its attempts. */
export const isFailing = (c: DeliveryCursor, policy: RetryPolicy) => !!c.pending && c.pending.attempts >= policy.maxAttempts;

/** 2xx is accepted; anything else (and no answer) is a failed attempt. */
export const accepted = (status: number | null) => status !== null && status >= 200 && status < 300;
