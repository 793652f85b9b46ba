// The live side of GraphQL: one follower of the event log per process, fanned out to the
// subscriptions of every WebSocket connection. Each subscription owns a bounded queue: a client
// that reads slower than the log grows its queue, and past the bound its subscription ends with a
// SLOW_CONSUMER error instead of buffering without limit (mercurius awaits each socket write, so
// a stalled socket stops draining the queue). The follower starts at the log's head when the
// first subscription arrives: subscriptions are for what happens next; history is a query. A
// read failure pauses the feed; it never ends it or skips an event.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { EVENT_STORE, type EventStore, type Subscription } from '../../ledger/event-store.port.js';

/** Items one subscription may hold unsent before it is dropped. */
export const SUBSCRIPTION_QUEUE_MAX = 500;
/** Subscriptions one WebSocket connection may hold at once. */
export const SUBSCRIPTIONS_PER_CONNECTION_MAX = 16;

export class SlowConsumerError extends GraphQLError {
  constructor(max: number) {
    super(`this subscription fell ${max} messages behind and was dropped; resubscribe (and read faster)`, {
      extensions: { code: 'SLOW_CONSUMER' },
    });
  }
}

/**
 * An async iterator fed by push(): at most `max` items wait; one more ends it with
 * SlowConsumerError. return() (the client unsubscribed or the socket closed) runs `onClose` once.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private done = false;

  constructor(
    private readonly max: number,
    private readonly onClose: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.done || this.failure !== null;
  }

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiting.shift();
    if (w) return w.resolve({ value: item, done: false });
    if (this.items.length >= this.max) {
      this.fail(new SlowConsumerError(this.max));
      return;
    }
    this.items.push(item);
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.failure = err;
    this.items.length = 0;
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.onClose();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.done = true;
      this.items.length = 0;
      for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

interface Listener {
  deliver(e: RecordedEvent): void;
  fail(err: Error): void;
}

@Injectable()
export class LiveFeed implements OnApplicationShutdown {
  private readonly logger = new Logger('LiveFeed');
  private readonly listeners = new Set<Listener>();
  private follower: Subscription | null = null;
  private starting: Promise<void> | null = null;
  private interrupted = false;
  private readonly perConnection = new WeakMap<object, number>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /**
   * A bounded iterator of the events that `select` maps to a value (null = skip), from now on.
   * `connection` is the per-connection object (the subscription's request) that the
   * per-connection limit is counted on.
   */
  async follow<T>(connection: object | null, select: (e: RecordedEvent) => T | null): Promise<BoundedQueue<T>> {
    const key = connection ?? {};
    const held = this.perConnection.get(key) ?? 0;
    if (held >= SUBSCRIPTIONS_PER_CONNECTION_MAX) {
      throw new GraphQLError(`a connection may hold at most ${SUBSCRIPTIONS_PER_CONNECTION_MAX} subscriptions; stop one first`, {
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      });
    }
    this.perConnection.set(key, held + 1);
    const listener: Listener = {
      deliver: (e) => {
        let v: T | null;
        try {
          v = select(e);
        } catch (err) {
          queue.fail(err as Error);
          return;
        }
        if (v !== null) queue.push(v);
      },
      fail: (err) => queue.fail(err),
    };
    const queue = new BoundedQueue<T>(SUBSCRIPTION_QUEUE_MAX, () => {
      this.listeners.delete(listener);
      this.perConnection.set(key, Math.max(0, (this.perConnection.get(key) ?? 1) - 1));
    });
    this.listeners.add(listener);
    await this.ensureFollowing();
    return queue;
  }

  /** A bounded iterator of values produced every `intervalMs` by `poll` (emitted when they change). */
  async poll<T>(connection: object | null, intervalMs: number, poll: () => Promise<T>, until: (v: T) => boolean = () => false): Promise<BoundedQueue<T>> {
    const key = connection ?? {};
    const held = this.perConnection.get(key) ?? 0;
    if (held >= SUBSCRIPTIONS_PER_CONNECTION_MAX) {
      throw new GraphQLError(`a connection may hold at most ${SUBSCRIPTIONS_PER_CONNECTION_MAX} subscriptions; stop one first`, {
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      });
    }
    this.perConnection.set(key, held + 1);
    let timer: NodeJS.Timeout | null = null;
    let last = '';
    const queue = new BoundedQueue<T>(SUBSCRIPTION_QUEUE_MAX, () => {
      if (timer) clearTimeout(timer);
      timer = null;
      this.perConnection.set(key, Math.max(0, (this.perConnection.get(key) ?? 1) - 1));
    });
    const tick = async () => {
      if (queue.closed) return;
      try {
        const v = await poll();
        const text = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
        if (text !== last) {
          last = text;
          queue.push(v);
        }
        if (until(v)) {
          // Let the last value drain, then end the iterator.
          timer = setTimeout(() => void queue.return(), intervalMs);
          return;
        }
      } catch (err) {
        queue.fail(err as Error);
        return;
      }
      if (!queue.closed) timer = setTimeout(() => void tick(), intervalMs);
    };
    await tick();
    return queue;
  }

  private ensureFollowing(): Promise<void> {
    if (this.follower) return Promise.resolve();
    this.starting ??= (async () => {
      const head = await this.store.headPosition();
      this.follower = this.store.subscribeToAll({
        after: head,
        onEvents: (events) => {
          if (this.interrupted) {
            this.interrupted = false;
            this.logger.log(`live feed resumed at position ${events[0].position}: nothing was skipped`);
          }
          for (const e of events) for (const l of [...this.listeners]) l.deliver(e);
        },
        // A failed read (the database went away): the store's subscription goes on from the
        // position it had delivered, so open subscriptions stay open and get every event they
        // missed, in order, once the log can be read again. (Delivery itself never throws here,
        // which is the one thing that would end the store's subscription.)
        onError: (err) => {
          if (this.interrupted) return;
          this.interrupted = true;
          this.logger.warn(`live feed cannot read the log (${err.message}); subscriptions stay open and resume where they were`);
        },
      });
    })().catch((err) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  async onApplicationShutdown(): Promise<void> {
    const f = this.follower;
    this.follower = null;
    this.listeners.clear();
    await f?.stop();
  }
}
