// The pure parts of webhook notifications: signatures (and how a receiver verifies them), the
// backoff, where delivery stands after each recorded attempt, the subscription decider, the
// outbound URL check and the event filter.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { attemptOutcome, backoffMs, cursorFrom, deliveryBody, deliveryHeaders, isFailing, sign, verifySignature, type RetryPolicy } from '../../../src/notifications/delivery.js';
import { effectiveAllowList } from '../../../src/notifications/notifications.config.js';
import { loadConfig } from '../../../src/config/config.js';

const loadNotificationsConfig = (env: Record<string, string>) => loadConfig(env).notifications;
import { decideChange, decideCreate, decideRevoke, foldSubscription, hostAllowed, SubscriptionRefused, urlProblems, wants } from '../../../src/notifications/decisions.js';

const meta = { correlationId: 'c', causationId: null, actor: 'apikey:x:y', tenant: 'default' };
const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
const SUB = '3f0c2a4e-0000-4000-8000-000000000001';

function recorded(type: string, payload: unknown, position: bigint, revision = 0n): RecordedEvent {
  return { id: '3f0c2a4e-0000-4000-8000-0000000000aa', type, version: 1, streamId: 's', revision, position, recordedAt: '2026-12-01T00:00:00.000Z', payload, metadata: meta, contentHash: '', prevHash: '', hash: '' };
}

describe('webhook signatures', () => {
  it('is HMAC-SHA256 of "<timestamp>.<body>" in hex, as README documents', () => {
    const body = '{"a":1}';
    const expected = createHmac('sha256', 'whsec_test').update(`1733000000.${body}`).digest('hex');
    expect(sign('whsec_test', 1733000000, body)).toBe(`v1=${expected}`);
  });

  it('verifies a genuine request and refuses another secret, a changed body and an old timestamp', () => {
    const e = recorded('EnginePaused', { actor: 'a', reason: 'r', cause: 'operator' }, 7n);
    const body = deliveryBody(SUB, e);
    const now = Date.UTC(2026, 11, 1, 12);
    const h = deliveryHeaders('s3cret', SUB, e, 1, body, now);
    const sec = Math.floor(now / 1000);
    const hdr = { signature: h['x-arbiter-signature'], timestamp: h['x-arbiter-timestamp'] };
    expect(h['x-arbiter-event-id']).toBe(e.id);
    expect(verifySignature('s3cret', hdr, body, sec)).toBe(true);
    expect(verifySignature('other', hdr, body, sec)).toBe(false);
    expect(verifySignature('s3cret', hdr, body.replace('operator', 'operatox'), sec)).toBe(false);
    expect(verifySignature('s3cret', hdr, body, sec + 301)).toBe(false);
    expect(verifySignature('s3cret', { ...hdr, timestamp: undefined }, body, sec)).toBe(false);
    expect(JSON.parse(body)).toMatchObject({ id: e.id, type: 'EnginePaused', position: '7', subscriptionId: SUB, payload: { reason: 'r' } });
  });
});

describe('backoff and delivery state', () => {
  it('grows exponentially up to the cap, with half of each delay random', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(1000, policy, 0.5)).toBe(750);
  });

  it('dead-letters the Nth failure and keeps failing after it until a delivery', () => {
    expect(attemptOutcome(false, 1, policy, 0, 0).outcome).toBe('failed');
    expect(attemptOutcome(false, 3, policy, 0, 0).outcome).toBe('dead_lettered');
    expect(attemptOutcome(false, 4, policy, 0, 0).outcome).toBe('failed');
    expect(attemptOutcome(true, 9, policy, 0, 0)).toEqual({ outcome: 'delivered', nextAttemptAtMs: null });
  });

  it('resumes from the last recorded attempt: after a delivery past it, after a failure at it', () => {
    expect(cursorFrom(undefined, 40n)).toEqual({ after: 40n, pending: null, revision: 'no_stream' });
    const attempt = (outcome: string, attemptNo: number) =>
      recorded('WebhookDeliveryAttempted', { eventId: 'e1', eventPosition: '55', attempt: attemptNo, outcome, nextAttemptAt: outcome === 'delivered' ? null : '2026-12-01T00:00:01.000Z' }, 60n, 4n);
    expect(cursorFrom(attempt('delivered', 2), 40n)).toEqual({ after: 55n, pending: null, revision: 4n });
    const failed = cursorFrom(attempt('dead_lettered', 3), 40n);
    expect(failed).toEqual({ after: 54n, pending: { eventId: 'e1', position: 55n, attempts: 3, nextAttemptAtMs: Date.parse('2026-12-01T00:00:01.000Z') }, revision: 4n });
    expect(isFailing(failed, policy)).toBe(true);
    expect(isFailing(cursorFrom(attempt('failed', 2), 40n), policy)).toBe(false);
  });
});

