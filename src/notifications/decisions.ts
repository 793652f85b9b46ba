// The published decisions of webhook subscriptions: a decider: the state is a fold of the subscription's own stream; the
// create/change/revoke decisions are pure (the command handlers in ./commands do the I/O), and
// so are the outbound URL check and the event filter the delivery worker applies.
import type { EventMetadata, NewEvent, RecordedEvent } from '../ledger/envelope.js';
import { newEvent } from '../ledger/event-types.js';
import {
  SEVERITY_ORDER,
  WebhookSubscriptionChanged,
  WebhookSubscriptionCreated,
  WebhookSubscriptionRevoked,
  type MinSeverity,
  type NotifiableEventType,
  type WebhookSubscriptionChangedPayload,
  type WebhookSubscriptionCreatedPayload,
  type WebhookSubscriptionRevokedPayload,
} from './events.js';

export interface SubscriptionSpec {
  url: string;
  eventTypes: NotifiableEventType[];
  minSeverity: MinSeverity | null;
  description: string;
}

export type SubscriptionState =
  | { status: 'none' }
  | ({ status: 'active'; subscriptionId: string; secretFingerprint: string; createdPosition: bigint } & SubscriptionSpec)
  | ({ status: 'revoked'; subscriptionId: string; secretFingerprint: string; createdPosition: bigint } & SubscriptionSpec);

export const noSubscription: SubscriptionState = { status: 'none' };

/** Transitions: none → active (created); active → active (changed); active → revoked. Anything else is an error. */
export function evolveSubscription(s: SubscriptionState, e: Pick<RecordedEvent, 'type' | 'payload' | 'position'>): SubscriptionState {
  switch (e.type) {
    case 'WebhookSubscriptionCreated': {
      if (s.status !== 'none') throw new Error('a webhook subscription was created twice');
      const p = e.payload as WebhookSubscriptionCreatedPayload;
      return {
        status: 'active',
        subscriptionId: p.subscriptionId,
        url: p.url,
        eventTypes: p.eventTypes,
        minSeverity: p.minSeverity,
        description: p.description,
        secretFingerprint: p.secretFingerprint,
        createdPosition: e.position,
      };
    }
    case 'WebhookSubscriptionChanged': {
      if (s.status !== 'active') throw new Error(`a ${s.status} webhook subscription cannot change`);
      const p = e.payload as WebhookSubscriptionChangedPayload;
      return { ...s, url: p.url, eventTypes: p.eventTypes, minSeverity: p.minSeverity, description: p.description };
    }
    case 'WebhookSubscriptionRevoked': {
      if (s.status !== 'active') throw new Error(`a ${s.status} webhook subscription cannot be revoked`);
      return { ...s, status: 'revoked' };
    }
    default:
      return s;
  }
}

export function foldSubscription(events: Pick<RecordedEvent, 'type' | 'payload' | 'position'>[]): SubscriptionState {
  return events.reduce(evolveSubscription, noSubscription);
}

/** A refusal the API answers with 404 or 409. */
export class SubscriptionRefused extends Error {
  constructor(
    readonly code: 'WEBHOOK_SUBSCRIPTION_NOT_FOUND' | 'WEBHOOK_SUBSCRIPTION_CONFLICT',
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionRefused';
  }
}

export function decideCreate(
  s: SubscriptionState,
  cmd: { subscriptionId: string; spec: SubscriptionSpec; secretFingerprint: string; actor: string },
  meta: EventMetadata,
): NewEvent | Error {
  if (s.status !== 'none') return new SubscriptionRefused('WEBHOOK_SUBSCRIPTION_CONFLICT', `webhook subscription ${cmd.subscriptionId} exists already`);
  return newEvent(WebhookSubscriptionCreated, { subscriptionId: cmd.subscriptionId, ...cmd.spec, secretFingerprint: cmd.secretFingerprint, actor: cmd.actor }, meta);
}

export function decideChange(
  s: SubscriptionState,
  cmd: { subscriptionId: string; patch: Partial<SubscriptionSpec>; actor: string; reason: string },
  meta: EventMetadata,
): NewEvent | Error {
  if (s.status === 'none') return new SubscriptionRefused('WEBHOOK_SUBSCRIPTION_NOT_FOUND', `there is no webhook subscription ${cmd.subscriptionId}`);
  if (s.status === 'revoked') return new SubscriptionRefused('WEBHOOK_SUBSCRIPTION_CONFLICT', `webhook subscription ${cmd.subscriptionId} is revoked; create a new one`);
  const payload: WebhookSubscriptionChangedPayload = {
    subscriptionId: cmd.subscriptionId,
    url: cmd.patch.url ?? s.url,
    eventTypes: cmd.patch.eventTypes ?? s.eventTypes,
    minSeverity: cmd.patch.minSeverity !== undefined ? cmd.patch.minSeverity : s.minSeverity,
    description: cmd.patch.description ?? s.description,
    actor: cmd.actor,
    reason: cmd.reason,
  };
  return newEvent(WebhookSubscriptionChanged, payload, meta);
}

export function decideRevoke(s: SubscriptionState, cmd: WebhookSubscriptionRevokedPayload, meta: EventMetadata): NewEvent | Error {
  if (s.status === 'none') return new SubscriptionRefused('WEBHOOK_SUBSCRIPTION_NOT_FOUND', `there is no webhook subscription ${cmd.subscriptionId}`);
  if (s.status === 'revoked') return new SubscriptionRefused('WEBHOOK_SUBSCRIPTION_CONFLICT', `webhook subscription ${cmd.subscriptionId} is already revoked`);
  return newEvent(WebhookSubscriptionRevoked, cmd, meta);
}

/** Whether a subscription wants this event. */
export function wants(spec: Pick<SubscriptionSpec, 'eventTypes' | 'minSeverity'>, e: Pick<RecordedEvent, 'type' | 'payload'>): boolean {
  if (!(spec.eventTypes as string[]).includes(e.type)) return false;
  if (e.type === 'ComplianceFlagRaised' && spec.minSeverity) {
    const sev = (e.payload as { severity?: string }).severity ?? '';
    return SEVERITY_ORDER.indexOf(sev as MinSeverity) >= SEVERITY_ORDER.indexOf(spec.minSeverity);
  }
  return true;
}

/** Host patterns: `example.com` (exactly), `*.example.com` (any subdomain), `127.0.0.1`, `[::1]`. */
export function hostAllowed(host: string, allowList: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowList.some((p) => {
    const q = p.toLowerCase();
    return q.startsWith('*.') ? h.endsWith(q.slice(1)) && h.length > q.length - 1 : h === q;
  });
}

/**
 * Problems with an outbound URL (empty = fine): http or https only, no credentials in it, a
 * host, and — when an allow-list is set — a host on it.
 */
export function urlProblems(raw: string, allowList: readonly string[] | null, field = 'url'): string[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return [`${field} is not an absolute URL (like https://hooks.example.com/arbiter)`];
  }
  const problems: string[] = [];
  if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`${field} must use http or https (got ${u.protocol.replace(/:$/, '')})`);
  if (u.username || u.password) problems.push(`${field} must not carry credentials; receivers check the signature instead`);
  if (!u.hostname) problems.push(`${field} has no host`);
  if (u.hash) problems.push(`${field} must not have a #fragment`);
  if (allowList && u.hostname && !hostAllowed(u.hostname, allowList)) {
    problems.push(`${field} host "${u.hostname}" is not in WEBHOOK_ALLOWED_HOSTS (${allowList.join(', ') || 'empty'})`);
  }
  return problems;
}

