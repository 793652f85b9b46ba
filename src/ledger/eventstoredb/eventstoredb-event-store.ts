// The event store on EventStoreDB (gRPC, @eventstore/db-client 6.x). EventStoreDB keeps the
// streams, revisions, the global order ($all) and optimistic concurrency; this adapter adds what
// the port promises on top of it: the envelope in event metadata, the per-stream hash chain,
// re-appends reported as duplicates, and the port's typed errors.
// How positions, the chain and idempotency map onto EventStoreDB, and the limits:
// docs/decisions/0003-eventstoredb-adapter.md.
import {
  AccessDeniedError,
  BACKWARDS,
  CancelledError,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Direction,
  type Filter,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import { redact } from '../../config/config.js';
import type { AppendResult, ExpectedRevision, NewEvent, ReadAllFilter, RecordedEvent } from '../envelope.js';
import {
  EventStoreUnavailableError,
  IdempotencyConflictError,
  InvalidEventError,
  WrongExpectedRevisionError,
} from '../errors.js';
import type { EventTypeRegistry } from '../event-types.js';
import {
  checkAppend,
  type AppendOptions,
  type EventStore,
  type LogHead,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port.js';
import { chainHash, contentHash, GENESIS_HASH, logChainHash } from '../hash-chain.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventStoreDbOptions {
  /**
   * How many of a stream's newest events an append looks through for its own event ids (on top
   * of the append's size). EventStoreDB has no index by event id, so a retried append whose
   * events sit deeper in the stream than this is not recognised (see the decision note).
   */
  idempotencyWindow?: number;
  /** Attempts for an `any`/`exists` append that keeps losing the race for the stream's head. */
  maxAppendAttempts?: number;
  /** First pause before a dropped subscription reconnects (doubles up to 5 s). */
  resubscribeDelayMs?: number;
  /**
   * Extra tries of an append that failed because the server was unreachable or the answer was
   * lost (first pause 100 ms, doubling). Safe: each try re-reads the stream and finds the ids of
   * a write that did land, which then comes back as a duplicate instead of being written twice.
   */
  unavailableRetries?: number;
}

/** The part of a client record the adapter reads (JSON and binary events alike). */
interface EsdbRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  isJson: boolean;
  created: Date;
  position?: Position;
}

/** What the adapter stores in an event's metadata: the envelope and the chain. */
interface StoredMetadata {
  correlationId: string;
  causationId: string | null;
  actor: string;
  tenant: string;
  recordedAt: string;
  schemaVersion: number;
  contentHash: string;
  prevHash: string;
  hash: string;
  /** Read by EventStoreDB's system projections ($by_correlation_id). */
  $correlationId: string;
  $causationId?: string;
}

const HASH_RE = /^[0-9a-f]{64}$/;
const DEFAULT_WINDOW = 100;
const DEFAULT_ATTEMPTS = 8;

export class EventStoreDbEventStore implements EventStore {
  readonly name = 'eventstoredb';
  /** The connection string with its password hidden, for messages. */
  readonly where: string;
  private readonly window: number;
  private readonly maxAttempts: number;
  private readonly resubscribeDelayMs: number;
  private readonly unavailableRetries: number;
  private readonly subscriptions = new Set<Subscription>();
  /** The global chain as far as this process has computed it (position -1n: nothing yet). */
  private chained: LogHead = { position: -1n, hash: GENESIS_HASH };
  /**
   * EventStoreDB keeps no Arbiter bookkeeping: positions are byte offsets (not dense) and a
   * stream's head is the stream itself. verify checks the chains and the seals only.
   */
  readonly bookkeeping = null;

