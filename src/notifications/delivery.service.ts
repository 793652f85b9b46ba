// Delivers the log's events to webhook subscriptions, at least once and in order per
// subscription. Each subscription has its own worker and its own checkpoint: the delivery stream
// `webhook-deliveries-<id>`, where every attempt is recorded (WebhookDeliveryAttempted) with the
// stream's expected revision. The last event of that stream says where delivery stands, so a
// crash at any point resumes there: an event whose POST succeeded but whose record was not
// written is sent again, with the same X-Arbiter-Event-Id for the receiver to drop.
//
// The engine never waits for this: workers read the log on their own (readAll pages, woken by a
// subscribeToAll on the types they deliver), one request in flight per subscription, each with a
// timeout. A receiver that fails is retried with exponential backoff and jitter; after
// WEBHOOK_MAX_ATTEMPTS the delivery is dead-lettered and the subscription is failing: the worker
// keeps probing that same delivery at the capped interval and sends nothing after it first, so
// when the receiver comes back it gets every event, in order.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RecordedEvent } from '../ledger/envelope.js';
import { WrongExpectedRevisionError } from '../ledger/errors.js';
import { newEvent } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore, type Subscription } from '../ledger/event-store.port.js';
import { SQL_CLIENT } from '../ledger/ledger.module.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { LeadershipService } from '../ledger/leadership/leadership.service.js';
import type { SqlClient } from '../shared/sql/sql-client.js';
import { accepted, attemptOutcome, cursorFrom, deliveryBody, deliveryHeaders, isFailing, type DeliveryCursor } from './delivery.js';
import {
  deliveryStreamId,
  NOTIFIABLE_EVENT_TYPES,
  SUBSCRIPTION_EVENT_TYPES,
  SUBSCRIPTION_STREAM_PREFIX,
  WebhookDeliveryAttempted,
  type WebhookDeliveryAttemptedPayload,
} from './events.js';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './notifications.config.js';
import { getSecret } from './secrets.js';
import { evolveSubscription, urlProblems, wants, type SubscriptionState } from './decisions.js';

const DELIVERY_ACTOR = 'notifications:webhooks';
/** Events read into a worker's buffer at a time. */
const PAGE = 200;
/** A worker with nothing to do looks at the log at least this often (a missed wake-up costs this much). */
const IDLE_POLL_MS = 1_000;
/** After an unexpected error (database down…) a worker waits this long before going on. */
const ERROR_PAUSE_MS = 1_000;

type ActiveSubscription = Extract<SubscriptionState, { status: 'active' }>;

/** The worker of one subscription. */
class DeliveryWorker {
  private stopped = false;
  private waker: (() => void) | null = null;
  private buffer: RecordedEvent[] = [];
  private scannedTo = 0n;
  private cursor: DeliveryCursor | null = null;
  readonly done: Promise<void>;

  constructor(
    private spec: ActiveSubscription,
    private readonly svc: WebhookDeliveryService,
  ) {
    this.done = this.loop();
  }

  get id() {
    return this.spec.subscriptionId;
  }

  update(spec: ActiveSubscription): void {
    this.spec = spec;
    // The filter may have changed: read the log again from the checkpoint.
    this.buffer = [];
    this.scannedTo = this.cursor?.after ?? 0n;
    this.wake();
  }

