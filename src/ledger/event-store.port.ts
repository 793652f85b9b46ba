// The event store port. Adapters: PostgreSQL (also on PGlite) in ./postgres, EventStoreDB in
// ./eventstoredb. One contract suite (test/contract) holds every adapter to the same behaviour.
import type { AppendResult, ExpectedRevision, NewEvent, ReadAllFilter, RecordedEvent } from './envelope.js';
import type { EventTypeRegistry } from './event-types.js';
import type { SqlClient, SqlExecutor } from '../shared/sql/sql-client.js';
import { InvalidEventError } from './errors.js';
import { UUID_RE } from './schema.js';

export const EVENT_STORE = Symbol('EVENT_STORE');

export interface ReadStreamOptions {
  direction?: 'forward' | 'backward';
  /** Inclusive; defaults to the start (forward) or the end (backward). */
  fromRevision?: bigint;
  maxCount?: number;
  /** Return events as stored, without upcasting (for hash verification). */
  raw?: boolean;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. 0n (default) = from the beginning. */
  after?: bigint;
  maxCount?: number;
  filter?: ReadAllFilter;
  /** Return events as stored, without upcasting (for hash verification). */
  raw?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: delivery starts after this position (0n = from the beginning). */
  after?: bigint;
  filter?: ReadAllFilter;
  /** Called in order, one batch at a time; the next batch waits for the returned promise. */
  onEvents: (events: RecordedEvent[]) => Promise<void> | void;
  /**
   * A read failed (e.g. the database is away): delivery goes on from the last delivered position
   * once the log can be read again. Also called, last, when onEvents threw: that ends delivery.
   */
  onError?: (err: Error) => void;
  /** Catch-up page size. */
  batchSize?: number;
}

export interface Subscription {
  /** Resolves when delivery has stopped (no callback runs after). */
  stop(): Promise<void>;
  /** Position of the last event delivered. */
  readonly position: bigint;
}

/** The head of the global hash chain: the newest event's position and its log hash. */
export interface LogHead {
  /** 0n for an empty log. */
  position: bigint;
  /** GENESIS_HASH for an empty log. */
  hash: string;
}

/** A store's own record of where one stream ends (PostgreSQL: the event_streams row). */
export interface StreamHead {
  streamId: string;
  revision: bigint;
  hash: string;
  position: bigint;
}

/**
 * What a store keeps beside the events that `verify` can hold the events to. PostgreSQL keeps
 * all of it; EventStoreDB keeps none (its positions are byte offsets, its stream heads are the
 * streams themselves), so there verify relies on the chains and the seals alone.
 */
export interface StoreBookkeeping {
  /** Positions are 1, 2, 3, … with no gap: a gap is a removed event. */
  readonly contiguousPositions: boolean;
  /** The log head as the store records it (PostgreSQL: event_log_head). */
  recordedLogHead(): Promise<LogHead>;
  /** The store's stream heads in stream id order, after `after` (exclusive), at most maxCount. */
  streamHeads(options: { after?: string; maxCount: number }): Promise<StreamHead[]>;
  /** One stream's head as recorded, or null when the store has no record of the stream. */
  streamHead(streamId: string): Promise<StreamHead | null>;
}

export interface EventStore {
  readonly name: string;
  readonly registry: EventTypeRegistry;
  /** All or nothing. Throws WrongExpectedRevisionError, IdempotencyConflictError, InvalidEventError. */
  append(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** One page of the global log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch up from the checkpoint, then follow live appends. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Position of the newest event in the log (0n when empty). */
  headPosition(): Promise<bigint>;
  /** The global hash chain's head (what a seal signs). */
  logHead(): Promise<LogHead>;
  /** The store's own bookkeeping for verify, or null when it keeps none. */
  readonly bookkeeping: StoreBookkeeping | null;
  /**
   * When this store keeps its events in the database of `sql`: a reader of the log through `tx`,
   * a transaction open on that database. Code that reads the log inside its own transaction must
   * use it: on PGlite (one connection) a read outside the open transaction waits for it forever.
   * Null (or absent) for a store elsewhere (EventStoreDB).
   */
  readerWithin?(sql: SqlClient, tx: SqlExecutor): LogReader | null;
  close(): Promise<void>;
}

/** What reading the global log needs. */
export type LogReader = Pick<EventStore, 'readAll' | 'headPosition'>;

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@$-]{0,199}$/;

/** Edge checks shared by every adapter; returns the events with ids normalised to lower case. */
export function checkAppend(registry: EventTypeRegistry, streamId: string, events: NewEvent[], expected: ExpectedRevision): NewEvent[] {
  if (typeof streamId !== 'string' || !STREAM_ID.test(streamId)) {
    throw new InvalidEventError(
      `stream id "${String(streamId)}" is invalid: use 1–200 letters, digits and _ . : @ $ -, starting with a letter or digit`,
    );
  }
  if (!Array.isArray(events) || events.length === 0) throw new InvalidEventError(`append to "${streamId}" has no events`);
  if (events.length > 10_000) throw new InvalidEventError(`append to "${streamId}" has ${events.length} events; at most 10000 per append`);
  if (!(expected === 'any' || expected === 'no_stream' || expected === 'exists' || (typeof expected === 'bigint' && expected >= 0n))) {
    throw new InvalidEventError(`expected revision must be any, no_stream, exists or a revision ≥ 0 (got ${String(expected)})`);
  }
  const seen = new Set<string>();
  return events.map((e) => {
    const id = typeof e.id === 'string' ? e.id.toLowerCase() : '';
    if (!UUID_RE.test(id)) throw new InvalidEventError(`event id "${String(e.id)}" is not a UUID`);
    if (seen.has(id)) throw new InvalidEventError(`event id ${id} appears twice in one append`);
    seen.add(id);
    if (typeof e.type !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(e.type)) {
      throw new InvalidEventError(`event ${id}: type "${String(e.type)}" is invalid`);
    }
    if (!Number.isSafeInteger(e.version) || e.version < 1) throw new InvalidEventError(`event ${id}: version must be an integer ≥ 1`);
    if (typeof e.recordedAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(e.recordedAt) || Number.isNaN(Date.parse(e.recordedAt))) {
      throw new InvalidEventError(`event ${id}: recordedAt must be an ISO-8601 UTC time with milliseconds`);
    }
    const m = e.metadata;
    if (!m || typeof m.correlationId !== 'string' || !m.correlationId || typeof m.actor !== 'string' || !m.actor || typeof m.tenant !== 'string' || !m.tenant) {
      throw new InvalidEventError(`event ${id}: metadata needs correlationId, actor and tenant`);
    }
    if (m.causationId !== null && typeof m.causationId !== 'string') throw new InvalidEventError(`event ${id}: causationId must be a string or null`);
    const normalised: NewEvent = {
      ...e,
      id,
      metadata: { correlationId: m.correlationId, causationId: m.causationId ?? null, actor: m.actor, tenant: m.tenant },
    };
    registry.validate(normalised);
    return normalised;
  });
}