  constructor(
    private readonly client: EventStoreDBClient,
    readonly registry: EventTypeRegistry,
    url: string,
    options: EventStoreDbOptions = {},
  ) {
    this.where = redact(url);
    this.window = Math.max(0, Math.floor(options.idempotencyWindow ?? DEFAULT_WINDOW));
    this.maxAttempts = Math.max(1, Math.floor(options.maxAppendAttempts ?? DEFAULT_ATTEMPTS));
    this.resubscribeDelayMs = Math.max(1, options.resubscribeDelayMs ?? 250);
    this.unavailableRetries = Math.max(0, Math.floor(options.unavailableRetries ?? 3));
  }

  /**
   * Creates the client; it connects on first use, so a server that is down shows up as
   * EventStoreUnavailableError on the first call rather than here (and the client reconnects
   * by itself once the server is back).
   */
  static async connect(url: string, registry: EventTypeRegistry, options: EventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
    // KurrentDB (the renamed EventStoreDB) speaks the same gRPC protocol; this client only
    // parses the esdb schemes.
    const normalised = url.trim().replace(/^(?:kurrentdb|kdb)(\+discover)?:\/\//i, (_m, discover?: string) => `esdb${discover ?? ''}://`);
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(normalised);
    } catch (err) {
      const password = /\/\/[^:/@]+:([^@]*)@/.exec(url)?.[1];
      let detail = err instanceof Error ? err.message : String(err);
      if (password) detail = detail.split(password).join('***');
      throw new Error(`EventStoreDB connection string "${redact(url)}" is invalid: ${detail}`, { cause: err });
    }
    return new EventStoreDbEventStore(client, registry, url, options);
  }

  /** The 6.x client has no cross-stream condition on an append (docs/decisions/0011). */
  readonly supportsFence = false;