describe('subscription decider', () => {
  const spec = { url: 'https://hooks.example.com/a', eventTypes: ['EnginePaused' as const], minSeverity: null, description: '' };
  const created = (s = foldSubscription([])) => decideCreate(s, { subscriptionId: SUB, spec, secretFingerprint: '0123456789abcdef', actor: 'a' }, meta);

  it('given nothing, when created, then WebhookSubscriptionCreated; a second create is refused', () => {
    const e = created();
    expect(e).not.toBeInstanceOf(Error);
    const s = foldSubscription([{ ...(e as any), position: 3n }]);
    expect(s).toMatchObject({ status: 'active', url: spec.url, createdPosition: 3n });
    expect(created(s)).toBeInstanceOf(SubscriptionRefused);
  });

  it('given an active one, when changed, then the fields given change and the others stay; revoked refuses changes', () => {
    const s = foldSubscription([{ ...(created() as any), position: 3n }]);
    const ch = decideChange(s, { subscriptionId: SUB, patch: { url: 'https://b.example.com/' }, actor: 'a', reason: 'moved' }, meta) as any;
    expect(ch.payload).toMatchObject({ url: 'https://b.example.com/', eventTypes: ['EnginePaused'], reason: 'moved' });
    const rv = decideRevoke(s, { subscriptionId: SUB, actor: 'a', reason: 'done' }, meta) as any;
    const revoked = foldSubscription([{ ...(created() as any), position: 3n }, { ...rv, position: 4n }]);
    expect(revoked.status).toBe('revoked');
    expect((decideChange(revoked, { subscriptionId: SUB, patch: {}, actor: 'a', reason: 'x' }, meta) as SubscriptionRefused).code).toBe('WEBHOOK_SUBSCRIPTION_CONFLICT');
    expect((decideRevoke(foldSubscription([]), { subscriptionId: SUB, actor: 'a', reason: 'x' }, meta) as SubscriptionRefused).code).toBe('WEBHOOK_SUBSCRIPTION_NOT_FOUND');
  });

  it('filters by type and, for compliance flags, by minimum severity', () => {
    const f = { eventTypes: ['ComplianceFlagRaised' as const, 'EnginePaused' as const], minSeverity: 'blocking' as const };
    expect(wants(f, { type: 'ComplianceFlagRaised', payload: { severity: 'blocking' } })).toBe(true);
    expect(wants(f, { type: 'ComplianceFlagRaised', payload: { severity: 'advisory' } })).toBe(false);
    expect(wants({ ...f, minSeverity: null }, { type: 'ComplianceFlagRaised', payload: { severity: 'advisory' } })).toBe(true);
    expect(wants(f, { type: 'EnginePaused', payload: {} })).toBe(true);
    expect(wants(f, { type: 'FillFailed', payload: {} })).toBe(false);
  });
});

describe('outbound URLs', () => {
  it('accepts http and https, refuses other schemes, credentials, fragments and junk, naming the field', () => {
    expect(urlProblems('https://hooks.example.com/x?y=1', null)).toEqual([]);
    expect(urlProblems('http://127.0.0.1:9000/x', null)).toEqual([]);
    expect(urlProblems('ftp://hooks.example.com/', null)).toEqual(['url must use http or https (got ftp)']);
    expect(urlProblems('https://u:p@hooks.example.com/', null)[0]).toMatch(/must not carry credentials/);
    expect(urlProblems('https://hooks.example.com/#x', null)[0]).toMatch(/fragment/);
    expect(urlProblems('not a url', null)[0]).toMatch(/^url is not an absolute URL/);
  });

  it('keeps to the allow-list: exact hosts and *.domain patterns', () => {
    const allow = ['hooks.example.com', '*.corp.example', '127.0.0.1'];
    expect(hostAllowed('hooks.example.com', allow)).toBe(true);
    expect(hostAllowed('a.b.corp.example', allow)).toBe(true);
    expect(hostAllowed('corp.example', allow)).toBe(false);
    expect(hostAllowed('evilcorp.example', allow)).toBe(false);
    expect(urlProblems('https://evil.example.net/', allow)).toEqual(['url host "evil.example.net" is not in WEBHOOK_ALLOWED_HOSTS (hooks.example.com, *.corp.example, 127.0.0.1)']);
  });

  it('requires an allow-list in production, and names bad settings', () => {
    expect(effectiveAllowList(loadNotificationsConfig({ NODE_ENV: 'production' }))).toHaveProperty('refused');
    expect(effectiveAllowList(loadNotificationsConfig({ NODE_ENV: 'production', WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' }))).toEqual({ hosts: ['hooks.example.com'] });
    expect(effectiveAllowList(loadNotificationsConfig({}))).toEqual({ hosts: null });
    let message = '';
    try {
      loadNotificationsConfig({ WEBHOOK_MAX_ATTEMPTS: '0', WEBHOOK_ALLOWED_HOSTS: 'a b', WEBHOOK_DELIVERY: 'maybe' });
    } catch (e) {
      message = (e as Error).message;
    }
    // One error names all three.
    expect(message).toMatch(/WEBHOOK_DELIVERY must be true or false/);
    expect(message).toMatch(/WEBHOOK_ALLOWED_HOSTS: "a b"/);
    expect(message).toMatch(/WEBHOOK_MAX_ATTEMPTS must be between 1 and 1000/);
  });
});
