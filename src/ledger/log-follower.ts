// An in-memory fold that follows the log: it starts from its latest snapshot (if any), folds the
// rest of the history of the event types it cares about, then follows live appends; callers can
// wait until a position they wrote is folded in. The risk context's engine state and the
// compliance context's screening memory are two such folds, each owning its own.
import type { Logger } from '@nestjs/common';
import type { RecordedEvent } from './envelope.js';
import type { EventStore, Subscription } from './event-store.port.js';
import type { SnapshotStore } from '../shared/sql/snapshots.js';

export interface LogFollowerOptions<T> {
  /** Name of the snapshot row; also used in log lines. */
  name: string;
  /** Bump when the fold or the snapshot's shape changes: an older snapshot is then ignored. */
  snapshotVersion: number;
  eventTypes: string[];
  /** Folds a batch, in log order. `live` is false for history that was already there at start. */
  apply: (events: RecordedEvent[], live: (e: RecordedEvent) => boolean) => Promise<void> | void;
  /** The state to keep in a snapshot, and how to take it back. */
  snapshot: () => T;
  restore: (state: T) => void;
  /** Positions between snapshots (default 5,000). */
  snapshotEvery?: bigint;
  /** Events read per page while catching up (default 5,000). */
  pageSize?: number;
}

export class LogFollower<T> {
  private position = 0n;
  private liveAfter = 0n;
  private snapshotAt = 0n;
  /** Position of the snapshot this run started from (0n: folded the whole history). */
  startedFromSnapshot = 0n;
  private sub: Subscription | null = null;
  private saving: Promise<void> | null = null;
  private started: Promise<void> | null = null;
  private readonly waiters: { target: bigint; resolve: () => void }[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly snapshots: SnapshotStore,
    private readonly opts: LogFollowerOptions<T>,
    private readonly logger: Logger,
  ) {}

  /** Position of the last event folded. */
  get at(): bigint {
    return this.position;
  }

  /** Folds the history and starts following the log; idempotent. */
  start(): Promise<void> {
    this.started ??= this.load();
    return this.started;
  }

  private async load(): Promise<void> {
    const { name, snapshotVersion, eventTypes } = this.opts;
    this.liveAfter = await this.store.headPosition();
    const snap = await this.snapshots.load<T>(name, snapshotVersion).catch((err) => {
      this.logger.warn(`${name} snapshot unreadable, folding the whole history: ${(err as Error).message}`);
      return null;
    });
    if (snap && snap.position <= this.liveAfter) {
      try {
        this.opts.restore(snap.state);
        this.position = this.snapshotAt = this.startedFromSnapshot = snap.position;
      } catch (err) {
        this.logger.warn(`${name} snapshot does not fit this version, folding the whole history: ${(err as Error).message}`);
      }
    }
    for (;;) {
      const page = await this.store.readAll({ after: this.position, maxCount: this.opts.pageSize ?? 5000, filter: { eventTypes } });
      if (!page.length) break;
      await this.fold(page);
    }
    this.sub = this.store.subscribeToAll({
      after: this.position,
      filter: { eventTypes },
      batchSize: 1000,
      onEvents: (events) => this.fold(events),
      onError: (err) => this.logger.warn(`${name}: following the log failed, retrying: ${err.message}`),
    });
  }

  private async fold(events: RecordedEvent[]): Promise<void> {
    await this.opts.apply(events, (e) => e.position > this.liveAfter);
    this.position = events[events.length - 1].position;
    if (!this.saving && this.position - this.snapshotAt >= (this.opts.snapshotEvery ?? 5_000n)) {
      this.saving = this.saveSnapshot().finally(() => (this.saving = null));
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.position >= this.waiters[i].target) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  /** Writes the current state as the snapshot; a failure only costs a longer next start. */
  private async saveSnapshot(): Promise<void> {
    const position = this.position;
    try {
      await this.snapshots.save(this.opts.name, this.opts.snapshotVersion, { position, state: this.opts.snapshot() });
      this.snapshotAt = position;
    } catch (err) {
      this.logger.warn(`could not save the ${this.opts.name} snapshot: ${(err as Error).message}`);
    }
  }

  /**
   * Resolves once the log up to `position` is folded. Only positions of the followed event types
   * are ever reached exactly; a caller passes the position of an event it appended of such a type.
   */
  /**
   * Resolves once every event this follower folds at or before `head` is folded, whatever `head`
   * is (the log's head, say, which is often an event of another kind): a new leader waits for this
   * before it decides anything.
   */
  async caughtUpThrough(head: bigint, timeoutMs = 10_000): Promise<void> {
    let last = this.position;
    let after = this.position;
    for (let pages = 0; pages < 1000 && after < head; pages++) {
      const page = await this.store.readAll({ after, maxCount: 1000, filter: { eventTypes: this.opts.eventTypes } });
      const within = page.filter((e) => e.position <= head);
      if (within.length) last = within[within.length - 1].position;
      if (page.length < 1000 || within.length < page.length) break;
      after = page[page.length - 1].position;
    }
    return this.caughtUp(last, timeoutMs);
  }

  caughtUp(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.opts.name} did not reach position ${position} within ${timeoutMs} ms (at ${this.position})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push({ target: position, resolve: done });
    });
  }

  /** Stops following and saves a last snapshot when the fold moved since the previous one. */
  async stop(): Promise<void> {
    await this.sub?.stop();
    await this.saving;
    if (this.started && this.position > this.snapshotAt) await this.saveSnapshot();
  }
}