  async append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    const checked = checkAppend(this.registry, streamId, events, expected, options);
    if (options.fence) {
      // Never pretend: an append asked to be fenced that cannot be is refused, not written unfenced.
      throw new InvalidEventError(
        'EventStoreDB cannot check a fence within an append (no cross-stream condition in its protocol); the engine on EventStoreDB runs unfenced only with ENGINE_HA_ALLOW_UNFENCED=true',
      );
    }
    // When the answer is lost the write may or may not have landed; the next try reads the
    // stream first and reports one that did as a duplicate (the ids decide), never writing twice.
    return this.retrying(() => this.appendChecked(streamId, checked, expected));
  }

  private async appendChecked(streamId: string, checked: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const contents = checked.map((e) => contentHash({ ...e, streamId }));
    let lastRev = -1n;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      // One read gives the head (revision and hash to chain from) and the recent event ids.
      const tail = await this.readRecordsOnce(streamId, BACKWARDS, END, checked.length + this.window);
      const head = tail[0];
      lastRev = head ? head.revision : -1n;

      const known = new Map<string, EsdbRecord>();
      for (const r of tail) known.set(r.id.toLowerCase(), r);
      if (expected === 'no_stream' || typeof expected === 'bigint') {
        // A retry with an exact expectation would have landed right after it: look there too,
        // even when that slot is older than the window.
        const after = expected === 'no_stream' ? -1n : expected;
        const oldest = tail.length ? tail[tail.length - 1].revision : 0n;
        if (lastRev > after && after + 1n < oldest) {
          for (const r of await this.readRecordsOnce(streamId, FORWARDS, after + 1n, checked.length)) known.set(r.id.toLowerCase(), r);
        }
      }
      const duplicate = this.duplicateOf(streamId, checked, known);
      if (duplicate) return duplicate;

      if (
        (expected === 'no_stream' && lastRev !== -1n) ||
        (expected === 'exists' && lastRev === -1n) ||
        (typeof expected === 'bigint' && expected !== lastRev)
      ) {
        throw new WrongExpectedRevisionError(streamId, expected, lastRev);
      }

      // The chain is computed here, from the head just read, so the write must land exactly on
      // that head: EventStoreDB is told the revision we read even when the caller said `any` or
      // `exists`. A concurrent writer therefore makes this write fail instead of forking the
      // chain; for `any`/`exists` we then read the new head and try again.
      let prev = head ? this.hashOf(head) : GENESIS_HASH;
      const proposed = checked.map((e, i) => {
        const revision = lastRev + 1n + BigInt(i);
        const hash = chainHash(prev, revision, contents[i]);
        const metadata: StoredMetadata = {
          correlationId: e.metadata.correlationId,
          causationId: e.metadata.causationId,
          actor: e.metadata.actor,
          tenant: e.metadata.tenant,
          recordedAt: e.recordedAt,
          schemaVersion: e.version,
          contentHash: contents[i],
          prevHash: prev,
          hash,
          $correlationId: e.metadata.correlationId,
          ...(e.metadata.causationId !== null ? { $causationId: e.metadata.causationId } : {}),
        };
        prev = hash;
        return jsonEvent({ id: e.id, type: e.type, data: e.payload as JSONType, metadata });
      });

      try {
        const result = await this.client.appendToStream(streamId, proposed, {
          expectedRevision: lastRev < 0n ? NO_STREAM : lastRev,
        });
        const nextRevision = result.nextExpectedRevision;
        // The append reply's position is the write's, not each event's: read the events back for
        // the exact positions a reader will see.
        const written = await this.readRecordsOnce(streamId, FORWARDS, nextRevision - BigInt(checked.length - 1), checked.length);
        const positions = written.map((r) => r.position?.commit ?? result.position?.commit ?? 0n);
        return { nextRevision, position: positions.at(-1) ?? result.position?.commit ?? 0n, positions, duplicate: false };
      } catch (err) {
        if (!(err instanceof WrongExpectedVersionError)) throw this.mapError(err);
        // Someone else wrote to the stream between our read and our write. The next round
        // reads the new head: for no_stream or a revision that ends in a duplicate (the other
        // writer was this same append) or a WrongExpectedRevisionError; for any/exists it
        // chains onto the new head.
        if (expected === 'any' || expected === 'exists') await sleep(Math.random() * 5 * attempt);
      }
    }
    const [head] = await this.readRecordsOnce(streamId, BACKWARDS, END, 1);
    throw new WrongExpectedRevisionError(streamId, expected, head ? head.revision : lastRev);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    const maxCount = options.maxCount === undefined ? undefined : Math.floor(options.maxCount);
    if (maxCount !== undefined && !(maxCount > 0)) return [];
    let from: ReadRevision = backward ? END : START;
    if (options.fromRevision !== undefined) {
      if (options.fromRevision < 0n) {
        if (backward) return [];
      } else {
        from = options.fromRevision;
      }
    }
    const records = await this.readRecords(streamId, backward ? BACKWARDS : FORWARDS, from, maxCount);
    return records.map((r) => this.toRecorded(r, undefined, options.raw));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const limit = Math.max(1, Math.min(Math.floor(options.maxCount ?? 1000), 100_000));
    const matches = matcher(options.filter);
    // The client (6.x) cannot filter $all reads on the server, so filtered reads page through
    // the log and filter here; subscriptions do filter on the server.
    const pageSize = options.filter ? Math.max(limit, 1000) : limit + 1;
    const out: RecordedEvent[] = [];
    // Positions are commit positions; reading from one includes the event at it, hence the
    // cursor (0n means "from the start", which includes an event at position 0).
    let cursor = after === 0n ? -1n : after;
    let from: ReadPosition = after === 0n ? START : { commit: after, prepare: after };
    for (;;) {
      const page = await this.readAllPage(from, pageSize, FORWARDS);
      const before = cursor;
      for (const r of page.records) {
        const p = positionOf(r);
        if (p <= cursor) continue;
        cursor = p;
        if (isSystem(r) || !matches(r)) continue;
        out.push(this.toRecorded(r, p, options.raw));
        if (out.length >= limit) return out;
      }
      if (page.count < pageSize || cursor === before) return out;
      from = { commit: cursor, prepare: cursor };
    }
  }

  async headPosition(): Promise<bigint> {
    const pageSize = 100;
    let from: ReadPosition = END;
    let cursor: bigint | null = null;
    for (;;) {
      const page = await this.readAllPage(from, pageSize, BACKWARDS);
      const before: bigint | null = cursor;
      for (const r of page.records) {
        const p = positionOf(r);
        if (cursor !== null && p >= cursor) continue;
        cursor = p;
        if (!isSystem(r)) return p;
      }
      if (page.count < pageSize || cursor === null || cursor === before) return 0n;
      from = { commit: cursor, prepare: cursor };
    }
  }

  /**
   * The global chain is not stored on EventStoreDB (appends to different streams do not
   * serialise, so no writer knows the previous global event): it is computed here over $all,
   * whose order is the log order, and extended from where this process last computed it.
   */
  async logHead(): Promise<LogHead> {
    let { position, hash } = this.chained;
    for (;;) {
      const page = await this.readAll({ after: position < 0n ? 0n : position, maxCount: 1000, raw: true });
      const fresh = page.filter((e) => e.position > position);
      if (!fresh.length) break;
      for (const e of fresh) {
        hash = logChainHash(hash, e.position, e.hash);
        position = e.position;
      }
    }
    this.chained = { position, hash };
    return { position: position < 0n ? 0n : position, hash };
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    const matches = matcher(options.filter);
    const filter = serverFilter(options.filter);
    let position = options.after ?? 0n;
    // Last position seen (delivered or skipped): where a reconnect resumes.
    let cursor = position === 0n ? -1n : position;
    let stopped = false;
    let current: AllStreamSubscription | null = null;
    let wake: (() => void) | null = null;

    const run = async (): Promise<void> => {
      let failures = 0;
      while (!stopped) {
        const from: ReadPosition = cursor < 0n ? START : { commit: cursor, prepare: cursor };
        const sub = this.client.subscribeToAll({ fromPosition: from, filter }, { highWaterMark: Math.max(16, batchSize) });
        current = sub;
        try {
          for await (const first of sub as AsyncIterable<AllStreamResolvedEvent>) {
            if (stopped) break;
            // Take whatever else is already buffered, up to a batch, so catch-up is delivered
            // in batches rather than one callback per event.
            const raw: AllStreamResolvedEvent[] = [first];
            let more: AllStreamResolvedEvent | null;
            while (raw.length < batchSize && (more = sub.read() as AllStreamResolvedEvent | null) !== null) raw.push(more);
            let batch: RecordedEvent[];
            try {
              batch = [];
              for (const resolved of raw) {
                const r = resolved.event;
                if (!r) continue;
                const p = positionOf(r);
                if (p <= cursor) continue;
                cursor = p;
                if (isSystem(r) || !matches(r)) continue;
                batch.push(this.toRecorded(r, p));
              }
              if (batch.length && !stopped) {
                await options.onEvents(batch);
                position = batch[batch.length - 1].position;
              }
            } catch (err) {
              throw new DeliveryFailed(err);
            }
            failures = 0;
          }
          // The server ended the subscription (or the client was closed): go round again.
          if (!stopped) await pause(this.resubscribeDelayMs, (w) => (wake = w));
        } catch (err) {
          if (stopped) break;
          if (err instanceof DeliveryFailed) {
            // The consumer (or an event it cannot read) failed: stop, like the PostgreSQL adapter.
            options.onError?.(asError(err.failure));
            stopped = true;
            break;
          }
          options.onError?.(asError(this.mapError(err)));
          failures++;
          await pause(Math.min(5000, this.resubscribeDelayMs * 2 ** (failures - 1)), (w) => (wake = w));
        } finally {
          current = null;
          await sub.unsubscribe().catch(() => undefined);
          sub.destroy();
        }
      }
    };

    const done = run().catch((err) => options.onError?.(asError(err)));
    const subscription: Subscription = {
      get position() {
        return position;
      },
      stop: async () => {
        stopped = true;
        wake?.();
        const sub = current;
        if (sub) {
          await sub.unsubscribe().catch(() => undefined);
          // Ends the iteration even if the cancelled gRPC call never ends the stream.
          sub.destroy();
        }
        await done;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }

  /** Reads a stream fully (bounded by maxCount); a stream that does not exist reads as empty. */
  private async readRecords(streamId: string, direction: Direction, fromRevision: ReadRevision, maxCount?: number): Promise<EsdbRecord[]> {
    return this.retrying(() => this.readRecordsOnce(streamId, direction, fromRevision, maxCount));
  }

  private async readRecordsOnce(streamId: string, direction: Direction, fromRevision: ReadRevision, maxCount?: number): Promise<EsdbRecord[]> {
    const out: EsdbRecord[] = [];
    try {
      const read = this.client.readStream(streamId, { direction, fromRevision, ...(maxCount !== undefined ? { maxCount } : {}) });
      for await (const resolved of read) if (resolved.event) out.push(resolved.event);
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw this.mapError(err);
    }
    return out;
  }

  /** One page of $all, read to its end (so no gRPC call is left open). */
  private async readAllPage(fromPosition: ReadPosition, maxCount: number, direction: Direction): Promise<{ records: EsdbRecord[]; count: number }> {
    return this.retrying(() => this.readAllPageOnce(fromPosition, maxCount, direction));
  }

  /** Reads are safe to repeat: a read cut mid-way, or refused by an unreachable server, is tried again from its start. */
  private async retrying<T>(read: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await read();
      } catch (err) {
        if (!(err instanceof EventStoreUnavailableError) || retry >= this.unavailableRetries) throw err;
        await sleep(100 * 2 ** retry);
      }
    }
  }

  private async readAllPageOnce(fromPosition: ReadPosition, maxCount: number, direction: Direction): Promise<{ records: EsdbRecord[]; count: number }> {
    const records: EsdbRecord[] = [];
    let count = 0;
    try {
      for await (const resolved of this.client.readAll({ fromPosition, maxCount, direction, resolveLinkTos: false })) {
        count++;
        if (resolved.event) records.push(resolved.event);
      }
    } catch (err) {
      throw this.mapError(err);
    }
    return { records, count };
  }

  /** A duplicate result when every id is already in the stream, in order; a conflict when only some are. */
  private duplicateOf(streamId: string, events: NewEvent[], known: Map<string, EsdbRecord>): AppendResult | null {
    const hits = events.map((e) => known.get(e.id));
    const found = hits.filter((h): h is EsdbRecord => h !== undefined);
    if (found.length === 0) return null;
    const first = hits[0];
    const inOrder = found.length === events.length && first !== undefined && hits.every((h, i) => h!.revision === first.revision + BigInt(i));
    if (!inOrder) {
      throw new IdempotencyConflictError(
        streamId,
        found.length === events.length
          ? `all ${events.length} event ids already exist, but not as one append in this order`
          : `${found.length} of ${events.length} event ids already exist`,
      );
    }
    const last = found[found.length - 1];
    const positions = found.map((r) => r.position?.commit ?? 0n);
    return { nextRevision: last.revision, position: positions[positions.length - 1], positions, duplicate: true };
  }

  private hashOf(head: EsdbRecord): string {
    const hash = asObject(head.metadata).hash;
    if (typeof hash !== 'string' || !HASH_RE.test(hash)) {
      throw new InvalidEventError(
        `stream "${head.streamId}" ends with event ${head.id} (revision ${head.revision}) that has no Arbiter hash in its metadata: ` +
          'it was written by something other than Arbiter, so the hash chain cannot continue from it',
      );
    }
    return hash;
  }

  /** Maps a stored record to the envelope; records not written by Arbiter get empty fields rather than failing the read. */
  private toRecorded(r: EsdbRecord, position?: bigint, raw = false): RecordedEvent {
    const m = asObject(r.metadata);
    const text = (v: unknown): string => (typeof v === 'string' ? v : '');
    const version = typeof m.schemaVersion === 'number' && Number.isSafeInteger(m.schemaVersion) && m.schemaVersion >= 1 ? m.schemaVersion : 1;
    const recorded: RecordedEvent = {
      id: r.id.toLowerCase(),
      type: r.type,
      version,
      streamId: r.streamId,
      revision: r.revision,
      position: position ?? r.position?.commit ?? 0n,
      recordedAt: typeof m.recordedAt === 'string' ? m.recordedAt : r.created.toISOString(),
      metadata: {
        correlationId: text(m.correlationId),
        causationId: typeof m.causationId === 'string' ? m.causationId : null,
        actor: text(m.actor),
        tenant: text(m.tenant),
      },
      payload: r.isJson ? r.data : Buffer.from(r.data as Uint8Array).toString('base64'),
      contentHash: text(m.contentHash),
      prevHash: text(m.prevHash),
      hash: text(m.hash),
    };
    return raw ? recorded : this.registry.upcast(recorded);
  }

  /** Maps client failures to the port's errors; anything else passes through unchanged. */
  private mapError(err: unknown): unknown {
    if (err instanceof MaxAppendSizeExceededError) {
      return new InvalidEventError(
        `the append is larger than EventStoreDB's maximum append size (${err.maxAppendSize} bytes): split it into smaller appends or raise MaxAppendSize on the server`,
      );
    }
    if (err instanceof AccessDeniedError) {
      return new Error(
        `EventStoreDB at ${this.where} denied access: check the credentials in the connection string (the user must be able to read $all and write the streams)`,
        { cause: err },
      );
    }
    // Without a connection the client fails with a plain gRPC error (code 14 UNAVAILABLE, 4
    // DEADLINE_EXCEEDED) on some calls and a typed error on others.
    const code = (err as { code?: unknown } | null)?.code;
    if (
      err instanceof UnavailableError ||
      err instanceof DeadlineExceededError ||
      err instanceof TimeoutError ||
      err instanceof NotLeaderError ||
      err instanceof CancelledError ||
      code === 14 ||
      code === 4
    ) {
      const detail = err instanceof Error && err.message ? `: ${err.message}` : '';
      return new EventStoreUnavailableError(
        `EventStoreDB at ${this.where} is unavailable${detail}. An append that failed this way may or may not have been written; retrying it with the same event ids is safe.`,
        { cause: err },
      );
    }
    return err;
  }
}