  wake(): void {
    this.waker?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waker = () => {
        this.waker = null;
        done();
      };
    });
  }

  private async loadCursor(): Promise<DeliveryCursor> {
    const [last] = await this.svc.store.readStream(deliveryStreamId(this.id), { direction: 'backward', maxCount: 1 });
    const c = cursorFrom(last, this.spec.createdPosition);
    this.buffer = [];
    this.scannedTo = c.after;
    return c;
  }

  /** The next event to deliver: the pending one, else the first wanted event after the checkpoint. */
  private async next(c: DeliveryCursor): Promise<RecordedEvent | null> {
    for (;;) {
      if (!this.buffer.length) {
        const page = await this.svc.store.readAll({ after: this.scannedTo, maxCount: PAGE, filter: { eventTypes: this.spec.eventTypes } });
        if (!page.length) return null;
        this.scannedTo = page[page.length - 1].position;
        this.buffer = page;
      }
      const e = this.buffer[0];
      if (e.position <= c.after || !wants(this.spec, e)) {
        this.buffer.shift();
        continue;
      }
      if (c.pending && e.id !== c.pending.eventId) {
        // The pending event is no longer wanted (the filter changed): its attempts end here.
        c.pending = null;
      }
      return e;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.svc.mayDeliver()) {
          // A standby (HA): the engine's leader delivers. Nothing is read meanwhile; on taking
          // over, the cursor is loaded afresh from the delivery stream the leader wrote.
          this.cursor = null;
          await this.sleep(IDLE_POLL_MS);
          continue;
        }
        this.cursor ??= await this.loadCursor();
        const c = this.cursor;
        const e = await this.next(c);
        if (!e) {
          await this.sleep(IDLE_POLL_MS);
          continue;
        }
        const wait = c.pending ? c.pending.nextAttemptAtMs - Date.now() : 0;
        if (wait > 0) {
          await this.sleep(wait);
          continue; // woken early (stop, change) or due now: look again
        }
        const attempt = (c.pending?.attempts ?? 0) + 1;
        const payload = await this.svc.attempt(this.spec, e, attempt);
        const recorded = await this.svc.record(this.id, payload, c.revision, e);
        this.cursor = cursorFrom(recorded, this.spec.createdPosition);
        if (payload.outcome === 'delivered') this.buffer.shift();
        this.svc.setFailing(this.id, isFailing(this.cursor, this.svc.config.retry));
      } catch (err) {
        if (err instanceof WrongExpectedRevisionError) {
          this.cursor = null; // another process recorded an attempt: start from what it wrote
        } else {
          this.svc.logger.warn(`webhook ${this.id}: ${(err as Error).message}; retrying`);
          this.cursor = null;
        }
        await this.sleep(ERROR_PAUSE_MS);
      }
    }
  }
}

