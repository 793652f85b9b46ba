// The one way anything is written to the log: read one stream, fold it, decide, append with the
// expected revision. Every command uses it: the saga's steps, the circuit breaker, flag raising,
// operator commands over REST and API-key issuance from REST and the CLI.
//
// The retry rule: when another writer got there first (WrongExpectedRevisionError), the stream
// is read and the command decided again, `retries` times (default once); then the caller gets a
// ConcurrentCommandError. The saga passes 0: a step that lost the race was taken by someone else,
// and its I/O (a signature, a send) must never be redone blindly.
//
// A command may carry a deterministic event id (from its Idempotency-Key or a derived flag id):
// if that event is already in the stream the command was done before, and its record is
// returned instead of deciding again.
import type { EventMetadata, ExpectedRevision, NewEvent, RecordedEvent } from './envelope.js';
import type { EventStore } from './event-store.port.js';
import { WrongExpectedRevisionError } from './errors.js';

/** What a command recorded: enough to read the event back from the log. */
export interface CommandReceipt {
  eventId: string;
  type: string;
  streamId: string;
  /** Revision of the event in its stream (decimal string). */
  revision: string;
  /** Global position of the event (decimal string). */
  position: string;
  recordedAt: string;
  actor: string;
}

/** Who issued a command and under which request; the metadata of the events it writes. */
export interface CommandContext {
  actor: string;
  correlationId: string;
  /** Deterministic event id for an idempotent command; a random one otherwise. */
  eventId?: string;
}

/** Two writers kept changing the stream under us; the caller may simply retry. */
export class ConcurrentCommandError extends Error {
  readonly code = 'CONCURRENT_COMMAND';
  constructor(readonly streamId: string) {
    super(`stream "${streamId}" changed while the command was being decided; retry the request`);
    this.name = 'ConcurrentCommandError';
  }
}

export function commandMetadata(ctx: CommandContext): EventMetadata {
  return { correlationId: ctx.correlationId, causationId: null, actor: ctx.actor, tenant: 'default' };
}

/** The one deterministic UUID (src/shared/ids.ts), re-exported for the command handlers. */
export { deterministicUuid } from '../shared/ids.js';

function receiptOf(e: { id: string; type: string; recordedAt: string; metadata: EventMetadata }, streamId: string, revision: bigint, position: bigint): CommandReceipt {
  return { eventId: e.id, type: e.type, streamId, revision: revision.toString(), position: position.toString(), recordedAt: e.recordedAt, actor: e.metadata.actor };
}

export interface DecideAndAppendOptions<S> {
  streamId: string;
  fold: (events: RecordedEvent[]) => S;
  /**
   * The events to append (none: nothing to do), or the error to throw (a refusal the API turns
   * into a 4xx). Pure deciders are called from here; the saga's shell performs its step's I/O
   * here first and hands the results to its decider.
   */
  decide: (state: S) => NewEvent[] | Error | Promise<NewEvent[] | Error>;
  /** Deterministic id of the (single) event an idempotent command writes. */
  eventId?: string;
  /** Reload-and-decide-again attempts after a concurrent write; default 1. */
  retries?: number;
  /**
   * The stream's state and revision as the caller already has them (first attempt only): no read.
   * A caller that folded the stream itself, or that wrote its last event, passes them; a stale
   * one costs nothing but a WrongExpectedRevisionError at the append (then the stream is read).
   * Not with `eventId` (whose check needs the stream's events).
   */
  known?: { state: S; revision: bigint };
  /**
   * Folds the decided events onto the state before anything is written, so a decider's
   * impossible transition throws and nothing is appended; `state` in the result is then the
   * state after the append.
   */
  evolve?: (state: S, event: NewEvent & { streamId: string; revision: bigint }) => S;
}

export interface Appended<S> {
  /** The folded state: after the decided events when `evolve` is given, before them otherwise. */
  state: S;
  /** One per event appended (or found, for an idempotent repeat); empty when nothing was decided. */
  receipts: CommandReceipt[];
  /** Global position of the last event written or found; 0n when nothing was decided. */
  position: bigint;
}

export async function decideAndAppend<S>(store: EventStore, opts: DecideAndAppendOptions<S>): Promise<Appended<S>> {
  const eventId = opts.eventId?.toLowerCase();
  const retries = opts.retries ?? 1;
  if (eventId && opts.known) throw new Error('decideAndAppend: an idempotent command (eventId) reads its stream; it takes no known state');
  for (let attempt = 0; ; attempt++) {
    let state: S;
    let head: bigint;
    if (attempt === 0 && opts.known) {
      ({ state, revision: head } = opts.known);
    } else {
      const events = await store.readStream(opts.streamId);
      state = opts.fold(events);
      head = events.length ? events[events.length - 1].revision : -1n;
      if (eventId) {
        const done = events.find((e) => e.id === eventId);
        if (done) return { state, receipts: [receiptOf(done, opts.streamId, done.revision, done.position)], position: done.position };
      }
    }
    const decided = await opts.decide(state);
    if (decided instanceof Error) throw decided;
    if (!decided.length) return { state, receipts: [], position: 0n };
    if (eventId && decided.length !== 1) throw new Error(`an idempotent command writes exactly one event (got ${decided.length})`);
    const toWrite = eventId ? [{ ...decided[0], id: eventId }] : decided;
    const expected: ExpectedRevision = head < 0n ? 'no_stream' : head;
    const { evolve } = opts;
    const after = evolve ? toWrite.reduce((acc, e, i) => evolve(acc, { ...e, streamId: opts.streamId, revision: head + 1n + BigInt(i) }), state) : state;
    try {
      const r = await store.append(opts.streamId, toWrite, expected);
      if (r.duplicate && eventId) {
        // A concurrent duplicate wrote it first: answer with the stored event, not our copy.
        const [stored] = await store.readStream(opts.streamId, { fromRevision: r.nextRevision, maxCount: 1 });
        if (stored?.id === eventId) return { state: after, receipts: [receiptOf(stored, opts.streamId, stored.revision, stored.position)], position: stored.position };
      }
      const first = r.nextRevision - BigInt(toWrite.length - 1);
      const receipts = toWrite.map((e, i) => receiptOf(e, opts.streamId, first + BigInt(i), r.positions[i]));
      return { state: after, receipts, position: r.position };
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      if (attempt >= retries) throw new ConcurrentCommandError(opts.streamId);
    }
  }
}

/** decideAndAppend for a command that writes one event and answers with its receipt. */
export async function decideAndAppendOne<S>(
  store: EventStore,
  opts: Omit<DecideAndAppendOptions<S>, 'decide'> & { decide: (state: S) => NewEvent | Error },
): Promise<CommandReceipt> {
  const { receipts } = await decideAndAppend(store, { ...opts, decide: (s) => {
    const out = opts.decide(s);
    return out instanceof Error ? out : [out];
  } });
  return receipts[0] as CommandReceipt;
}