/** Marks a failure of the consumer (or of reading an event for it), as opposed to the connection. */
class DeliveryFailed extends Error {
  constructor(readonly failure: unknown) {
    super('subscriber failed');
  }
}

function positionOf(r: EsdbRecord): bigint {
  return r.position?.commit ?? -1n;
}

/** EventStoreDB's own events: system streams and types start with `$` (Arbiter's never do). */
function isSystem(r: EsdbRecord): boolean {
  return r.streamId.startsWith('$') || r.type.startsWith('$');
}

function matcher(filter: ReadAllFilter | undefined): (r: EsdbRecord) => boolean {
  const types = filter?.eventTypes?.length ? new Set(filter.eventTypes) : null;
  const prefix = filter?.streamPrefix || null;
  return (r) => (!types || types.has(r.type)) && (!prefix || r.streamId.startsWith(prefix));
}

/** The server narrows by one criterion; `matcher` re-checks both (and exact type names) here. */
function serverFilter(filter: ReadAllFilter | undefined): Filter {
  if (filter?.streamPrefix) return streamNameFilter({ prefixes: [filter.streamPrefix] });
  if (filter?.eventTypes?.length) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$` });
  }
  return excludeSystemEvents();
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {};
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}


/** A sleep that `stop()` can cut short. */
function pause(ms: number, setWake: (wake: (() => void) | null) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      setWake(null);
      resolve();
    }
    setWake(done);
  });
}