@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly logger = new Logger('Webhooks');
  private readonly subscriptions = new Map<string, { state: SubscriptionState; position: bigint }>();
  private readonly workers = new Map<string, DeliveryWorker>();
  /** Secrets never change in place (rotation is revoke + create), so one read per subscription. */
  private readonly secrets = new Map<string, string>();
  private follow: Subscription | null = null;
  private startedWork: Promise<void> | null = null;

  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(NOTIFICATIONS_CONFIG) readonly config: NotificationsConfig,
    private readonly metrics: Metrics,
    private readonly leadership: LeadershipService,
  ) {}

  /** Whether this node sends: with HA, only the engine's leader does (one POST per attempt, not one per node). */
  mayDeliver(): boolean {
    return this.leadership.mayAct();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.delivery) await this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Folds every subscription, starts a worker per active one, and follows the log. */
  start(): Promise<void> {
    this.startedWork ??= this.load();
    return this.startedWork;
  }

  async stop(): Promise<void> {
    await this.follow?.stop();
    this.follow = null;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    this.startedWork = null;
  }

  private async load(): Promise<void> {
    const head = await this.store.headPosition();
    let after = 0n;
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: 1000, filter: { eventTypes: SUBSCRIPTION_EVENT_TYPES } });
      if (!page.length) break;
      for (const e of page) this.applySubscriptionEvent(e);
      after = page[page.length - 1].position;
    }
    this.follow = this.store.subscribeToAll({
      after: head,
      filter: { eventTypes: [...SUBSCRIPTION_EVENT_TYPES, ...NOTIFIABLE_EVENT_TYPES] },
      batchSize: 1000,
      onEvents: (events) => {
        let other = false;
        for (const e of events) {
          if (SUBSCRIPTION_EVENT_TYPES.includes(e.type)) this.applySubscriptionEvent(e);
          else other = true;
        }
        if (other) for (const w of this.workers.values()) w.wake();
      },
      onError: (err) => this.logger.warn(`following the log failed, retrying: ${err.message}`),
    });
  }

  /** Idempotent per event: the initial read and the live subscription may both see one. */
  private applySubscriptionEvent(e: RecordedEvent): void {
    const id = e.streamId.slice(SUBSCRIPTION_STREAM_PREFIX.length);
    const known = this.subscriptions.get(id) ?? { state: { status: 'none' } as SubscriptionState, position: 0n };
    if (e.position <= known.position) return;
    let state: SubscriptionState;
    try {
      state = evolveSubscription(known.state, e);
    } catch (err) {
      this.logger.error(`webhook subscription ${id}: ${(err as Error).message} (event ${e.id} ignored)`);
      return;
    }
    this.subscriptions.set(id, { state, position: e.position });
    const worker = this.workers.get(id);
    if (state.status === 'active') {
      if (worker) worker.update(state);
      else this.workers.set(id, new DeliveryWorker(state, this));
    } else if (worker) {
      this.workers.delete(id);
      void worker.stop();
      this.metrics.webhookSubscriptionFailing.remove({ subscription: id });
    }
  }

  setFailing(subscriptionId: string, failing: boolean): void {
    this.metrics.webhookSubscriptionFailing.set({ subscription: subscriptionId }, failing ? 1 : 0);
  }

  /** Sends one attempt and returns how it went, as the payload to record. */
  async attempt(spec: ActiveSubscription, e: RecordedEvent, attempt: number): Promise<WebhookDeliveryAttemptedPayload> {
    const started = Date.now();
    let httpStatus: number | null = null;
    let error: string | null = null;
    const problems = urlProblems(spec.url, this.config.allowedHosts);
    let secret = this.secrets.get(spec.subscriptionId) ?? null;
    if (!secret) {
      secret = await getSecret(this.sql, spec.subscriptionId);
      if (secret) this.secrets.set(spec.subscriptionId, secret);
    }
    if (problems.length) error = problems.join('; ');
    else if (!secret) error = 'the subscription has no signing secret';
    else {
      const body = deliveryBody(spec.subscriptionId, e);
      const t0 = performance.now();
      try {
        const res = await fetch(spec.url, {
          method: 'POST',
          headers: deliveryHeaders(secret, spec.subscriptionId, e, attempt, body, Date.now()),
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.config.timeoutMs),
        });
        httpStatus = res.status;
        await res.body?.cancel().catch(() => undefined);
        if (!accepted(res.status)) error = `receiver answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        error =
          (err as Error).name === 'TimeoutError'
            ? `no answer within ${this.config.timeoutMs} ms`
            : `could not reach the receiver: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
      }
      this.metrics.webhookRequestDurationSeconds.observe((performance.now() - t0) / 1000);
    }
    const now = Date.now();
    const ok = error === null && accepted(httpStatus);
    const { outcome, nextAttemptAtMs } = attemptOutcome(ok, attempt, this.config.retry, now, Math.random());
    this.metrics.webhookDeliveryAttemptsTotal.inc({ outcome });
    if (ok) this.metrics.webhookDeliveryDelaySeconds.observe(Math.max(0, (now - Date.parse(e.recordedAt)) / 1000));
    if (outcome === 'dead_lettered') {
      this.logger.warn(`webhook ${spec.subscriptionId}: ${e.type} ${e.id} dead-lettered after ${attempt} attempts (${error}); the subscription is failing and the delivery will be retried`);
    }
    return {
      subscriptionId: spec.subscriptionId,
      eventId: e.id,
      eventType: e.type,
      eventPosition: e.position.toString(),
      attempt,
      outcome,
      httpStatus,
      error: error?.slice(0, 2000) ?? null,
      durationMs: Math.max(0, now - started),
      attemptedAt: new Date(started).toISOString(),
      nextAttemptAt: nextAttemptAtMs === null ? null : new Date(nextAttemptAtMs).toISOString(),
    };
  }

  /** Appends the attempt to the subscription's delivery stream and returns it as recorded. */
  async record(subscriptionId: string, payload: WebhookDeliveryAttemptedPayload, expected: bigint | 'no_stream', cause: RecordedEvent): Promise<RecordedEvent> {
    const event = newEvent(WebhookDeliveryAttempted, payload, {
      correlationId: cause.metadata.correlationId,
      causationId: cause.id,
      actor: DELIVERY_ACTOR,
      tenant: cause.metadata.tenant,
    });
    const stream = deliveryStreamId(subscriptionId);
    const r = await this.store.append(stream, [event], expected);
    return { ...event, streamId: stream, revision: r.nextRevision, position: r.position, contentHash: '', prevHash: '', hash: '' };
  }

  /** Subscriptions with a running worker (for tests and status). */
  activeSubscriptionIds(): string[] {
    return [...this.workers.keys()];
  }
}
